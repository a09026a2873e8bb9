// After the study: guarding the best, window after window, against its level when the study ended.
#include <trimtab/core/tuning_loop.hpp>

#include "loop_score.hpp"

#include <trimtab/core/guard.hpp>
#include <trimtab/core/window_verdict.hpp>

namespace trimtab {

bool TuningLoop::guarding() const noexcept {
  return study_done_ && policy_.guard_after_study && mode_ == TuningMode::apply && policy_.enabled && incumbent_.has_value();
}

void TuningLoop::guard_from(const PooledEvidence& level, const std::string& reason) {
  guard_reference_ = level;
  guard_recent_.clear();
  std::vector<std::optional<double>> constraints;
  for (double c : level.constraints) constraints.emplace_back(std::isfinite(c) ? std::optional<double>(c) : std::nullopt);
  record(GuardRecord{named(*incumbent_), level.mean, level.sem, level.windows, std::move(constraints), reason});
}

void TuningLoop::decide_guard(TimePoint now, const Score& score) {
  const auto point = applied_;
  if (!score.judgeable()) {
    blind_ = true;
    record_decision(point, score.value, DecisionVerdict::discard, "cannot score the guard window: " + score.why_not(), std::nullopt,
                    std::nullopt);
    mark_last_decision_as_guard();
    begin_measurement(now, Purpose::remeasure);
    return;
  }
  blind_ = false;
  record_observation(point, score, false);
  const auto window = window_evidence(score);
  // The ledger only: the solver's history would grow by a window every few minutes for as long
  // as the agent runs, all of one configuration.
  remember(point, window);
  if (!guard_reference_) guard_from(ledger_.pooled(point), "guarding begins from the best's windows so far");
  guard_recent_.push_back(window);
  const auto enough = std::max<std::size_t>(policy_.guard_windows, 1);
  while (guard_recent_.size() > enough) guard_recent_.erase(guard_recent_.begin());

  auto finding = watch(rules_, *guard_reference_, pool(guard_recent_));
  // The objective is judged over `guard_windows` windows, since one window's noise is larger than
  // its own intervals show; a constraint broken by a clear margin counts at once.
  if (finding.regressed && !finding.broke_constraint && guard_recent_.size() < enough) {
    finding.regressed = false;
    finding.reason = "watching (" + std::to_string(guard_recent_.size()) + " of " + std::to_string(enough) +
                     " windows): " + finding.level;
  }
  if (!finding.regressed && guard_reference_->feasible())
    if (const auto broken = clearly_broken(rules_, score.constraints, score.constraint_samples); !broken.empty()) {
      finding.regressed = true;
      finding.broke_constraint = true;
      finding.reason = "breaks " + broken + " in its last window, which it met when guarding began";
    }
  if (!finding.regressed) {
    record_decision(point, score.value, DecisionVerdict::keep, "guarding the best: " + finding.reason, finding.change, std::nullopt);
    mark_last_decision_as_guard();
    begin_measurement(now, Purpose::remeasure);
    return;
  }
  const auto baseline = baseline_ ? ledger_.pooled(*baseline_) : PooledEvidence{};
  if (baseline_ && *baseline_ != point && baseline.windows > 0 && baseline.feasible()) {
    const auto pairs = guard_check_pairs();
    record_decision(point, score.value, DecisionVerdict::keep,
                    "the best " + finding.reason + "; checking it against the baseline by " + std::to_string(pairs) +
                        " switchback pairs",
                    finding.change, std::nullopt);
    mark_last_decision_as_guard();
    comparison_ = Switchback{.candidate = *baseline_, .kind = Switchback::Kind::guard_check};
    begin_measurement(now, Purpose::switchback);
    return;
  }
  // Nothing known to be better to return to: the baseline broke a constraint (or is the best).
  record_decision(point, score.value, DecisionVerdict::keep,
                  "the best " + finding.reason +
                      (baseline_ && *baseline_ == point ? "; it is the baseline, so there is nothing known better to return to"
                                                        : "; the baseline broke a constraint in the study, so it is no place to return "
                                                          "to") +
                      "; guarding goes on from this level",
                  finding.change, std::nullopt);
  mark_last_decision_as_guard();
  guard_from(pool(guard_recent_), "the best regressed with nothing known better to return to: its new level");
  begin_measurement(now, Purpose::remeasure);
}

} // namespace trimtab
