#include <trimtab/core/window_verdict.hpp>

#include <algorithm>
#include <cmath>

#include <trimtab/core/number_text.hpp>
#include <trimtab/core/statistics.hpp>

namespace trimtab {

std::string end_window_early(const VerdictRules& rules, const PooledEvidence& incumbent,
                             std::span<const double> objective_samples,
                             std::span<const std::vector<double>> constraint_samples) {
  const double evidence_needed = 1.0 / (1.0 - rules.confidence);
  for (std::size_t c = 0; c < constraint_samples.size(); ++c) {
    const auto spread = summarize(constraint_samples[c]);
    if (spread.count < 2 || !(spread.mean > 0.0)) continue;
    const double worth_finding = 0.1 * std::max(std::abs(rules.constraint_scales[c]), 1e-9);
    if (mixture_likelihood_ratio(spread.mean, spread.variance / static_cast<double>(spread.count), worth_finding) >= evidence_needed)
      return "'" + rules.constraint_texts[c] + "' broken by a clear margin (mSPRT)";
  }
  if (!rules.rollback_on_regression) return {};
  if (incumbent.windows == 0 || !incumbent.feasible()) return {};
  const double sign = rules.direction == Direction::maximize ? 1.0 : -1.0;
  std::vector<double> signed_samples(objective_samples.begin(), objective_samples.end());
  for (auto& s : signed_samples) s *= sign;
  const auto spread = summarize(signed_samples);
  if (spread.count < 2) return {};
  const double gain = spread.mean - sign * incumbent.mean;
  const double threshold = rules.regression_threshold.around(incumbent.mean);
  if (!(-gain > threshold)) return {};
  const double variance = spread.variance / static_cast<double>(spread.count) + incumbent.sem * incumbent.sem;
  if (mixture_likelihood_ratio(gain, variance, std::max(threshold, 1e-12)) >= evidence_needed)
    return "clearly worse than the incumbent (mSPRT)";
  return {};
}

std::string clearly_broken(const VerdictRules& rules, std::span<const double> constraints,
                           std::span<const std::vector<double>> constraint_samples) {
  std::string broken;
  for (std::size_t c = 0; c < constraints.size(); ++c) {
    const auto spread = summarize(constraint_samples[c]);
    const double margin =
        std::max(0.1 * std::abs(rules.constraint_scales[c]), spread.count >= 2 ? 2.0 * std::sqrt(spread.variance / static_cast<double>(spread.count)) : 0.0);
    if (constraints[c] > margin) {
      if (!broken.empty()) broken += ", ";
      broken += "'" + rules.constraint_texts[c] + "' (by " + number_text(constraints[c]) + ")";
    }
  }
  return broken;
}

} // namespace trimtab
