// Confirmation by switchback pairs: a promising candidate against the incumbent, the best against
// the baseline at the end of the study (and the claim it makes), and the guard's check of a
// regressed best against the baseline.
#include <trimtab/core/tuning_loop.hpp>

#include "loop_score.hpp"

#include <boost/math/distributions/students_t.hpp>

#include <trimtab/core/number_text.hpp>
#include <trimtab/core/window_verdict.hpp>

namespace trimtab {
namespace {

double mean_of(const std::vector<double>& values) { return summarize(values).mean; }

// The first constraint a window breaks at all (`slack` > 0), in words; empty when it meets them all.
std::string first_broken(const std::vector<double>& slack, const std::vector<std::string>& texts) {
  for (std::size_t c = 0; c < slack.size(); ++c)
    if (slack[c] > 0) return "breaks '" + texts[c] + "' (by " + number_text(slack[c]) + ") in a switchback window";
  return {};
}

} // namespace

void TuningLoop::decide_switchback(TimePoint now, const Score& score) {
  if (switchback() == nullptr) { // abandoned while this window ran
    continue_tuning(now);
    return;
  }
  auto& confirming = *switchback();
  if (confirming.kind == Switchback::Kind::guard_check) {
    decide_guard_check(now, score, confirming);
    return;
  }
  const auto point = applied_;
  const bool on_candidate = point == confirming.candidate;
  std::string problem;
  if (!score.judgeable()) {
    problem = "no data in a switchback window: " + score.why_not();
  } else {
    remember(point, window_evidence(score));
    if (on_candidate && confirming.kind != Switchback::Kind::final_check)
      problem = first_broken(score.constraints, rules_.constraint_texts);
  }
  // A broken constraint ends the confirmation; only a clear break, by the margin the guard and the
  // load-shift rule use, is a rollback that counts: noise at the limit must not spend the budget.
  const bool broke = score.judgeable() && !problem.empty() &&
                     !clearly_broken(rules_, score.constraints, score.constraint_samples).empty();
  // Pairs alternate, the incumbent's window first. A window out of turn means the move to the other
  // side never happened: a max_delta that rounds the step back to where the service is (found by
  // the guardrail property test, where it read an empty pair).
  const bool in_turn = on_candidate ? confirming.pairs.candidate_next() : point == *incumbent_ && !confirming.pairs.candidate_next();
  if (problem.empty() && !in_turn)
    problem = std::string("the guardrails kept the pair from alternating (a window on ") +
              (on_candidate ? "the candidate" : "a configuration outside the pair") + " out of turn)";
  if (!problem.empty()) {
    stop_switchback(now, score, problem, broke);
    return;
  }
  if (!on_candidate) {
    confirming.pairs.incumbent.push_back(*score.value);
    move_to(now, confirming.candidate, Purpose::switchback);
    return;
  }
  confirming.pairs.candidate.push_back(*score.value);
  const auto pair = confirming.pairs.pairs();
  const auto pairs_wanted =
      confirming.kind == Switchback::Kind::final_check ? policy_.final_confirmation_pairs : policy_.switchback_pairs;
  record_switchback_pair(confirming, pair, pairs_wanted);
  if (pair < pairs_wanted) {
    move_to(now, *incumbent_, Purpose::switchback);
    return;
  }
  conclude_switchback(now, score);
}

void TuningLoop::stop_switchback(TimePoint now, const Score& score, const std::string& problem, bool broke) {
  if (!score.judgeable()) blind_ = true;
  if (switchback()->kind == Switchback::Kind::final_check) {
    comparison_ = std::monostate{};
    claim_and_finish(now, {}, 0.0, 0.0, "the confirmation stopped: " + problem);
    return;
  }
  // Not confirmed is a keep; a broken constraint is a rollback, and counts.
  RollbackDecision decision{switchback()->candidate, score.value, "not confirmed: " + problem, std::nullopt, std::nullopt,
                            broke ? DecisionVerdict::rollback : DecisionVerdict::keep};
  comparison_ = std::monostate{};
  roll_back(now, decision);
}

void TuningLoop::conclude_switchback(TimePoint now, const Score& score) {
  const auto pairs = std::move(switchback()->pairs);
  const bool final_check = switchback()->kind == Switchback::Kind::final_check;
  comparison_ = std::monostate{};
  const double candidate_mean = mean_of(pairs.candidate);
  if (final_check) {
    // The best's gain over the baseline is minus the baseline's gain over the best.
    auto differences = pairs.differences(policy_.direction);
    for (auto& d : differences) d = -d;
    claim_and_finish(now, differences, candidate_mean, mean_of(pairs.incumbent), {});
    return;
  }
  const auto point = applied_;
  const auto verdict = judge_pairs(rules_, pairs);
  if (verdict.kind == VerdictKind::promote) {
    record_decision(point, candidate_mean, DecisionVerdict::promote, verdict.reason, verdict.effect, verdict.p_value);
    make_incumbent(now, point, score, true);
    propose(now);
    return;
  }
  roll_back(now, RollbackDecision{point, candidate_mean, verdict.reason, verdict.effect, verdict.p_value, DecisionVerdict::keep});
}

void TuningLoop::record_switchback_pair(const Switchback& check, std::size_t pair, std::size_t of) {
  const double sign = policy_.direction == Direction::maximize ? 1.0 : -1.0;
  const double a = check.pairs.incumbent.back(), b = check.pairs.candidate.back();
  const bool final_check = check.kind == Switchback::Kind::final_check;
  const bool guard_check = check.kind == Switchback::Kind::guard_check;
  record(SwitchbackRecord{pair, of, named(check.candidate), named(*incumbent_), a, b, sign * (b - a), final_check, guard_check});
}

std::size_t TuningLoop::guard_check_pairs() const noexcept {
  return policy_.final_confirmation_pairs >= 2 ? policy_.final_confirmation_pairs : 3;
}

void TuningLoop::decide_guard_check(TimePoint now, const Score& score, Switchback& check) {
  const auto point = applied_;
  const bool on_baseline = point == check.candidate;
  auto back_to_best = [&](const std::string& reason, std::optional<double> value) {
    record_decision(*incumbent_, value, DecisionVerdict::keep, reason, std::nullopt, std::nullopt);
    mark_last_decision_as_guard();
    comparison_ = std::monostate{};
    move_to(now, *incumbent_, Purpose::final_config);
  };
  if (!score.judgeable()) {
    blind_ = true;
    back_to_best("the guard's check stopped: no data in a switchback window: " + score.why_not() + "; back to the best",
                 std::nullopt);
    return;
  }
  blind_ = false;
  record_observation(point, score, false);
  const auto window = window_evidence(score);
  remember(point, window);
  const auto broken = clearly_broken(rules_, score.constraints, score.constraint_samples);
  auto& measured = check.pairs;
  if (!on_baseline) {
    check.incumbent_windows.push_back(window);
    measured.incumbent.push_back(*score.value);
    measured.incumbent_broke = measured.incumbent_broke || !broken.empty();
    move_to(now, check.candidate, Purpose::switchback);
    return;
  }
  check.candidate_windows.push_back(window);
  measured.candidate.push_back(*score.value);
  measured.candidate_broke = measured.candidate_broke || !broken.empty();
  const auto wanted = guard_check_pairs();
  const auto verdict = judge_guard_check(rules_, measured, wanted);
  if (verdict.kind == GuardCheckKind::baseline_broke) {
    guard_from(pool(check.incumbent_windows), "the baseline broke a constraint in the guard's check: the best's new level");
    back_to_best("the guard's check: the baseline breaks " + broken + " where the best does not; back to the best", score.value);
    return;
  }
  record_switchback_pair(check, measured.pairs(), wanted);
  if (verdict.kind == GuardCheckKind::measure_more) {
    move_to(now, *incumbent_, Purpose::switchback);
    return;
  }
  if (verdict.kind == GuardCheckKind::best_stays) {
    guard_from(pool(check.incumbent_windows), "the guard's check found the baseline no better: the best's new level");
    back_to_best("the guard's check: " + verdict.reason +
                     ": the service changed, not the configuration; back to the best, guarded from its new level",
                 verdict.best_mean);
    return;
  }
  // The baseline runs now (each pair ends on it): the rollback is already in force, so this one
  // does not go through roll_back(), which moves back to the incumbent and then cools down before
  // the next proposal; here the baseline becomes the incumbent, and the guard watches it at once.
  const auto best = *incumbent_;
  record_decision(best, verdict.best_mean, DecisionVerdict::rollback, "the guard's check: " + verdict.reason + "; back to the baseline",
                  -verdict.effect, verdict.p_value);
  mark_last_decision_as_guard();
  const auto baseline_level = pool(check.candidate_windows);
  comparison_ = std::monostate{}; // `check` is gone from here on
  guardrails_.record_rollback(now);
  make_incumbent(now, point, score, false);
  guard_from(baseline_level, "the baseline, after the guard rolled the best back");
  if (enter_safe_mode_if_rollbacks_spent(now)) return;
  if (!parked(now)) begin_measurement(now, Purpose::remeasure, false);
}

void TuningLoop::claim_and_finish(TimePoint now, std::span<const double> differences, double baseline_mean, double best_mean,
                                  const std::string& note) {
  record_claim(differences, baseline_mean, best_mean, note);
  move_to(now, *incumbent_, Purpose::final_config);
}

void TuningLoop::record_claim(std::span<const double> differences, double baseline_mean, double best_mean,
                              const std::string& note) {
  ClaimRecord r;
  r.baseline = named(*baseline_);
  r.best = named(*incumbent_);
  r.confidence = policy_.confidence;
  auto relative = [](double gain, double base) { return base != 0.0 ? gain / std::abs(base) : gain; };
  auto set_estimate = [&](double base, double best, double gain, double low, double high) {
    r.estimate = ClaimRecord::Estimate{base, best, relative(gain, base), relative(low, base), relative(high, base), base != 0.0};
  };
  const auto base = ledger_.unselected(*baseline_);
  const auto best = ledger_.unselected(*incumbent_);
  if (*incumbent_ == *baseline_) {
    r.method = "unchanged";
    r.reason = "nothing measured beat the baseline: it stays";
    if (best.windows > 0) set_estimate(best.mean, best.mean, 0.0, 0.0, 0.0);
  } else if (differences.size() >= 2) {
    const auto spread = summarize(differences);
    const double se = std::sqrt(spread.variance / static_cast<double>(spread.count));
    const boost::math::students_t t(static_cast<double>(spread.count - 1));
    const double q = boost::math::quantile(boost::math::complement(t, (1.0 - policy_.confidence) / 2.0));
    r.method = "switchback";
    r.pairs = differences.size();
    r.reason = "best against baseline, " + std::to_string(differences.size()) + " switchback pairs at the end of the study";
    set_estimate(baseline_mean, best_mean, spread.mean, spread.mean - q * se, spread.mean + q * se);
  } else if (base.windows == 0 || best.windows == 0) {
    r.method = "none";
    r.reason = "the baseline's windows were discarded (the load moved): nothing to compare";
  } else {
    const auto test = gain_test(policy_.direction, base, best, policy_.confidence);
    r.method = base.feasible() ? "pooled" : "feasibility";
    r.windows = base.windows + best.windows;
    r.reason = base.feasible() ? "from every window of both, the one that selected the best left out"
                               : "the baseline breaks a constraint that the best meets; the objective compared as measured";
    set_estimate(base.mean, best.mean, test.gain, test.low, test.high);
  }
  if (!note.empty()) r.reason += "; " + note;
  claim_ = r;
  record(std::move(r));
}

void TuningLoop::finish(TimePoint now, const std::string& reason) {
  finish_reason_ = reason;
  if (claim_ || !incumbent_ || !baseline_) {
    move_to(now, incumbent_.value_or(applied_), Purpose::final_config);
    return;
  }
  // The claim: best against baseline by switchback pairs, when the baseline may run again (it
  // met the constraints) and the agent may apply; otherwise from the windows already measured.
  const auto baseline = ledger_.pooled(*baseline_);
  if (*incumbent_ != *baseline_ && policy_.final_confirmation_pairs >= 2 && mode_ == TuningMode::apply && policy_.enabled &&
      !safe_mode_until_ && baseline.windows > 0 && baseline.feasible()) {
    comparison_ = Switchback{.candidate = *baseline_, .kind = Switchback::Kind::final_check};
    move_to(now, *incumbent_, Purpose::switchback);
    return;
  }
  claim_and_finish(now, {}, 0.0, 0.0, {});
}

} // namespace trimtab
