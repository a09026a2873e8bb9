#pragma once

// What every adapter's operations do the same way: know the adapter by the name and params they
// share with it, and run as a coroutine that completes the caller's handler once, on the
// adapter's executor. Internal to trimtab_adapters.

#include <exception>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>

#include <trimtab/adapters/adapter.hpp>

namespace trimtab::adapter_detail {

/// What an adapter's operations know of it, in the state they share with it (which outlives the
/// adapter while they run): its name, which starts every message, and its params.
struct AdapterIdentity {
  std::string name;
  std::vector<std::string> params;

  /// A failed result whose message names the adapter: "adapter 'cache': WHAT".
  [[nodiscard]] AdapterResult failure(boost::system::error_code error, const std::string& what) const {
    return {error, "adapter '" + name + "': " + what};
  }
};

/// What a read yields: the result and, on success, the values.
using CurrentOutcome = std::pair<AdapterResult, Settings>;

/// What an in-effect check yields: the result and, on success, what it found.
using InEffectOutcome = std::pair<AdapterResult, InEffect>;

/// Runs `operation` on `executor` and hands its result to `deliver`. The coroutines return every
/// failure as an AdapterResult, so an exception here is std::bad_alloc and goes on up.
template <class Outcome, class Deliver>
void spawn_operation(const boost::asio::any_io_executor& executor, boost::asio::awaitable<Outcome> operation,
                     Deliver deliver) {
  boost::asio::co_spawn(executor, std::move(operation),
                        [deliver = std::move(deliver)](std::exception_ptr exception, Outcome outcome) {
                          if (exception) std::rethrow_exception(exception);
                          deliver(std::move(outcome));
                        });
}

/// An apply, to its handler.
inline void spawn_apply(const boost::asio::any_io_executor& executor, boost::asio::awaitable<AdapterResult> operation,
                        Adapter::apply_handler handler) {
  spawn_operation(executor, std::move(operation),
                  [handler = std::move(handler)](AdapterResult result) { handler(std::move(result)); });
}

/// A read, to its handler.
inline void spawn_current(const boost::asio::any_io_executor& executor, boost::asio::awaitable<CurrentOutcome> operation,
                          Adapter::current_handler handler) {
  spawn_operation(executor, std::move(operation), [handler = std::move(handler)](CurrentOutcome outcome) {
    handler(std::move(outcome.first), std::move(outcome.second));
  });
}

/// An in-effect check, to its handler.
inline void spawn_in_effect(const boost::asio::any_io_executor& executor,
                            boost::asio::awaitable<InEffectOutcome> operation, Adapter::in_effect_handler handler) {
  spawn_operation(executor, std::move(operation), [handler = std::move(handler)](InEffectOutcome outcome) {
    handler(std::move(outcome.first), std::move(outcome.second));
  });
}

} // namespace trimtab::adapter_detail
