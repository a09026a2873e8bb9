#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

namespace trimtab {

/// Whether a series drifts up or down over recent windows.
///
/// Both halves are rank-based, so one noisy window (a GC pause, a deploy next door) can neither
/// fake a trend nor hide one: the Theil–Sen slope is the median of all pairwise slopes, and the
/// Mann–Kendall test only looks at the signs of pairwise differences. Neither assumes the noise is
/// normal, and both work on the handful of windows a study has.
struct TrendResult {
  std::size_t count = 0;       ///< finite values used
  double slope = 0.0;          ///< Theil–Sen: the median of pairwise slopes, per window
  double mann_kendall_s = 0.0; ///< sum of sign(x_j - x_i) over all pairs i < j
  /// Two-sided Mann–Kendall p-value: normal approximation with tie correction and continuity
  /// correction; 1 when every value is equal.
  double p_value = 1.0;
  /// +1 rising, -1 falling, 0 no significant trend: significant means p < alpha and a non-zero
  /// slope (the slope's sign gives the direction).
  int direction = 0;
};

/// The trend of `values`, one per window, oldest first. Non-finite values are skipped but keep
/// their place, so the slope stays per window. Nothing with fewer than 4 finite values: the test
/// cannot reach p < 0.05 with three. O(n² log n): meant for tens of windows, not thousands.
[[nodiscard]] std::optional<TrendResult> analyse_trend(std::span<const double> values, double alpha = 0.05);

/// Which way a signal is better, so a trend can be called improving or degrading.
enum class Goodness { higher_better, lower_better, unknown };

/// "improving", "degrading" or "stable" when `goodness` is known; "rising", "falling" or "stable"
/// when it is not. `direction` as in TrendResult.
[[nodiscard]] const char* trend_label(int direction, Goodness goodness) noexcept;

/// For each value, whether it lies far outside the range of the `lookback` values before it: its
/// robust z-score |x - median| / (1.4826 · MAD) over them exceeds `threshold`. Median and MAD
/// (median absolute deviation) rather than mean and standard deviation, so one earlier outlier
/// does not widen the range enough to hide the next; 1.4826 · MAD estimates the standard deviation
/// of normal noise, and 3.5 is the usual cut-off for the modified z-score (Iglewicz and Hoaglin).
///
/// A value needs at least 5 finite values before it within the lookback; the first 5 are never
/// flagged, nor is a non-finite value. The scale has a floor of 1% of |median|: a signal quantised
/// into steps (a percentile read from histogram buckets) often repeats a value exactly, MAD is
/// then 0, and a move of a fraction of a percent is not an anomaly anyone should look at. When the
/// median is 0 too, any non-zero value is flagged (errors appearing where there were none).
[[nodiscard]] std::vector<bool> flag_anomalies(std::span<const double> values, std::size_t lookback = 10,
                                               double threshold = 3.5);

} // namespace trimtab
