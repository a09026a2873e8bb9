#pragma once

// What the postgres and pgbouncer adapters share with their operations in flight, beyond the name
// and params: where to connect, the server setting of each param, and the lane that lets one
// operation run at a time. Internal to trimtab_adapters.

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "adapter_operation.hpp"
#include "pg_common.hpp"
#include "pg_connection.hpp"

namespace trimtab::pg {

struct AdapterState : adapter_detail::AdapterIdentity {
  /// Bounds each operation; a step that runs out of it says so.
  std::chrono::milliseconds timeout{};
  Target target;
  /// The server setting of each param, in params order.
  std::vector<std::string> settings;
  std::shared_ptr<Lane> lane = std::make_shared<Lane>();

  using AdapterIdentity::failure;

  /// A failed step: "adapter 'db': <doing>: <why>", with the timeout when it ran out.
  [[nodiscard]] AdapterResult failure(const Outcome& outcome, const std::string& doing) const {
    std::string what = doing + ": " + outcome.message;
    if (outcome.error == boost::system::errc::timed_out) what += " (timeout " + std::to_string(timeout.count()) + " ms)";
    return failure(outcome.error, what);
  }

  /// "work_mem", or "work_mem (param mem)" when the param has another name.
  [[nodiscard]] std::string describe(std::size_t index) const {
    return settings[index] == params[index] ? settings[index] : settings[index] + " (param " + params[index] + ")";
  }
};

/// `failed`, its message told how rolling back the apply went: `stuck`, what could not be put back,
/// or (when that is empty) `put_back`, what was.
[[nodiscard]] inline AdapterResult after_rollback(AdapterResult failed, const std::string& stuck,
                                                  const std::string& put_back) {
  failed.message += stuck.empty() ? "; put back " + put_back : "; COULD NOT put back the previous values: " + stuck;
  return failed;
}

} // namespace trimtab::pg
