// The loop's events in, the apply path, the rollback and safe mode. The rest of TuningLoop lives
// beside it by concern: loop_commands, loop_replay, loop_window, loop_verdict, loop_confirmation,
// loop_guard, loop_recommendation.
#include <trimtab/core/tuning_loop.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

#include <trimtab/core/point_json.hpp>
#include <trimtab/core/window_verdict.hpp>

namespace trimtab {
namespace {

using std::chrono::milliseconds;
using namespace std::chrono_literals;

std::size_t signal_index(const std::vector<SignalSpec>& signals, const std::string& name, const std::string& user) {
  for (std::size_t i = 0; i < signals.size(); ++i)
    if (signals[i].name == name) return i;
  throw std::invalid_argument(user + " uses '" + name + "', which is not a declared signal");
}

} // namespace

const char* phase_name(LoopPhase phase) noexcept {
  switch (phase) {
  case LoopPhase::not_started: return "not_started";
  case LoopPhase::applying: return "applying";
  case LoopPhase::waiting: return "waiting";
  case LoopPhase::settling: return "settling";
  case LoopPhase::observing: return "observing";
  case LoopPhase::cooling_down: return "cooling_down";
  case LoopPhase::paused: return "paused";
  case LoopPhase::safe_mode: return "safe_mode";
  case LoopPhase::done: return "done";
  case LoopPhase::disabled: return "disabled";
  case LoopPhase::stopped: return "stopped";
  }
  return "unknown";
}

TuningLoop::TuningLoop(std::unique_ptr<Solver> solver, TuningPolicy policy)
    : solver_(std::move(solver)), policy_(std::move(policy)), guardrails_(solver_->space(), policy_.guardrails),
      applied_(solver_->space().default_point()) {
  validate_signal_specs(policy_.signals);
  for (const auto& name : policy_.objective.variables())
    objective_inputs_.push_back(signal_index(policy_.signals, name, "the objective"));
  for (const auto& constraint : policy_.constraints) {
    auto& inputs = constraint_inputs_.emplace_back();
    for (const auto& name : constraint.variables())
      inputs.push_back(signal_index(policy_.signals, name, "constraint '" + constraint.text + "'"));
  }
  if (policy_.load_signal) load_index_ = signal_index(policy_.signals, *policy_.load_signal, "load_signal");
  if (!(policy_.confidence > 0.0 && policy_.confidence < 1.0))
    throw std::invalid_argument("confidence must be between 0 and 1");
  if (!(policy_.load_band > 0.0)) throw std::invalid_argument("load_band must be greater than 0");
  if (policy_.duration <= 0ms || policy_.settle < 0ms) throw std::invalid_argument("window durations must be positive");
  if (policy_.min_samples < 2) policy_.min_samples = 2; // one scrape has no interval to judge
  if (policy_.switchback_pairs == 1)
    throw std::invalid_argument("switchback needs at least 2 pairs (a paired test of one pair has no spread), or 0 for off");
  // Switchback windows measure a candidate's confirmation, the study's final check and the guard's.
  if ((policy_.switchback_pairs > 0 || policy_.final_confirmation_pairs > 0 || policy_.guard_after_study) &&
      policy_.switchback_duration <= 0ms)
    throw std::invalid_argument("switchback windows must be longer than 0");
  if (policy_.final_confirmation_pairs == 1)
    throw std::invalid_argument("final_confirmation_pairs must be 0 (off) or at least 2: a paired test of one pair has no spread");
  mode_ = policy_.mode;
  last_signals_.resize(policy_.signals.size());
  rules_.direction = policy_.direction;
  rules_.required_improvement = policy_.required_improvement;
  rules_.confidence = policy_.confidence;
  rules_.rollback_on_regression = policy_.rollback_on_regression;
  rules_.regression_threshold = policy_.regression_threshold;
  rules_.max_candidate_windows = std::max<std::size_t>(policy_.max_candidate_windows, 1);
  for (const auto& constraint : policy_.constraints) {
    rules_.constraint_texts.push_back(constraint.text);
    // The limit's magnitude when it is a number (`p99_ms <= 250`); 1 when it reads signals too.
    const std::vector<double> unknown(constraint.variables().size(), NAN);
    const double limit = constraint.right.evaluate(unknown);
    rules_.constraint_scales.push_back(std::isfinite(limit) && limit != 0.0 ? std::abs(limit) : 1.0);
  }
  ledger_ = EvidenceLedger(policy_.evidence_windows);
}

// --- bookkeeping ------------------------------------------------------------------------------

std::vector<LoopAction> TuningLoop::take() {
  std::vector<LoopAction> out;
  out.swap(actions_);
  return out;
}

void TuningLoop::record(JournalRecord record) { actions_.emplace_back(RecordAction{std::move(record)}); }

void TuningLoop::wake(TimePoint at) {
  phase_deadline_ = at;
  actions_.emplace_back(WakeAction{at});
}

std::optional<Purpose> TuningLoop::measuring() const noexcept {
  if (const auto* settling = std::get_if<Settling>(&phase_)) return settling->purpose;
  if (const auto* observing = std::get_if<Observing>(&phase_)) return observing->window.purpose;
  return std::nullopt;
}

void TuningLoop::refuse(const Refusal& refusal, const Point* point) {
  record(RefusalRecord{refusal.reason, refusal.detail, point != nullptr ? std::optional(named(*point)) : std::nullopt});
}

// --- start ---------------------------------------------------------------------------------------

std::vector<LoopAction> TuningLoop::start(TimePoint now, const Point& running) {
  if (!std::holds_alternative<NotStarted>(phase_)) throw std::logic_error("TuningLoop::start called twice");
  if (auto why = solver_->space().check(running)) throw std::invalid_argument("the running configuration: " + *why);
  applied_ = running;
  if (!baseline_) baseline_ = running;
  StartRecord start{named(running), policy_.enabled, mode_, resumed_, policy_.direction, std::string(policy_.objective.text()), {}};
  for (const auto& constraint : policy_.constraints) start.constraints.push_back(constraint.text);
  record(std::move(start));
  if (incumbent_ && mode_ == TuningMode::recommend) {
    // Recommending applies nothing, not even the last known good: what runs is measured.
    begin_measurement(now, Purpose::baseline);
  } else if (incumbent_) {
    move_to(now, *incumbent_, study_done_ ? Purpose::final_config : Purpose::restore);
  } else {
    begin_measurement(now, Purpose::baseline);
  }
  return take();
}

// --- events -----------------------------------------------------------------------------------

std::vector<LoopAction> TuningLoop::on_stop(StopTarget target) {
  if (std::holds_alternative<Stopped>(phase_)) return take();
  phase_ = Stopped{};
  comparison_ = std::monostate{};
  move_.reset();
  std::optional<Point> to;
  if (target == StopTarget::last_known_good) to = incumbent_;
  if (target == StopTarget::baseline) to = baseline_;
  if (!to || *to == applied_ || !policy_.enabled || mode_ == TuningMode::recommend || paused_) return take();
  record(ApplyRecord{named(*to), Purpose::restore});
  phase_ = Stopped{ApplyAction{*to, Purpose::restore}};
  actions_.emplace_back(ApplyAction{*to, Purpose::restore});
  return take();
}

std::vector<LoopAction> TuningLoop::on_scrape(TimePoint now, Scrape scrape) {
  auto* observing = std::get_if<Observing>(&phase_);
  if (observing == nullptr) return take();
  auto& window = observing->window;
  if (window.scrapes.empty() || scrape.time_seconds > window.scrapes.back().time_seconds) {
    window.scrapes.push_back(std::move(scrape));
    if (window.scrapes.size() >= 2) add_interval(window);
    // A candidate that is clearly worse, or clearly breaks a constraint, is not measured to the
    // end of its window: the mixture SPRT stays valid however often it is checked.
    if (window.purpose == Purpose::candidate && policy_.end_windows_early && incumbent_ &&
        window.scrapes.size() >= policy_.min_samples)
      if (auto why = end_window_early(rules_, ledger_.pooled(*incumbent_), window.interval_objective, window.interval_constraints);
          !why.empty())
        decide(now, why);
  }
  return take();
}

std::vector<LoopAction> TuningLoop::on_timer(TimePoint now) {
  if (std::holds_alternative<Stopped>(phase_)) return take();
  if (now < phase_deadline_) {
    // Woken early. A little: the wall clock runs differently from the agent's timer; wait again.
    // A lot: the wall clock jumped back, and the timer's own clock says the time has come; waiting
    // for the wall clock to catch up would stall the loop by the size of the jump.
    if (phase_deadline_ - now <= std::chrono::seconds(2)) {
      wake(phase_deadline_);
      return take();
    }
    phase_deadline_ = now;
  }
  if (auto* waiting = std::get_if<Waiting>(&phase_)) {
    if (auto retry = std::exchange(waiting->retry, std::nullopt)) request_apply(now, std::move(retry->point), retry->purpose);
    else continue_tuning(now);
  } else if (const auto* settling = std::get_if<Settling>(&phase_)) {
    const auto purpose = settling->purpose;
    phase_ = Observing{Measurement{purpose}};
    wake(now + std::chrono::duration_cast<TimePoint::duration>(window_duration(purpose)));
  } else if (auto* observing = std::get_if<Observing>(&phase_)) {
    auto& window = observing->window;
    if (window.scrapes.size() < policy_.min_samples && !window.extended) {
      window.extended = true;
      wake(now + std::chrono::duration_cast<TimePoint::duration>(window_duration(window.purpose)));
    } else {
      decide(now);
    }
  } else if (std::holds_alternative<CoolingDown>(phase_)) {
    propose(now);
  } else if (std::holds_alternative<SafeMode>(phase_)) {
    if (now >= safe_mode_until_.value_or(now)) leave_safe_mode(now, "recovery time passed");
    else wake(*safe_mode_until_);
  }
  return take();
}

std::vector<LoopAction> TuningLoop::on_apply_done(TimePoint now) {
  if (auto* stopped = std::get_if<Stopped>(&phase_); stopped != nullptr && stopped->restore) {
    guardrails_.record_apply(applied_, stopped->restore->point, now, stopped->restore->purpose);
    applied_ = stopped->restore->point;
    record(AppliedRecord{named(applied_), stopped->restore->purpose});
    stopped->restore.reset();
  }
  auto* applying = std::get_if<Applying>(&phase_);
  if (applying == nullptr) return take();
  const auto done = std::move(applying->apply); // what follows sets the next phase
  const bool then_roll_back = applying->then_roll_back;
  guardrails_.record_apply(applied_, done.point, now, done.purpose);
  applied_ = done.point;
  apply_backoff_.reset();
  refusals_in_a_row_ = 0;
  record(AppliedRecord{named(applied_), done.purpose});
  if (then_roll_back && incumbent_ && applied_ != *incumbent_) {
    // The operator's rollback that came while this apply was in flight (rollback_command()). The
    // move under way stays for move_to() to see: a counted rollback's step keeps its count.
    abandon_landed(done.purpose);
    move_back(now);
  } else if (mode_ == TuningMode::recommend &&
             (done.purpose == Purpose::candidate || done.purpose == Purpose::switchback)) {
    // Recommend mode came while this apply was in flight (see recommend_command()): what it applied
    // is not measured, and the one apply recommend mode makes takes the service back to the last
    // known good configuration.
    abandon_landed(done.purpose);
    move_.reset(); // a switchback's steps, abandoned (a counted rollback's steps are rollbacks)
    if (!parked(now)) continue_tuning(now);
  } else if (done.purpose == Purpose::candidate) {
    if (paused_) {
      solver_->cancel(applied_);
      phase_ = Paused{};
    } else {
      begin_measurement(now, Purpose::candidate);
    }
  } else if (move_ && applied_ != move_->target) {
    request_apply(now, guardrails_.step_toward(applied_, move_->target), done.purpose);
  } else {
    arrived(now, done.purpose);
  }
  return take();
}

std::vector<LoopAction> TuningLoop::on_apply_failed(TimePoint now, const std::string& error) {
  if (auto* stopped = std::get_if<Stopped>(&phase_); stopped != nullptr && stopped->restore) {
    record(ApplyFailedRecord{named(stopped->restore->point), stopped->restore->purpose, error});
    stopped->restore.reset();
  }
  auto* applying = std::get_if<Applying>(&phase_);
  if (applying == nullptr) return take();
  auto failed = std::move(applying->apply); // what follows sets the next phase
  record(ApplyFailedRecord{named(failed.point), failed.purpose, error});
  const auto backoff = apply_backoff_.failure();
  if (failed.purpose == Purpose::candidate) solver_->cancel(failed.point);
  if (failed.purpose == Purpose::switchback) {
    // The confirmation cannot go on: back to the incumbent, without promoting. Not roll_back(): the
    // step back waits out the failed apply's backoff, as every retry here does, and it is journaled
    // without the window's value, since no window ended.
    const auto* confirming = switchback();
    record_decision(confirming != nullptr ? confirming->candidate : failed.point, std::nullopt, DecisionVerdict::keep,
                    "not confirmed: an apply failed during switchback (" + error + ")", std::nullopt, std::nullopt);
    if (confirming != nullptr && confirming->kind == Switchback::Kind::guard_check) mark_last_decision_as_guard();
    if (confirming != nullptr && confirming->kind == Switchback::Kind::final_check && incumbent_ && baseline_)
      record_claim({}, 0.0, 0.0, "the confirmation stopped: an apply failed");
    comparison_ = std::monostate{};
    move_.reset();
    if (incumbent_ && applied_ != *incumbent_) {
      move_ = Move{*incumbent_};
      failed = ApplyAction{guardrails_.step_toward(applied_, *incumbent_), Purpose::rollback};
    } else {
      failed.purpose = Purpose::candidate; // nothing to retry: on the incumbent already
    }
  }
  if (apply_backoff_.failures() >= policy_.max_apply_failures && !safe_mode_until_) {
    enter_safe_mode(now, std::to_string(apply_backoff_.failures()) + " applies failed in a row, the last with: " + error);
    if (!std::holds_alternative<SafeMode>(phase_)) return take(); // a rollback is under way
    // A candidate has nothing to retry: the loop parks in safe mode now, not after the backoff
    // (where /status said "waiting").
    if (failed.purpose == Purpose::candidate) return take();
  }
  // A candidate is simply dropped; anything that moves back to safety is retried until it works.
  Waiting waiting;
  if (failed.purpose != Purpose::candidate) waiting.retry = std::move(failed);
  phase_ = std::move(waiting);
  wake(now + std::chrono::duration_cast<TimePoint::duration>(backoff));
  return take();
}

// --- the loop ---------------------------------------------------------------------------------

void TuningLoop::continue_tuning(TimePoint now) {
  comparison_ = std::monostate{}; // a confirmation interrupted by a pause, a veto or safe mode starts afresh
  if (!incumbent_) {
    begin_measurement(now, Purpose::baseline);
  } else if (applied_ != *incumbent_) {
    move_back(now);
  } else {
    propose(now);
  }
}

bool TuningLoop::parked(TimePoint now) {
  if (safe_mode_until_) {
    phase_ = SafeMode{};
    wake(std::max(now, *safe_mode_until_));
    return true;
  }
  if (paused_) {
    phase_ = Paused{};
    return true;
  }
  return false;
}

void TuningLoop::propose(TimePoint now) {
  if (std::holds_alternative<Intensification>(comparison_)) comparison_ = std::monostate{};
  if (parked(now)) return;
  if (mode_ == TuningMode::recommend) {
    recommend(now);
    return;
  }
  if (blind_ && incumbent_ && applied_ == *incumbent_) {
    begin_measurement(now, Purpose::remeasure);
    return;
  }
  if (windows_scored_ >= policy_.budget) {
    finish(now, "budget");
    return;
  }
  if (!policy_.enabled) {
    if (!disabled_refusal_recorded_)
      refuse({"disabled", "TRIMTAB_ENABLED=false: the agent measures but applies nothing"}, nullptr);
    disabled_refusal_recorded_ = true;
    phase_ = Disabled{};
    return;
  }
  if (policy_.remeasure_every > 0 && windows_since_remeasure_ >= policy_.remeasure_every) {
    windows_since_remeasure_ = 0;
    move_to(now, *incumbent_, Purpose::remeasure);
    return;
  }
  std::optional<Point> proposal;
  try {
    proposal = solver_->ask(guardrails_.candidate_box(applied_, *incumbent_));
  } catch (const std::exception& e) {
    enter_safe_mode(now, std::string("the solver failed: ") + e.what());
    return;
  }
  if (!proposal) {
    finish(now, "exhausted");
    return;
  }
  record(ProposalRecord{named(*proposal)});
  request_apply(now, std::move(*proposal), Purpose::candidate);
}

void TuningLoop::request_apply(TimePoint now, Point point, Purpose purpose) {
  if (held_back(now, point, purpose)) return;
  if (point == applied_) {
    // Nothing to change: what this apply would bring is already in force.
    if (purpose == Purpose::candidate) begin_measurement(now, Purpose::candidate);
    else arrived(now, purpose);
    return;
  }
  if (refused(now, point, purpose)) return;
  record(ApplyRecord{named(point), purpose});
  phase_ = Applying{ApplyAction{point, purpose}};
  actions_.emplace_back(ApplyAction{std::move(point), purpose});
}

bool TuningLoop::held_back(TimePoint now, const Point& point, Purpose purpose) {
  const bool moves_to_safety = purpose == Purpose::rollback || purpose == Purpose::restore;
  const bool measured = purpose == Purpose::candidate || purpose == Purpose::remeasure;
  if (!policy_.enabled) {
    if (!disabled_refusal_recorded_)
      refuse({"disabled", "TRIMTAB_ENABLED=false: the agent measures but applies nothing"}, &point);
    disabled_refusal_recorded_ = true;
    if (purpose == Purpose::candidate) solver_->cancel(point);
    phase_ = Disabled{};
    return true;
  }
  if (safe_mode_until_ && !moves_to_safety) {
    refuse({"safe_mode", "safe mode: only rollbacks are applied"}, &point);
    if (purpose == Purpose::candidate) solver_->cancel(point);
    phase_ = SafeMode{};
    wake(*safe_mode_until_);
    return true;
  }
  if (paused_ && (measured || purpose == Purpose::switchback)) {
    if (purpose == Purpose::candidate) solver_->cancel(point);
    comparison_ = std::monostate{};
    phase_ = Paused{};
    return true;
  }
  if (mode_ == TuningMode::recommend && purpose != Purpose::rollback) {
    // Only a rollback to the last known good configuration is made in recommend mode (when the
    // switch came in the middle of a candidate's window); everything else is measured where it is.
    refuse({"recommend_only", "mode recommend: the agent applies nothing"}, &point);
    if (purpose == Purpose::candidate) solver_->cancel(point);
    comparison_ = std::monostate{};
    move_.reset();
    begin_measurement(now, Purpose::remeasure);
    return true;
  }
  return false;
}

bool TuningLoop::refused(TimePoint now, const Point& point, Purpose purpose) {
  if (auto refusal = guardrails_.check_step(applied_, point)) {
    refuse(*refusal, &point);
    if (purpose == Purpose::candidate) solver_->cancel(point);
    wait_after_refusal(now, "three applies in a row were refused, the last for " + refusal->reason);
    return true;
  }
  const auto earliest = guardrails_.earliest_apply(purpose, now);
  if (earliest > now) {
    const bool rate = guardrails_.earliest_apply(Purpose::rollback, now) > now;
    const auto wait_ms = std::chrono::duration_cast<milliseconds>(earliest - now).count();
    refuse({rate ? "rate_limit" : "min_dwell",
            std::string(rate ? "max_updates_per_second" : "min_dwell") + " defers this apply by " +
                std::to_string(wait_ms) + " ms"},
           &point);
    phase_ = Waiting{ApplyAction{point, purpose}};
    wake(earliest);
    return true;
  }
  if (veto_ && purpose == Purpose::candidate) {
    if (auto reason = veto_(point)) {
      refuse({"host_veto", *reason}, &point);
      solver_->cancel(point);
      wait_after_refusal(now, "three applies in a row were refused, the last vetoed by the host: " + *reason);
      return true;
    }
  }
  return false;
}

void TuningLoop::wait_after_refusal(TimePoint now, const std::string& safe_mode_reason) {
  if (++refusals_in_a_row_ >= 3) {
    enter_safe_mode(now, safe_mode_reason);
    return;
  }
  phase_ = Waiting{};
  wake(now + std::chrono::duration_cast<TimePoint::duration>(std::max<milliseconds>(policy_.settle, 1s)));
}

void TuningLoop::move_to(TimePoint now, const Point& target, Purpose purpose, bool counted_rollback) {
  // Whoever else asks for the same move while a counted rollback is under way (an operator's
  // rollback, recommend mode, safe mode) does not waive its check on arrival (found by the
  // guardrail property test).
  const bool counted = counted_rollback || (move_ && move_->counted_rollback && move_->target == target);
  move_ = Move{target, counted};
  if (applied_ == target) {
    arrived(now, purpose);
    return;
  }
  request_apply(now, guardrails_.step_toward(applied_, target), purpose);
}

void TuningLoop::arrived(TimePoint now, Purpose purpose) {
  const bool counted_rollback = move_ && move_->counted_rollback;
  move_.reset();
  switch (purpose) {
  case Purpose::candidate:
  case Purpose::baseline: begin_measurement(now, purpose); break;
  case Purpose::switchback:
    if (!parked(now)) {
      if (switchback() != nullptr) begin_measurement(now, purpose);
      else continue_tuning(now);
    }
    break;
  case Purpose::remeasure:
  case Purpose::restore:
    if (study_done_) phase_ = Done{};
    else if (!parked(now)) begin_measurement(now, Purpose::remeasure);
    break;
  case Purpose::rollback: {
    // Only the rollbacks decide() ordered count against the budget (see move_to()).
    if (counted_rollback && !safe_mode_until_ && enter_safe_mode_if_rollbacks_spent(now)) break;
    if (!parked(now)) {
      phase_ = CoolingDown{};
      wake(now + std::chrono::duration_cast<TimePoint::duration>(policy_.settle));
    }
    break;
  }
  case Purpose::final_config:
    phase_ = Done{};
    if (!study_done_) {
      study_done_ = true;
      record(DoneRecord{finish_reason_, named(applied_), incumbent_value_.value_or(0.0)});
    }
    if (guarding() && applied_ == *incumbent_) {
      if (!guard_reference_) {
        // The best's level as the claim measured it: without the window that selected it.
        auto level = ledger_.unselected(applied_);
        if (level.windows == 0) level = ledger_.pooled(applied_);
        if (level.windows > 0) guard_from(level, "the study is done: the best is guarded from its measured level");
      }
      if (!parked(now)) begin_measurement(now, Purpose::remeasure);
    }
    break;
  }
}

void TuningLoop::begin_measurement(TimePoint now, Purpose purpose, bool settle) {
  if (settle && policy_.settle > 0ms) {
    phase_ = Settling{purpose};
    wake(now + std::chrono::duration_cast<TimePoint::duration>(policy_.settle));
  } else {
    phase_ = Observing{Measurement{purpose}};
    wake(now + std::chrono::duration_cast<TimePoint::duration>(window_duration(purpose)));
  }
}

// --- the rollback and safe mode ------------------------------------------------------------------

void TuningLoop::roll_back(TimePoint now, const RollbackDecision& decision) {
  record_decision(decision.about, decision.value, decision.verdict, decision.reason, decision.effect, decision.p_value,
                  decision.counted);
  const bool counted = decision.verdict == DecisionVerdict::rollback && decision.counted;
  if (counted) guardrails_.record_rollback(now);
  move_back(now, counted);
}

void TuningLoop::move_back(TimePoint now, bool counted_rollback) {
  move_to(now, *incumbent_, Purpose::rollback, counted_rollback);
}

bool TuningLoop::enter_safe_mode_if_rollbacks_spent(TimePoint now) {
  const auto rollbacks = guardrails_.rollbacks_in_last_hour(now);
  if (rollbacks <= guardrails_.policy().max_rollbacks_per_hour) return false;
  enter_safe_mode(now, std::to_string(rollbacks) + " rollbacks in the last hour, more than max_rollbacks_per_hour allows");
  return true;
}

void TuningLoop::enter_safe_mode(TimePoint now, const std::string& reason) {
  safe_mode_until_ = now + std::chrono::duration_cast<TimePoint::duration>(policy_.safe_mode_recovery);
  record(SafeModeRecord{true, reason});
  comparison_ = std::monostate{};
  if (incumbent_ && applied_ != *incumbent_ && policy_.enabled) {
    move_back(now);
  } else {
    phase_ = SafeMode{};
    wake(*safe_mode_until_);
  }
}

void TuningLoop::leave_safe_mode(TimePoint now, const std::string& reason) {
  safe_mode_until_.reset();
  refusals_in_a_row_ = 0;
  apply_backoff_.reset();
  record(SafeModeRecord{false, reason});
  // An apply in flight (the rollback safe mode started) continues the loop when it completes;
  // starting another now would put two applies in flight (found by the guardrail property test).
  if (!std::holds_alternative<Applying>(phase_)) continue_tuning(now);
}

} // namespace trimtab
