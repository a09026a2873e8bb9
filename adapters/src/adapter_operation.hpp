#pragma once

// What every adapter does the same way: read its `timeout` option, and run an apply, a read or an
// in-effect check as a coroutine that completes the caller's handler once, on the adapter's executor.

#include <chrono>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>

#include <trimtab/adapters/adapter.hpp>

namespace trimtab::adapter_detail {

/// What a read yields: the result and, on success, the values.
using CurrentOutcome = std::pair<AdapterResult, Settings>;

/// Reads the `timeout` key of `options` into `timeout` when it is there. Returns the problem
/// ("option 'timeout': …") for a value that is not a positive duration, for the caller to report
/// with its adapter's name.
[[nodiscard]] std::optional<std::string> read_timeout_option(const std::map<std::string, std::string>& options,
                                                             std::chrono::milliseconds& timeout);

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
