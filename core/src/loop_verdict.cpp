// Deciding after a window: the baseline's and the incumbent's windows, and a candidate's
// (promote, keep, roll back, or measure again), with the records that say why.
#include <trimtab/core/tuning_loop.hpp>

#include "loop_score.hpp"

#include <utility>

#include <trimtab/core/number_text.hpp>
#include <trimtab/core/window_verdict.hpp>

namespace trimtab {

void TuningLoop::record_decision(const Point& about, std::optional<double> value, DecisionVerdict verdict,
                                 const std::string& reason, std::optional<double> effect, std::optional<double> p,
                                 bool counted) {
  DecisionRecord r{named(about), verdict, reason, value, incumbent_value_, effect, p, counted, std::nullopt, false};
  const auto pooled = ledger_.pooled(about);
  if (pooled.windows > 1) r.pooled = PooledValue{pooled.mean, pooled.sem, pooled.windows};
  record(std::move(r));
}

void TuningLoop::mark_last_decision_as_guard() {
  std::get<DecisionRecord>(std::get<RecordAction>(actions_.back()).record).guard = true;
}

void TuningLoop::make_incumbent(TimePoint /*now*/, const Point& point, const Score& score, bool selected) {
  make_incumbent(point, score.samples, load_index_ ? score.signals[*load_index_] : std::nullopt, selected);
}

void TuningLoop::make_incumbent(const Point& point, std::span<const double> window_samples, std::optional<double> load,
                                bool selected) {
  const double sign = policy_.direction == Direction::maximize ? 1.0 : -1.0;
  if (selected) ledger_.mark_selected(point);
  const auto pooled = ledger_.pooled(point);
  std::vector<double> signed_samples(window_samples.begin(), window_samples.end());
  for (auto& s : signed_samples) s *= sign;
  incumbent_ = point;
  incumbent_value_ = pooled.mean;
  const auto samples = summarize(signed_samples);
  incumbent_load_ = load;
  record(IncumbentRecord{named(point), *incumbent_value_, pooled.sem, pooled.windows, samples.count, samples.mean,
                         samples.variance, selected, incumbent_load_});
  actions_.emplace_back(SaveBestAction{point, *incumbent_value_});
}

void TuningLoop::decide(TimePoint now, const std::string& ended_early) {
  // The window is scored once, here; what follows changes the phase and with it the window.
  const auto score = score_window(std::get<Observing>(phase_).window);
  last_signals_ = score.signals;
  if (score.purpose == Purpose::switchback) {
    decide_switchback(now, score);
    return;
  }
  if (score.purpose == Purpose::candidate) {
    decide_candidate(now, score, ended_early);
    return;
  }
  if (score.purpose == Purpose::remeasure && guarding()) {
    decide_guard(now, score);
    return;
  }
  // The baseline or the incumbent again: its evidence is what candidates are judged against.
  const auto point = applied_;
  if (!score.judgeable()) {
    blind_ = true;
    record_decision(point, score.value, DecisionVerdict::discard,
                    "cannot score the " + std::string(purpose_name(score.purpose)) + " window: " + score.why_not(), std::nullopt,
                    std::nullopt);
    begin_measurement(now, score.purpose);
    return;
  }
  record_observation(point, score, false);
  remember(point, window_evidence(score));
  solver_->tell(point, solver_observation(score));
  blind_ = false;
  std::string reason = score.purpose == Purpose::baseline ? "baseline measured" : "incumbent measured again";
  for (std::size_t c = 0; c < score.constraints.size(); ++c)
    if (score.constraints[c] > 0) reason += "; it breaks '" + policy_.constraints[c].text + "'";
  record_decision(point, score.value, DecisionVerdict::keep, reason, std::nullopt, std::nullopt);
  make_incumbent(now, point, score, false);
  windows_since_remeasure_ = 0;
  if (std::holds_alternative<Intensification>(comparison_) && score.purpose == Purpose::remeasure) {
    judge_intensified(now);
    return;
  }
  propose(now);
}

void TuningLoop::decide_candidate(TimePoint now, const Score& score, const std::string& ended_early) {
  const auto point = applied_;
  if (!score.judgeable()) {
    ++windows_scored_;
    ++windows_since_remeasure_;
    record_observation(point, score, true);
    solver_->tell(point, Observation::failure());
    blind_ = true;
    roll_back(now, RollbackDecision{point, score.value, "no data: " + score.why_not()});
    return;
  }
  if (load_index_ && incumbent_load_ && score.signals[*load_index_] && *incumbent_load_ != 0.0) {
    const double drift = std::abs(*score.signals[*load_index_] / *incumbent_load_ - 1.0);
    if (drift > policy_.load_band) {
      const auto moved = "'" + *policy_.load_signal + "' is " + number_text(*score.signals[*load_index_]) + " against " +
                         number_text(*incumbent_load_) + " when the incumbent was measured (" + number_text(drift * 100) + "% apart)";
      // A broken constraint is rolled back whatever the load did: a load signal that the
      // configuration itself moves (closed-loop throughput) must not hide it.
      if (auto broken = clearly_broken(rules_, score.constraints, score.constraint_samples); !broken.empty()) {
        ++windows_scored_;
        ++windows_since_remeasure_;
        record_observation(point, score, false);
        solver_->tell(point, solver_observation(score));
        roll_back(now, RollbackDecision{point, score.value, "breaks " + broken + ", although the load moved: " + moved});
        return;
      }
      solver_->cancel(point);
      record_decision(point, score.value, DecisionVerdict::discard, "load moved: " + moved, std::nullopt, std::nullopt);
      ledger_.clear(); // every window so far measured another load
      move_to(now, *incumbent_, Purpose::remeasure);
      return;
    }
  }
  ++windows_scored_;
  ++windows_since_remeasure_;
  record_observation(point, score, false);
  remember(point, window_evidence(score));
  solver_->tell(point, solver_observation(score));

  const auto verdict = judge(rules_, incumbent_evidence(), ledger_.pooled(point));
  const auto reason = ended_early.empty() ? verdict.reason : verdict.reason + "; the window ended early: " + ended_early;
  const auto load = load_index_ ? score.signals[*load_index_] : std::nullopt;
  switch (verdict.kind) {
  case VerdictKind::promote:
    promote_or_confirm(now, point, score.value, reason, verdict, score.samples, load);
    return;
  case VerdictKind::rollback:
    roll_back(now, RollbackDecision{point, score.value, reason, verdict.effect, verdict.p_value, DecisionVerdict::rollback,
                                    !verdict.uncounted});
    return;
  case VerdictKind::extend:
    extend(now, point, score.value, reason, verdict, Intensification{point, score.samples, load});
    return;
  case VerdictKind::keep:
    record_decision(point, score.value, DecisionVerdict::keep, reason, verdict.effect, verdict.p_value);
    propose(now);
    return;
  }
}

void TuningLoop::remember(const Point& point, WindowEvidence window) {
  // The incumbent and the baseline stay however long ago they were measured: every verdict and
  // the claim compare against them.
  std::vector<Point> spare;
  if (incumbent_) spare.push_back(*incumbent_);
  if (baseline_) spare.push_back(*baseline_);
  ledger_.add(point, std::move(window), spare);
}

PooledEvidence TuningLoop::incumbent_evidence() const { return ledger_.unselected(*incumbent_); }

void TuningLoop::promote_or_confirm(TimePoint now, const Point& point, std::optional<double> value, const std::string& reason,
                                    const Verdict& verdict, std::span<const double> samples, std::optional<double> load) {
  // A candidate that is the incumbent (a solver may repeat a point) has nothing to alternate with;
  // escaping an infeasible incumbent needs no confirmation of the objective.
  if (policy_.switchback_pairs >= 2 && point != *incumbent_ && ledger_.pooled(*incumbent_).feasible()) {
    record_decision(point, value, DecisionVerdict::confirm, reason + "; confirming with " + std::to_string(policy_.switchback_pairs) + " switchback pairs",
                    verdict.effect, verdict.p_value);
    comparison_ = Switchback{.candidate = point, .kind = Switchback::Kind::candidate};
    move_to(now, *incumbent_, Purpose::switchback);
    return;
  }
  record_decision(point, value, DecisionVerdict::promote, reason, verdict.effect, verdict.p_value);
  make_incumbent(point, samples, load, true);
  propose(now);
}

void TuningLoop::extend(TimePoint now, const Point& point, std::optional<double> value, const std::string& reason,
                        const Verdict& verdict, Intensification next) {
  if (windows_scored_ >= policy_.budget) {
    // Another window would overspend the budget: the close call goes to the incumbent.
    record_decision(point, value, DecisionVerdict::keep, reason + "; but the budget is spent", verdict.effect, verdict.p_value);
    propose(now);
    return;
  }
  // Both sides of a close call earn windows, the one with fewer first: a candidate's windows
  // against an incumbent known only from the window that selected it would pit fresh evidence
  // against luck.
  if (point != *incumbent_ && ledger_.unselected_windows(*incumbent_) < ledger_.windows(point).size()) {
    record_decision(point, value, DecisionVerdict::extend, reason + "; measuring the incumbent again, then the candidate", verdict.effect,
                    verdict.p_value);
    comparison_ = std::move(next);
    move_to(now, *incumbent_, Purpose::remeasure);
    return;
  }
  record_decision(point, value, DecisionVerdict::extend, reason + "; measuring the candidate for another window", verdict.effect, verdict.p_value);
  if (applied_ == point) {
    begin_measurement(now, Purpose::candidate, false);
  } else {
    move_to(now, point, Purpose::candidate);
  }
}

void TuningLoop::judge_intensified(TimePoint now) {
  auto close_call = std::get<Intensification>(std::exchange(comparison_, std::monostate{}));
  const auto point = close_call.candidate; // a copy: close_call moves on
  const auto candidate = ledger_.pooled(point);
  const auto verdict = judge(rules_, incumbent_evidence(), candidate);
  const auto reason = verdict.reason + " (judged again after the incumbent's window)";
  switch (verdict.kind) {
  case VerdictKind::promote:
    promote_or_confirm(now, point, candidate.mean, reason, verdict, close_call.samples, close_call.load);
    return;
  case VerdictKind::extend:
    extend(now, point, candidate.mean, reason, verdict, std::move(close_call));
    return;
  case VerdictKind::rollback: // already back on the incumbent: nothing to roll back
  case VerdictKind::keep:
    record_decision(point, candidate.mean, DecisionVerdict::keep, reason, verdict.effect, verdict.p_value);
    propose(now);
    return;
  }
}

} // namespace trimtab
