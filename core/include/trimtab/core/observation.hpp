#pragma once

#include <optional>
#include <vector>

#include <trimtab/core/point.hpp>

namespace trimtab {

/// What one evaluation of a configuration found.
struct Observation {
  /// The objective's value; ignored when `failed`.
  double value = 0.0;
  /// Constraint values in slack form: a constraint holds when its value is <= 0 (so `p99_ms <= 250`
  /// is reported as p99_ms - 250). Empty when the problem has no constraints.
  std::vector<double> constraints;
  /// The candidate crashed, timed out or could not be measured: it has no value and counts as
  /// infeasible, so solvers steer away from it.
  bool failed = false;
  /// The standard error of `value`, when the evaluation estimated one (a window's mean of many
  /// requests: its sample standard deviation over the square root of the count); nothing when
  /// unknown. 0 says the value is exact. Finite and >= 0. Last, so `Observation{v, c, false}` still
  /// reads as before. A model-based solver takes it as that point's own measurement noise, on top of
  /// any noise it learns; other solvers ignore it.
  std::optional<double> sem = std::nullopt; // initialised, so Observation{v, c, false} stays warning-free

  [[nodiscard]] static Observation failure() { return Observation{0.0, {}, true}; }

  /// Not failed, and every constraint holds.
  [[nodiscard]] bool feasible() const noexcept {
    if (failed) return false;
    for (double c : constraints)
      if (!(c <= 0.0)) return false;
    return true;
  }
};

/// One evaluated configuration.
struct Trial {
  Point point;
  Observation observation;
};

enum class Direction { minimize, maximize };

} // namespace trimtab
