#include <trimtab/core/paired_verdict.hpp>

#include <cmath>

#include <trimtab/core/number_text.hpp>
#include <trimtab/core/statistics.hpp>

namespace trimtab {
namespace {

double sign_of(Direction direction) { return direction == Direction::maximize ? 1.0 : -1.0; }
double mean_of(const std::vector<double>& values) { return summarize(values).mean; }
double relative(double gain, double base) { return base != 0.0 ? gain / std::abs(base) : gain; }
std::string pairs_text(std::size_t pairs) { return std::to_string(pairs) + " switchback pairs"; }

} // namespace

std::vector<double> PairedEvidence::differences(Direction direction) const {
  const double sign = sign_of(direction);
  std::vector<double> out;
  for (std::size_t i = 0; i < pairs(); ++i) out.push_back(sign * (candidate[i] - incumbent[i]));
  return out;
}

Verdict judge_pairs(const VerdictRules& rules, const PairedEvidence& pairs) {
  const double incumbent_mean = mean_of(pairs.incumbent);
  const double candidate_mean = mean_of(pairs.candidate);
  const auto test = paired_t_test(pairs.differences(rules.direction));
  const double gain = sign_of(rules.direction) * (candidate_mean - incumbent_mean);
  Verdict verdict;
  verdict.effect = relative(gain, incumbent_mean);
  verdict.p_value = test ? test->p_greater : 1.0;
  const auto effect_text = number_text(*verdict.effect * 100);
  const auto p_text = number_text(*verdict.p_value);
  if (gain >= rules.required_improvement.around(incumbent_mean) && gain > 0 && *verdict.p_value < 1.0 - rules.confidence) {
    verdict.kind = VerdictKind::promote;
    verdict.reason = "better by " + effect_text + "% over " + pairs_text(pairs.pairs()) + " (paired p=" + p_text + ")";
  } else {
    verdict.kind = VerdictKind::keep;
    verdict.reason = "not confirmed by " + pairs_text(pairs.pairs()) + ": " + effect_text + "% (paired p=" + p_text + ")";
  }
  return verdict;
}

GuardCheckVerdict judge_guard_check(const VerdictRules& rules, const PairedEvidence& pairs, std::size_t pairs_wanted) {
  GuardCheckVerdict verdict;
  if (pairs.candidate_broke && !pairs.incumbent_broke) {
    verdict.kind = GuardCheckKind::baseline_broke;
    verdict.reason = "the baseline breaks a constraint where the best does not";
    return verdict;
  }
  const bool only_best_broke = pairs.incumbent_broke && !pairs.candidate_broke;
  if (pairs.pairs() < pairs_wanted && !only_best_broke) {
    verdict.reason = std::to_string(pairs.pairs()) + " of " + pairs_text(pairs_wanted);
    return verdict;
  }
  const auto differences = pairs.differences(rules.direction); // positive: the baseline is the better
  const auto test = paired_t_test(differences);
  verdict.best_mean = mean_of(pairs.incumbent);
  const double gain = mean_of(differences);
  verdict.effect = relative(gain, verdict.best_mean);
  const double p = test ? test->p_greater : 1.0;
  const auto measured = " (" + number_text(verdict.effect * 100) + "%, paired p=" + number_text(p) + ")";
  if (!only_best_broke && !(gain > 0 && p < 1.0 - rules.confidence)) {
    verdict.kind = GuardCheckKind::best_stays;
    verdict.p_value = p;
    verdict.reason = "the baseline is no better than the best over " + pairs_text(pairs.pairs()) + measured;
    return verdict;
  }
  verdict.kind = GuardCheckKind::back_to_baseline;
  if (!only_best_broke) verdict.p_value = p;
  verdict.reason = "the baseline is better than the best over " + pairs_text(pairs.pairs()) +
                   (only_best_broke ? " (the best broke a constraint, the baseline did not)"
                                    : " (by " + number_text(verdict.effect * 100) + "%, paired p=" + number_text(p) + ")");
  return verdict;
}

} // namespace trimtab
