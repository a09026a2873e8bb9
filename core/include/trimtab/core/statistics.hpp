#pragma once

#include <cstddef>
#include <optional>
#include <span>

namespace trimtab {

/// Mean and spread of one window's samples.
struct SampleSummary {
  std::size_t count = 0;
  double mean = 0.0;
  /// Unbiased (n - 1) variance; 0 with fewer than two samples.
  double variance = 0.0;
};

[[nodiscard]] SampleSummary summarize(std::span<const double> samples) noexcept;

/// Welch's t-test of "b's mean is greater than a's", which does not assume equal variances: a
/// candidate's window and the incumbent's differ in spread as often as in mean.
struct WelchResult {
  double difference = 0.0;         ///< mean(b) - mean(a)
  double t = 0.0;                  ///< difference over its standard error
  double degrees_of_freedom = 0.0; ///< Welch–Satterthwaite
  /// One-sided p-value: the chance of a difference at least this large if the means were equal.
  double p_greater = 1.0;
};

/// Nothing when either side has fewer than two samples. With zero variance on both sides the
/// difference is exact: p is 0 when b's mean is greater, 1 otherwise.
[[nodiscard]] std::optional<WelchResult> welch_t_test(const SampleSummary& a, const SampleSummary& b);

/// The one-sided paired t-test of "the differences' mean is greater than 0": each difference is
/// candidate minus incumbent from two windows measured back to back (a switchback pair), so a drift
/// in traffic that moves both halves of a pair alike cancels out.
struct PairedResult {
  double mean_difference = 0.0;
  double t = 0.0;
  double degrees_of_freedom = 0.0; ///< pairs - 1
  double p_greater = 1.0;
};

/// Nothing with fewer than two differences. With zero spread the mean is exact: p is 0 when it is
/// greater than 0, 1 otherwise.
[[nodiscard]] std::optional<PairedResult> paired_t_test(std::span<const double> differences);

} // namespace trimtab
