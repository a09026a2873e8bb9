#pragma once

// The loop's private material about one measured window, shared by the files that implement
// TuningLoop (loop_window.cpp scores a window; the verdict, guard and confirmation files judge it).

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include <trimtab/core/tuning_loop.hpp>

namespace trimtab {

struct TuningLoop::Score {
  Purpose purpose = Purpose::baseline; // what the window was measured for
  std::vector<std::optional<double>> signals;
  std::optional<double> value;     // the objective over the whole window, when it can be judged
  std::vector<double> constraints; // slack form, <= 0 holds
  std::vector<double> samples;     // the objective per scrape interval
  std::vector<std::vector<double>> constraint_samples; // each constraint's slack per scrape interval
  std::string missing;             // why there is no value

  [[nodiscard]] bool judgeable() const {
    return value && std::all_of(constraints.begin(), constraints.end(), [](double c) { return std::isfinite(c); });
  }
  [[nodiscard]] std::string why_not() const { return missing.empty() ? "a constraint's signal has no value" : missing; }
};

} // namespace trimtab
