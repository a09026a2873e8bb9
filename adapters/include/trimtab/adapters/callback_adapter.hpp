#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include <trimtab/adapters/adapter_base.hpp>

namespace trimtab {

/// An adapter for a host server that embeds trimtab: applying and reading settings are plain C++
/// functions into the server's own pools and queues, run on the host's executor (its own thread,
/// or a strand), so they touch the server's state without locks.
///
/// Both operations post the call to the executor (they never run it, nor complete, inline) and
/// complete right after it returns, on that executor. An exception thrown by a callback becomes a
/// failed result with AdapterError::callback_failed and the exception's what().
///
/// The callbacks are synchronous: a callback that blocks blocks the executor, and timeout() cannot
/// interrupt it. It is reported (5 s by default) so the agent can budget for it; keep callbacks to
/// what a request handler would do.
class CallbackAdapter final : public AdapterBase {
public:
  /// Applies the settings (one value for each of params(), in params() order) and says how it went:
  /// `return {};` for a success, or an error and a message for a failure
  /// (`return {AdapterError::callback_failed, "pool_size must be <= 64"};`: the adapter prefixes its
  /// name). A result with a message but no error code is a failure with AdapterError::callback_failed.
  using apply_function = std::function<AdapterResult(const Settings&)>;
  /// Returns the values the server runs with now, by name: each of params() must be there, other
  /// names are ignored, and the order does not matter.
  using current_function = std::function<Settings()>;

  /// Throws std::invalid_argument when the name is empty or a callback is missing.
  CallbackAdapter(boost::asio::any_io_executor executor, std::string name, std::vector<std::string> params,
                  apply_function apply, current_function current,
                  std::chrono::milliseconds timeout = std::chrono::seconds(5));

  void async_apply(Settings settings, apply_handler handler) override;
  void async_current(current_handler handler) override;

private:
  struct State;

  // Shared with the calls in flight, so destroying the adapter before they run is safe.
  std::shared_ptr<const State> state_;
};

} // namespace trimtab
