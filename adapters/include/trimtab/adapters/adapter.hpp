#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <boost/system/error_code.hpp>

#include <trimtab/core/param.hpp>

namespace trimtab {

/// Values for the parameters one adapter owns, by name, in the order of the adapter's params().
using Settings = std::vector<std::pair<std::string, Value>>;

/// Something that can change a running service's settings and read them back: a callback into a
/// host server, an HTTP admin endpoint, a file plus a signal, Redis, PgBouncer, PostgreSQL.
///
/// Both operations are asynchronous and complete exactly once, on the executor the adapter was made
/// with, with an error_code that says whether the service now runs with what was asked (apply) or
/// what it runs with (current). An adapter never blocks its caller's thread.
class Adapter {
public:
  using apply_handler = std::function<void(boost::system::error_code)>;
  using current_handler = std::function<void(boost::system::error_code, Settings)>;

  virtual ~Adapter() = default;

  /// The name the configuration gives this adapter; it appears in logs and journal records.
  [[nodiscard]] virtual const std::string& name() const noexcept = 0;
  /// The parameters this adapter owns.
  [[nodiscard]] virtual const std::vector<std::string>& params() const noexcept = 0;
  /// How long an apply or a read may take before it counts as failed.
  [[nodiscard]] virtual std::chrono::milliseconds timeout() const noexcept = 0;

  /// Sets the owned parameters to `settings` (one value for each of params()).
  virtual void async_apply(Settings settings, apply_handler handler) = 0;
  /// Reads the values the service runs with now, to learn the baseline.
  virtual void async_current(current_handler handler) = 0;
};

} // namespace trimtab
