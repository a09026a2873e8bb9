#pragma once

#include <optional>
#include <string>

#include <trimtab/core/evidence.hpp>
#include <trimtab/core/verdict.hpp>

namespace trimtab {

/// What the guard makes of the best configuration's recent windows after a study.
struct GuardFinding {
  /// The recent windows are clearly worse than the reference (or clearly break a constraint the
  /// reference met): time to check the best against the baseline.
  bool regressed = false;
  /// The regression is a broken constraint (else: the objective).
  bool broke_constraint = false;
  /// In words, for the journal and the log: "regressed: …", "breaks …" or "steady: …".
  std::string reason;
  /// The recent level against the reference's, in words.
  std::string level;
  /// The recent windows' change against the reference, relative to the reference's value
  /// (positive: better, in the objective's direction); the absolute change when the reference is 0.
  double change = 0.0;
};

/// The guard's test: `recent` (the last few windows of the best, pooled) against `reference` (the
/// best's level when the study ended, or when the guard last took a new level). It regresses when
/// the loss is larger than rules.regression_threshold and the mixture SPRT (see
/// mixture_likelihood_ratio) finds it at rules.confidence, or when a constraint the reference met
/// is broken by a clear margin (a tenth of its limit) by the same test. The mSPRT, not a t-test,
/// because the guard asks the same question after every window for as long as the agent runs: its
/// error rate must hold under that optional stopping.
[[nodiscard]] GuardFinding watch(const VerdictRules& rules, const PooledEvidence& reference, const PooledEvidence& recent);

} // namespace trimtab
