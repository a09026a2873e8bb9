#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <trimtab/core/observation.hpp>
#include <trimtab/core/verdict.hpp>

namespace trimtab {

/// What switchback pairs have measured so far: the objective of each window on either side, in
/// the order measured. Pair i is incumbent[i] then candidate[i]; each pair starts on the incumbent,
/// so between the halves of a pair the incumbent is one window ahead.
struct PairedEvidence {
  std::vector<double> incumbent;
  std::vector<double> candidate;
  /// A window of that side broke a constraint by a clear margin (see broken_by_a_clear_margin).
  bool incumbent_broke = false;
  bool candidate_broke = false;

  /// Complete pairs.
  [[nodiscard]] std::size_t pairs() const noexcept { return candidate.size(); }
  /// The next window is the candidate's: the incumbent's half of the pair is in.
  [[nodiscard]] bool candidate_next() const noexcept { return candidate.size() < incumbent.size(); }
  /// Each complete pair's candidate minus incumbent, signed so that positive is better in
  /// `direction`.
  [[nodiscard]] std::vector<double> differences(Direction direction) const;
};

/// A candidate that beat the incumbent, confirmed by switchback pairs: promote when the gain of
/// the candidate's mean over the incumbent's is positive, at least rules.required_improvement of
/// the incumbent's mean, and significant at rules.confidence by the one-sided paired t-test of the
/// pairs' differences; keep otherwise (the pairs' differences cancel a drift in traffic that one
/// window's comparison would take for the configuration). Judges the complete pairs; never
/// rollback or extend.
[[nodiscard]] Verdict judge_pairs(const VerdictRules& rules, const PairedEvidence& pairs);

/// The guard's check after the study: the best (PairedEvidence::incumbent) against the baseline
/// (PairedEvidence::candidate), judged after each of the baseline's windows.
enum class GuardCheckKind {
  measure_more,     ///< fewer pairs than wanted, and nothing settles it early
  baseline_broke,   ///< the baseline broke a constraint and the best did not: back to the best at once
  best_stays,       ///< the baseline is no better: the service changed, not the configuration
  back_to_baseline, ///< the baseline is better (significantly, or the best alone broke a constraint)
};

struct GuardCheckVerdict {
  GuardCheckKind kind = GuardCheckKind::measure_more;
  /// In words, without the loop's "the guard's check: " and what it does next.
  std::string reason;
  /// The baseline's gain over the best relative to the best's mean (positive: the baseline is
  /// better), or the absolute gain when that mean is 0.
  double effect = 0.0;
  /// The paired t-test's one-sided p of "the baseline is better"; nothing when a broken constraint
  /// decided.
  std::optional<double> p_value;
  /// The mean of the best's windows.
  double best_mean = 0.0;
};

/// Safety first: a baseline that breaks a constraint the best meets loses at once, and a best that
/// breaks a constraint the baseline meets loses at once (whatever pairs are left); otherwise,
/// after `pairs_wanted` pairs, the baseline wins when its mean gain over the best is positive and
/// significant at rules.confidence by the one-sided paired t-test.
[[nodiscard]] GuardCheckVerdict judge_guard_check(const VerdictRules& rules, const PairedEvidence& pairs,
                                                  std::size_t pairs_wanted);

} // namespace trimtab
