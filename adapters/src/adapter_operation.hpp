#pragma once

// What every adapter does the same way: read its `timeout` option, and run an apply or a read as a
// coroutine that completes the caller's handler once, on the adapter's executor.

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

/// Runs `operation` on `executor` and hands its result to `handler`. The coroutines return every
/// failure as an AdapterResult, so an exception here is std::bad_alloc and goes on up.
inline void spawn_apply(const boost::asio::any_io_executor& executor, boost::asio::awaitable<AdapterResult> operation,
                        Adapter::apply_handler handler) {
  boost::asio::co_spawn(executor, std::move(operation),
                        [handler = std::move(handler)](std::exception_ptr exception, AdapterResult result) {
                          if (exception) std::rethrow_exception(exception);
                          handler(std::move(result));
                        });
}

/// As spawn_apply, for a read.
inline void spawn_current(const boost::asio::any_io_executor& executor, boost::asio::awaitable<CurrentOutcome> operation,
                          Adapter::current_handler handler) {
  boost::asio::co_spawn(executor, std::move(operation),
                        [handler = std::move(handler)](std::exception_ptr exception, CurrentOutcome outcome) {
                          if (exception) std::rethrow_exception(exception);
                          handler(std::move(outcome.first), std::move(outcome.second));
                        });
}

} // namespace trimtab::adapter_detail
