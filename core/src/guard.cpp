#include <trimtab/core/guard.hpp>

#include <trimtab/core/number_text.hpp>

#include <algorithm>
#include <cmath>

namespace trimtab {
namespace {

std::string format(double value) { return number_text(value, 4); }

} // namespace

GuardFinding watch(const VerdictRules& rules, const PooledEvidence& reference, const PooledEvidence& recent) {
  GuardFinding finding;
  const double evidence_needed = 1.0 / (1.0 - rules.confidence);
  const double sign = rules.direction == Direction::maximize ? 1.0 : -1.0;
  const double gain = sign * (recent.mean - reference.mean);
  finding.change = reference.mean != 0.0 ? gain / std::abs(reference.mean) : gain;
  const auto windows = std::to_string(recent.windows) + (recent.windows == 1 ? " window" : " windows");
  finding.level = format(recent.mean) + " over the last " + windows + " against " + format(reference.mean) +
                     " when guarding began (" +
                  (finding.change >= 0 ? "+" : "") + format(finding.change * 100) + "%)";

  if (reference.feasible())
    for (std::size_t c = 0; c < recent.constraints.size(); ++c) {
      const double slack = recent.constraints[c];
      if (!(slack > 0.0)) continue;
      const double sem = c < recent.constraint_sems.size() ? recent.constraint_sems[c] : 0.0;
      const double scale = c < rules.constraint_scales.size() ? std::abs(rules.constraint_scales[c]) : 1.0;
      const double worth_finding = 0.1 * std::max(scale, 1e-9);
      if (mixture_likelihood_ratio(slack, sem * sem, worth_finding) >= evidence_needed) {
        const auto text = c < rules.constraint_texts.size() ? rules.constraint_texts[c] : "constraint " + std::to_string(c + 1);
        finding.regressed = true;
        finding.broke_constraint = true;
        finding.reason = "breaks '" + text + "' (by " + format(slack) + "), which it met when guarding began; " + finding.level;
        return finding;
      }
    }

  const double threshold = rules.regression_threshold.around(reference.mean);
  const double variance = recent.sem * recent.sem + reference.sem * reference.sem;
  if (-gain > threshold && mixture_likelihood_ratio(gain, variance, std::max(threshold, 1e-12)) >= evidence_needed) {
    finding.regressed = true;
    finding.reason = "regressed: " + finding.level;
    return finding;
  }
  finding.reason = "steady: " + finding.level;
  return finding;
}

} // namespace trimtab
