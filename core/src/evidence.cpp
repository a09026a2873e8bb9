#include <trimtab/core/evidence.hpp>

#include <algorithm>
#include <cmath>

namespace trimtab {

bool PooledEvidence::feasible() const noexcept {
  return std::all_of(constraints.begin(), constraints.end(), [](double c) { return c <= 0.0; });
}

double constraint_violation(std::span<const double> slacks, std::span<const double> scales) noexcept {
  double total = 0.0;
  for (std::size_t c = 0; c < slacks.size(); ++c) {
    if (!(slacks[c] > 0.0)) continue;
    const double scale = c < scales.size() ? std::max(std::abs(scales[c]), 1e-9) : 1.0;
    total += slacks[c] / scale;
  }
  return total;
}

double PooledEvidence::violation(std::span<const double> scales) const noexcept {
  return constraint_violation(constraints, scales);
}

PooledEvidence pool(std::span<const WindowEvidence> windows, const WindowNoise& study) {
  PooledEvidence pooled;
  if (windows.empty()) return pooled;
  pooled.windows = windows.size();
  // Each window weighs by its intervals (at least one), so a short, extended or cut-short window
  // counts for what it measured.
  double total_weight = 0.0;
  for (const auto& w : windows) total_weight += static_cast<double>(std::max<std::size_t>(w.intervals, 1));
  const std::size_t constraint_count = windows.front().constraints.size();
  pooled.constraints.assign(constraint_count, 0.0);
  double within = 0.0;
  for (const auto& w : windows) {
    const double weight = static_cast<double>(std::max<std::size_t>(w.intervals, 1)) / total_weight;
    pooled.intervals += w.intervals;
    pooled.mean += weight * w.value;
    within += weight * weight * w.sem * w.sem;
    for (std::size_t c = 0; c < constraint_count && c < w.constraints.size(); ++c)
      pooled.constraints[c] += weight * w.constraints[c];
  }
  double variance = within;
  pooled.degrees_of_freedom = std::max(1.0, static_cast<double>(pooled.intervals) - static_cast<double>(windows.size()));
  pooled.constraint_sems.assign(constraint_count, 0.0);
  const double k = static_cast<double>(windows.size());
  if (study.degrees_of_freedom > 0.0 && pooled.mean != 0.0) {
    const double between = study.relative_variance * pooled.mean * pooled.mean / k; // of a mean of k windows
    if (between > variance) {
      variance = between;
      pooled.degrees_of_freedom = study.degrees_of_freedom;
    }
  } else if (windows.size() >= 2) {
    double between = 0.0;
    for (const auto& w : windows) between += (w.value - pooled.mean) * (w.value - pooled.mean);
    between /= (k - 1.0) * k; // the variance of a mean of k window values
    if (between > variance) {
      variance = between;
      pooled.degrees_of_freedom = k - 1.0;
    }
  }
  if (windows.size() >= 2) {
    for (std::size_t c = 0; c < constraint_count; ++c) {
      double spread = 0.0;
      for (const auto& w : windows)
        if (c < w.constraints.size()) spread += (w.constraints[c] - pooled.constraints[c]) * (w.constraints[c] - pooled.constraints[c]);
      pooled.constraint_sems[c] = std::sqrt(spread / ((k - 1.0) * k));
    }
  }
  pooled.sem = std::sqrt(variance);
  return pooled;
}

void EvidenceLedger::add(const Point& point, WindowEvidence window, std::span<const Point> spare) {
  auto& entry = by_point_[point];
  entry.windows.push_back(std::move(window));
  if (entry.windows.size() > keep_) entry.windows.erase(entry.windows.begin());
  entry.last_added = ++adds_;
  if (by_point_.size() > keep_points_) {
    // Linear in keep_points, once per window: a few microseconds against minutes of traffic.
    auto oldest = by_point_.end();
    for (auto it = by_point_.begin(); it != by_point_.end(); ++it) {
      if (it->first == point || std::find(spare.begin(), spare.end(), it->first) != spare.end()) continue;
      if (oldest == by_point_.end() || it->second.last_added < oldest->second.last_added) oldest = it;
    }
    if (oldest != by_point_.end()) by_point_.erase(oldest);
  }
  noise_ = measure_noise();
}

void EvidenceLedger::mark_selected(const Point& point) {
  auto found = by_point_.find(point);
  if (found == by_point_.end() || found->second.windows.empty()) return;
  for (auto& w : found->second.windows) w.selected = false;
  found->second.windows.back().selected = true;
}

std::span<const WindowEvidence> EvidenceLedger::windows(const Point& point) const {
  auto found = by_point_.find(point);
  if (found == by_point_.end()) return {};
  return found->second.windows;
}

std::size_t EvidenceLedger::unselected_windows(const Point& point) const {
  const auto all = windows(point);
  return static_cast<std::size_t>(std::count_if(all.begin(), all.end(), [](const WindowEvidence& w) { return !w.selected; }));
}

PooledEvidence EvidenceLedger::unselected(const Point& point) const {
  const auto all = windows(point);
  std::vector<WindowEvidence> rest;
  for (const auto& w : all)
    if (!w.selected) rest.push_back(w);
  if (!rest.empty()) return pool(rest, noise_);
  auto pooled = pool(all, noise_);
  pooled.selected_only = !all.empty();
  return pooled;
}

WindowNoise EvidenceLedger::measure_noise() const {
  // Deviations relative to each configuration's plain mean: a window's noise scales with the level
  // it measures (a 2 ms configuration and a 20 ms one stray by similar fractions).
  WindowNoise noise;
  double squares = 0.0;
  for (const auto& [point, entry] : by_point_) {
    const auto& windows = entry.windows;
    if (windows.size() < 2) continue;
    double mean = 0.0;
    for (const auto& w : windows) mean += w.value;
    mean /= static_cast<double>(windows.size());
    if (!(std::abs(mean) > 0.0) || !std::isfinite(mean)) continue;
    for (const auto& w : windows) squares += ((w.value - mean) / mean) * ((w.value - mean) / mean);
    noise.degrees_of_freedom += static_cast<double>(windows.size() - 1);
  }
  if (noise.degrees_of_freedom > 0.0) noise.relative_variance = squares / noise.degrees_of_freedom;
  return noise;
}

} // namespace trimtab
