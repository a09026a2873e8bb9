#include <trimtab/core/verdict.hpp>

#include <algorithm>
#include <cmath>

#include <boost/math/distributions/students_t.hpp>

#include <trimtab/core/number_text.hpp>

namespace trimtab {
namespace {

double sign_of(Direction direction) { return direction == Direction::maximize ? 1.0 : -1.0; }

// The first broken constraint's text and by how much, for reasons.
std::string broken(const VerdictRules& rules, const PooledEvidence& evidence) {
  std::string text;
  for (std::size_t c = 0; c < evidence.constraints.size(); ++c) {
    if (!(evidence.constraints[c] > 0.0)) continue;
    if (!text.empty()) text += ", ";
    const auto name = c < rules.constraint_texts.size() ? rules.constraint_texts[c] : "constraint " + std::to_string(c + 1);
    text += "'" + name + "' (by " + number_text(evidence.constraints[c]) + ")";
  }
  return text;
}

std::string windows_text(std::size_t windows) { return std::to_string(windows) + (windows == 1 ? " window" : " windows"); }

} // namespace

GainTest gain_test(Direction direction, const PooledEvidence& a, const PooledEvidence& b, double confidence) {
  GainTest test;
  test.gain = sign_of(direction) * (b.mean - a.mean);
  const double va = a.sem * a.sem, vb = b.sem * b.sem;
  const double se2 = va + vb;
  test.standard_error = std::sqrt(se2);
  if (!(se2 > 0.0) || !std::isfinite(se2)) {
    // No spread on either side: the difference is what it is.
    test.p_better = test.gain > 0 ? 0.0 : 1.0;
    test.p_worse = test.gain < 0 ? 0.0 : 1.0;
    test.low = test.high = test.gain;
    return test;
  }
  const double da = std::max(1.0, a.degrees_of_freedom), db = std::max(1.0, b.degrees_of_freedom);
  const double denominator = va * va / da + vb * vb / db;
  test.degrees_of_freedom = denominator > 0.0 ? std::max(1.0, se2 * se2 / denominator) : da + db;
  const boost::math::students_t t(test.degrees_of_freedom);
  const double statistic = test.gain / test.standard_error;
  test.p_better = boost::math::cdf(boost::math::complement(t, statistic));
  test.p_worse = boost::math::cdf(t, statistic);
  const double quantile = boost::math::quantile(boost::math::complement(t, (1.0 - confidence) / 2.0));
  test.low = test.gain - quantile * test.standard_error;
  test.high = test.gain + quantile * test.standard_error;
  return test;
}

double GainTest::chance_of_at_least(double target) const {
  if (!(standard_error > 0.0)) return gain >= target ? 1.0 : 0.0;
  const boost::math::students_t t(degrees_of_freedom);
  return boost::math::cdf(boost::math::complement(t, (target - gain) / standard_error));
}

bool preferred(const VerdictRules& rules, const PooledEvidence& a, const PooledEvidence& b) {
  const bool fa = a.feasible(), fb = b.feasible();
  if (fa != fb) return fa;
  if (!fa) return a.violation(rules.constraint_scales) < b.violation(rules.constraint_scales);
  return sign_of(rules.direction) * (a.mean - b.mean) > 0.0;
}

Verdict judge(const VerdictRules& rules, const PooledEvidence& incumbent, const PooledEvidence& candidate) {
  Verdict verdict;
  const auto evidence = " over " + windows_text(candidate.windows) + " against " + windows_text(incumbent.windows);
  const bool incumbent_feasible = incumbent.feasible();
  if (!candidate.feasible()) {
    if (incumbent_feasible) {
      verdict.kind = VerdictKind::rollback;
      verdict.reason = "breaks " + broken(rules, candidate);
      return verdict;
    }
    const double vc = candidate.violation(rules.constraint_scales), vi = incumbent.violation(rules.constraint_scales);
    if (vc < vi) {
      verdict.kind = VerdictKind::promote;
      verdict.reason = "breaks its constraints less than the incumbent (violation " + number_text(vc) + " against " + number_text(vi) +
                       "): " + broken(rules, candidate);
    } else {
      verdict.kind = VerdictKind::rollback;
      verdict.uncounted = true;
      verdict.reason = "breaks its constraints no less than the incumbent, which breaks them too (violation " + number_text(vc) +
                       " against " + number_text(vi) + ")";
    }
    return verdict;
  }
  if (!incumbent_feasible) {
    verdict.kind = VerdictKind::promote;
    verdict.reason = "meets every constraint, which the incumbent breaks: " + broken(rules, incumbent);
    return verdict;
  }

  const double alpha = 1.0 - rules.confidence;
  const auto test = gain_test(rules.direction, incumbent, candidate, rules.confidence);
  const double base = incumbent.mean;
  const auto relative = [&](double gain) { return base != 0.0 ? gain / std::abs(base) : gain; };
  verdict.effect = relative(test.gain);
  const auto percent = [&](double gain) { return number_text(relative(gain) * 100) + "%"; };
  const double required = rules.required_improvement.around(base);
  if (test.gain >= required && test.gain > 0 && test.p_better < alpha) {
    verdict.kind = VerdictKind::promote;
    verdict.p_value = test.p_better;
    verdict.reason = "better by " + percent(test.gain) + " (p=" + number_text(test.p_better) + ")" + evidence;
    return verdict;
  }
  if (rules.rollback_on_regression && -test.gain > rules.regression_threshold.around(base) && test.p_worse < alpha) {
    verdict.kind = VerdictKind::rollback;
    verdict.p_value = test.p_worse;
    verdict.reason = "regressed by " + percent(-test.gain) + " (p=" + number_text(test.p_worse) + ")" + evidence;
    return verdict;
  }
  verdict.p_value = test.p_better;
  // A window of an incumbent known only by the window that selected it is the better buy: it
  // removes the luck that won that comparison, and serves every later comparison too. So then any
  // gain whose interval reaches the bar is a close call; otherwise it must have a real chance.
  const double chance = test.chance_of_at_least(required);
  const bool close_call = incumbent.selected_only ? test.high >= required : chance >= rules.close_call_chance;
  if (test.gain > 0 && close_call && candidate.windows < rules.max_candidate_windows) {
    verdict.kind = VerdictKind::extend;
    verdict.reason = "a close call: " + percent(test.gain) + " (interval " + percent(test.low) + " to " + percent(test.high) +
                     ", p=" + number_text(test.p_better) + ", chance of " + percent(required) + ": " +
                     number_text(std::round(chance * 100)) + "%)" + evidence;
    return verdict;
  }
  verdict.kind = VerdictKind::keep;
  verdict.reason = test.gain >= required
                       ? "better by " + percent(test.gain) + " but not significant (p=" + number_text(test.p_better) + ")" + evidence
                       : "not better by the required improvement (" + percent(test.gain) + evidence + ")";
  return verdict;
}

double mixture_likelihood_ratio(double estimate, double variance, double mixing_scale) noexcept {
  const double tau2 = mixing_scale * mixing_scale;
  if (!(variance > 0.0)) return estimate != 0.0 ? INFINITY : 1.0;
  if (!(tau2 > 0.0)) return 1.0;
  const double total = variance + tau2;
  return std::sqrt(variance / total) * std::exp(tau2 * estimate * estimate / (2.0 * variance * total));
}

} // namespace trimtab
