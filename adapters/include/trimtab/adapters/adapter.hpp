#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/system/error_code.hpp>

#include <trimtab/adapters/adapter_error.hpp>
#include <trimtab/core/param.hpp>
#include <trimtab/core/settings.hpp>

namespace trimtab {

/// How an adapter's operation ended: true when it succeeded.
struct AdapterResult {
  /// Empty on success; else a system error, an HttpError or an AdapterError, for code to test.
  boost::system::error_code error{};
  /// Empty on success; else what failed for people, naming the adapter:
  /// "adapter 'app': PUT http://127.0.0.1:8080/admin/config: HTTP 400: pool_size must be <= 64".
  std::string message{};

  explicit operator bool() const noexcept { return !error; }
};

/// What an adapter can tell about whether its service runs with an apply beyond reading it back.
struct InEffect {
  /// False while the service still runs (partly) with what it ran before: a pool that keeps its
  /// server connections past a smaller pool size, say.
  bool in_effect = true;
  /// What is not in effect yet, for people ("pool postgres/app: 17 server connections, over
  /// pool_size 4 + reserve_pool 0"); empty when in effect.
  std::string detail{};
};

/// Something that can change a running service's settings and read them back: a callback into a
/// host server, an HTTP admin endpoint, a file plus a signal, Redis, PgBouncer, PostgreSQL.
///
/// Both operations are asynchronous and complete exactly once, never inline (the handler never
/// runs before async_apply or async_current returns), on the adapter's executor, with an
/// AdapterResult that says whether the service now runs with what was asked (apply) or what it runs
/// with (current). An adapter never blocks its caller's thread, and never throws from async_apply
/// or async_current (but std::bad_alloc): every failure reaches the handler.
class Adapter {
public:
  using apply_handler = std::function<void(AdapterResult)>;
  /// On failure the Settings are empty.
  using current_handler = std::function<void(AdapterResult, Settings)>;
  /// On failure the InEffect is the default (in effect, no detail) and means nothing.
  using in_effect_handler = std::function<void(AdapterResult, InEffect)>;

  virtual ~Adapter() = default;

  /// The name the configuration gives this adapter; it appears in logs and journal records.
  [[nodiscard]] virtual const std::string& name() const noexcept = 0;
  /// The parameters this adapter owns.
  [[nodiscard]] virtual const std::vector<std::string>& params() const noexcept = 0;
  /// How long an apply or a read may take before it counts as failed.
  [[nodiscard]] virtual std::chrono::milliseconds timeout() const noexcept = 0;
  /// The executor the adapter was made with, on which every handler runs.
  [[nodiscard]] virtual boost::asio::any_io_executor get_executor() const = 0;

  /// Sets the owned parameters to `settings` (one value for each of params(), in any order; a
  /// missing or foreign name fails with AdapterError::bad_settings and changes nothing).
  virtual void async_apply(Settings settings, apply_handler handler) = 0;
  /// Reads the values the service runs with now, to learn the baseline: one for each of params(),
  /// in that order. Values come as the service reports them (an HTTP service may report 8 for a
  /// float parameter): the caller converts them to each parameter's type.
  virtual void async_current(current_handler handler) = 0;
  /// Whether `settings`, which an apply has set and the read-back confirmed, are in effect: what
  /// the service runs, where it can tell (the pgbouncer adapter compares each pool's server
  /// connections with its pool size). Completes as async_current does, within timeout(). The agent
  /// asks after each apply until the answer is yes or window.in_effect_limit passes. By default an
  /// apply is in effect once it reads back: the answer is yes, posted to get_executor().
  virtual void async_in_effect(Settings settings, in_effect_handler handler);
};

/// Checks that `settings` hold one value for each of `params` and nothing else; returns the failed
/// result naming the adapter and the parameter, or a success.
[[nodiscard]] AdapterResult check_settings(const std::string& adapter, const std::vector<std::string>& params,
                                           const Settings& settings);

} // namespace trimtab
