#include <trimtab/core/tuning_loop.hpp>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>
#include <stdexcept>

#include <boost/math/distributions/students_t.hpp>

#include <trimtab/core/overloaded.hpp>

#include <trimtab/core/guard.hpp>
#include <trimtab/core/journal_codec.hpp>
#include <trimtab/core/number_text.hpp>
#include <trimtab/core/point_json.hpp>
#include <trimtab/core/window.hpp>

namespace trimtab {
namespace {

using std::chrono::milliseconds;
using namespace std::chrono_literals;

std::size_t signal_index(const std::vector<SignalSpec>& signals, const std::string& name, const std::string& user) {
  for (std::size_t i = 0; i < signals.size(); ++i)
    if (signals[i].name == name) return i;
  throw std::invalid_argument(user + " uses '" + name + "', which is not a declared signal");
}

double mean_of(const std::vector<double>& values) { return summarize(values).mean; }

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

struct TuningLoop::Score {
  std::vector<std::optional<double>> signals;
  std::optional<double> value;     // the objective over the whole window, when it can be judged
  std::vector<double> constraints; // slack form, <= 0 holds
  std::vector<double> samples;     // the objective per scrape interval
  std::vector<std::vector<double>> constraint_samples; // each constraint's slack per scrape interval
  std::string missing;             // why there is no value

  [[nodiscard]] bool judgeable() const {
    return value && std::all_of(constraints.begin(), constraints.end(), [](double c) { return std::isfinite(c); });
  }
  [[nodiscard]] std::string why_not() const { return missing.empty() ? "a constraint's signal has no value" : missing; }
};

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
  if (policy_.switchback_pairs > 0 && policy_.switchback_duration <= 0ms)
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

void TuningLoop::refuse(const Refusal& refusal, const Point* point) {
  record(RefusalRecord{refusal.reason, refusal.detail, point != nullptr ? std::optional(named(*point)) : std::nullopt});
}

// --- replay and start -------------------------------------------------------------------------

void TuningLoop::replay(std::span<const boost::json::object> records) {
  auto replay = begin_replay();
  for (const auto& record : records) replay_record(replay, record);
  finish_replay(std::move(replay));
}

JournalLine TuningLoop::replay_record(Replay& replay, const boost::json::object& r) {
  const auto seq = r.if_contains("seq") ? boost::json::serialize(r.at("seq")) : std::string("?");
  try {
    auto line = decode_line(r);
    replay_record(replay, line);
    return line;
  } catch (const std::exception& e) {
    throw std::invalid_argument("journal record " + seq + ": " + e.what());
  }
}

void TuningLoop::replay_record(Replay& replay, const JournalLine& line) {
  replay.any = true;
  const TimePoint time{std::chrono::duration_cast<TimePoint::duration>(milliseconds(line.time_ms))};
  const auto or_nan = [](const std::vector<std::optional<double>>& values) {
    std::vector<double> out;
    for (const auto& v : values) out.push_back(v.value_or(NAN));
    return out;
  };
  // The configuration a record names, in the space this loop tunes.
  const auto point_in = [this](const char* field, const Settings& settings) {
    try {
      return point_of(solver_->space(), settings);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(std::string(field) + ": " + e.what());
    }
  };
  std::visit(
      detail::overloaded{
          [&](const ObservationRecord& r) {
            const auto point = point_in("point", r.point);
            Observation observation;
            observation.failed = r.failed;
            if (!r.failed) {
              observation.value = r.value;
              observation.constraints = or_nan(r.constraints);
              WindowEvidence evidence{observation.value, 0.0, 0, observation.constraints, false};
              if (r.sem) evidence.sem = *r.sem;
              observation.sem = evidence.sem;
              if (r.samples) evidence.intervals = *r.samples;
              remember(point, std::move(evidence));
            }
            if (!r.guard) { // the guard's windows: ledger only
              solver_->check(point, observation);
              replay.history.add(point, observation);
            }
            if (r.purpose == Purpose::candidate) {
              ++windows_scored_;
              ++windows_since_remeasure_;
            } else {
              windows_since_remeasure_ = 0;
            }
          },
          [&](const IncumbentRecord& r) {
            // samples_count/mean/variance stay in the record for older readers; verdicts now
            // come from the evidence ledger, rebuilt from the observations.
            incumbent_ = point_in("point", r.point);
            incumbent_value_ = r.value;
            if (r.selected) ledger_.mark_selected(*incumbent_);
            incumbent_load_ = r.load;
          },
          [&](const DecisionRecord& r) {
            if (r.verdict == DecisionVerdict::rollback && r.counted) guardrails_.record_rollback(time);
          },
          [&](const AppliedRecord& r) {
            const auto point = point_in("point", r.point);
            guardrails_.record_apply(replay.last_applied.value_or(point), point, time, r.purpose);
            replay.last_applied = point;
          },
          [&](const OperatorRecord& r) {
            if (r.action == OperatorCommand::pause) paused_ = true;
            if (r.action == OperatorCommand::resume) paused_ = false;
          },
          [&](const SafeModeRecord& r) {
            safe_mode_ = r.entered;
            if (safe_mode_) safe_mode_until_ = time + std::chrono::duration_cast<TimePoint::duration>(policy_.safe_mode_recovery);
          },
          [&](const DoneRecord&) { done_ = true; },
          [&](const GuardRecord& r) {
            PooledEvidence level;
            level.mean = r.value;
            level.sem = r.sem;
            level.windows = r.windows;
            level.degrees_of_freedom = level.windows > 1 ? static_cast<double>(level.windows - 1) : 1.0;
            level.constraints = or_nan(r.constraints);
            guard_reference_ = std::move(level);
            guard_recent_.clear();
          },
          [&](const ClaimRecord& r) {
            claimed_ = true;
            claim_ = r;
          },
          [&](const StartRecord& r) {
            if (!baseline_) baseline_ = point_in("baseline", r.baseline);
            replay.started_in = r.mode;
            replay.switched = false;
          },
          [&](const ModeRecord& r) {
            replay.switched_to = r.mode;
            replay.switched = true;
          },
          [](const auto&) {}, // nothing a restart needs
      },
      line.record);
}

void TuningLoop::finish_replay(Replay replay) {
  solver_->seed(replay.history);
  resumed_ = replay.any;
  // An operator's switch outlives a restart, unless the configured mode changed since: then the
  // file is the newer word.
  if (replay.switched && replay.started_in == policy_.mode) mode_ = replay.switched_to;
}

std::vector<LoopAction> TuningLoop::start(TimePoint now, const Point& running) {
  if (phase_ != LoopPhase::not_started) throw std::logic_error("TuningLoop::start called twice");
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
    move_to(now, *incumbent_, done_ ? Purpose::final_config : Purpose::restore);
  } else {
    begin_measurement(now, Purpose::baseline);
  }
  return take();
}

// --- events -----------------------------------------------------------------------------------

std::vector<LoopAction> TuningLoop::on_stop(StopTarget target) {
  if (phase_ == LoopPhase::stopped) return take();
  phase_ = LoopPhase::stopped;
  pending_.reset();
  switchback_.reset();
  move_target_.reset();
  std::optional<Point> to;
  if (target == StopTarget::last_known_good) to = incumbent_;
  if (target == StopTarget::baseline) to = baseline_;
  if (!to || *to == applied_ || !policy_.enabled || mode_ == TuningMode::recommend || paused_) return take();
  record(ApplyRecord{named(*to), Purpose::restore});
  pending_ = ApplyAction{*to, Purpose::restore};
  actions_.emplace_back(ApplyAction{*to, Purpose::restore});
  return take();
}

std::vector<LoopAction> TuningLoop::on_scrape(TimePoint now, Scrape scrape) {
  if (phase_ == LoopPhase::observing && (scrapes_.empty() || scrape.time_seconds > scrapes_.back().time_seconds)) {
    scrapes_.push_back(std::move(scrape));
    if (scrapes_.size() >= 2) add_interval();
    // A candidate that is clearly worse, or clearly breaks a constraint, is not measured to the
    // end of its window: the mixture SPRT stays valid however often it is checked.
    if (measuring_ == Purpose::candidate && policy_.end_windows_early && incumbent_ && scrapes_.size() >= policy_.min_samples)
      if (auto why = clearly_bad(interval_objective_, interval_constraints_); !why.empty()) decide(now, why);
  }
  return take();
}

std::vector<LoopAction> TuningLoop::on_timer(TimePoint now) {
  if (phase_ == LoopPhase::stopped) return take();
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
  switch (phase_) {
  case LoopPhase::waiting:
    if (pending_) {
      auto pending = std::move(*pending_);
      pending_.reset();
      request_apply(now, std::move(pending.point), pending.purpose);
    } else {
      continue_tuning(now);
    }
    break;
  case LoopPhase::settling:
    phase_ = LoopPhase::observing;
    clear_window();
    wake(now + std::chrono::duration_cast<TimePoint::duration>(window_duration()));
    break;
  case LoopPhase::observing:
    if (scrapes_.size() < policy_.min_samples && !window_extended_) {
      window_extended_ = true;
      wake(now + std::chrono::duration_cast<TimePoint::duration>(window_duration()));
    } else {
      decide(now);
    }
    break;
  case LoopPhase::cooling_down: propose(now); break;
  case LoopPhase::safe_mode:
    if (now >= safe_mode_until_) leave_safe_mode(now, "recovery time passed");
    else wake(safe_mode_until_);
    break;
  default: break;
  }
  return take();
}

std::vector<LoopAction> TuningLoop::on_apply_done(TimePoint now) {
  if (phase_ == LoopPhase::stopped && pending_) {
    guardrails_.record_apply(applied_, pending_->point, now, pending_->purpose);
    applied_ = pending_->point;
    record(AppliedRecord{named(applied_), pending_->purpose});
    pending_.reset();
  }
  if (phase_ != LoopPhase::applying || !pending_) return take();
  auto done = std::move(*pending_);
  pending_.reset();
  guardrails_.record_apply(applied_, done.point, now, done.purpose);
  applied_ = done.point;
  apply_backoff_.reset();
  refusals_in_a_row_ = 0;
  record(AppliedRecord{named(applied_), done.purpose});
  if (done.purpose == Purpose::candidate) {
    if (paused_) {
      solver_->cancel(applied_);
      phase_ = LoopPhase::paused;
    } else {
      begin_measurement(now, Purpose::candidate);
    }
  } else if (move_target_ && applied_ != *move_target_) {
    request_apply(now, guardrails_.step_toward(applied_, *move_target_), done.purpose);
  } else {
    arrived(now, done.purpose);
  }
  return take();
}

std::vector<LoopAction> TuningLoop::on_apply_failed(TimePoint now, const std::string& error) {
  if (phase_ == LoopPhase::stopped && pending_) {
    record(ApplyFailedRecord{named(pending_->point), pending_->purpose, error});
    pending_.reset();
  }
  if (phase_ != LoopPhase::applying || !pending_) return take();
  auto failed = std::move(*pending_);
  pending_.reset();
  record(ApplyFailedRecord{named(failed.point), failed.purpose, error});
  const auto backoff = apply_backoff_.failure();
  if (failed.purpose == Purpose::candidate) solver_->cancel(failed.point);
  if (failed.purpose == Purpose::switchback) {
    // The confirmation cannot go on: back to the incumbent, without promoting.
    DecisionRecord decision;
    decision.point = named(switchback_ ? switchback_->candidate : failed.point);
    decision.verdict = DecisionVerdict::keep;
    decision.reason = "not confirmed: an apply failed during switchback (" + error + ")";
    decision.incumbent_value = incumbent_value_;
    record(std::move(decision));
    if (switchback_ && switchback_->final_check && incumbent_ && baseline_)
      record_claim({}, 0.0, 0.0, "the confirmation stopped: an apply failed");
    switchback_.reset();
    move_target_.reset();
    if (incumbent_ && applied_ != *incumbent_) {
      move_target_ = *incumbent_;
      failed = ApplyAction{guardrails_.step_toward(applied_, *incumbent_), Purpose::rollback};
    } else {
      failed.purpose = Purpose::candidate; // nothing to retry: on the incumbent already
    }
  }
  if (apply_backoff_.failures() >= policy_.max_apply_failures && !safe_mode_) {
    enter_safe_mode(now, std::to_string(apply_backoff_.failures()) + " applies failed in a row, the last with: " + error);
    if (phase_ != LoopPhase::safe_mode) return take(); // a rollback is under way
  }
  // A candidate is simply dropped; anything that moves back to safety is retried until it works.
  if (failed.purpose != Purpose::candidate) pending_ = std::move(failed);
  phase_ = LoopPhase::waiting;
  wake(now + std::chrono::duration_cast<TimePoint::duration>(backoff));
  return take();
}

CommandOutcome TuningLoop::on_command(TimePoint now, OperatorCommand command, const std::string& source) {
  if (phase_ == LoopPhase::stopped) return CommandOutcome{false, "the agent is stopping", {}};
  record(OperatorRecord{command, source});
  CommandOutcome outcome;
  auto abandon_window = [&] {
    if ((phase_ == LoopPhase::settling || phase_ == LoopPhase::observing) && measuring_ == Purpose::candidate)
      solver_->cancel(applied_);
    if (pending_ && pending_->purpose == Purpose::candidate) {
      solver_->cancel(pending_->point);
      pending_.reset();
    }
    switchback_.reset();
    intensifying_.reset();
  };
  switch (command) {
  case OperatorCommand::pause:
    if (paused_) {
      outcome.message = "already paused";
      break;
    }
    paused_ = true;
    if (phase_ == LoopPhase::settling || phase_ == LoopPhase::observing || phase_ == LoopPhase::cooling_down ||
        (phase_ == LoopPhase::waiting && (!pending_ || pending_->purpose == Purpose::candidate))) {
      abandon_window();
      phase_ = LoopPhase::paused;
    }
    outcome.message = "paused: nothing more is applied until resume; the configuration in force stays";
    break;
  case OperatorCommand::resume:
    if (!paused_ && !safe_mode_) {
      outcome.message = "not paused";
      break;
    }
    paused_ = false;
    if (safe_mode_) {
      leave_safe_mode(now, "operator resumed (" + source + ")");
    } else if (phase_ == LoopPhase::paused) {
      continue_tuning(now);
    }
    outcome.message = "resumed";
    break;
  case OperatorCommand::rollback:
    if (!incumbent_) {
      outcome.ok = false;
      outcome.message = "there is no known good configuration yet (the baseline is still being measured)";
    } else if (phase_ == LoopPhase::applying) {
      outcome.ok = false;
      outcome.message = "an apply is in flight; try again when it has finished";
    } else if (!policy_.enabled) {
      outcome.ok = false;
      outcome.message = "applying is disabled (TRIMTAB_ENABLED=false)";
    } else if (applied_ == *incumbent_) {
      outcome.message = "already on the last known good configuration";
    } else {
      abandon_window();
      pending_.reset();
      move_to(now, *incumbent_, Purpose::rollback);
      outcome.message = "rolling back to the last known good configuration";
    }
    break;
  case OperatorCommand::recommend:
    if (mode_ == TuningMode::recommend) {
      outcome.message = "already recommending";
      break;
    }
    if (phase_ == LoopPhase::applying) {
      outcome.ok = false;
      outcome.message = "an apply is in flight; try again when it has finished";
      break;
    }
    mode_ = TuningMode::recommend;
    record(ModeRecord{TuningMode::recommend, source});
    outcome.message = "recommend-only: nothing more is applied; the agent measures what runs and publishes its recommendation";
    if (paused_ || safe_mode_ || !incumbent_ || phase_ == LoopPhase::done || phase_ == LoopPhase::disabled) break;
    if ((phase_ == LoopPhase::settling || phase_ == LoopPhase::observing) && measuring_ != Purpose::candidate &&
        measuring_ != Purpose::switchback)
      break; // the running configuration's window goes on, and counts
    abandon_window();
    pending_.reset();
    if (applied_ != *incumbent_) {
      // Leave nothing half-measured in force: the one apply recommend mode makes.
      move_to(now, *incumbent_, Purpose::rollback);
      outcome.message += "; first back to the last known good configuration";
    } else {
      recommend(now);
    }
    break;
  case OperatorCommand::apply:
    if (mode_ == TuningMode::apply) {
      outcome.message = "already applying";
      break;
    }
    mode_ = TuningMode::apply;
    record(ModeRecord{TuningMode::apply, source});
    // The window under way (the running configuration) finishes and counts; the next is a candidate.
    outcome.message = policy_.enabled ? "applying: tuning goes on from the recommendation's evidence"
                                      : "mode apply, but applying is disabled (TRIMTAB_ENABLED=false)";
    break;
  }
  outcome.actions = take();
  return outcome;
}

// --- the loop ---------------------------------------------------------------------------------

void TuningLoop::continue_tuning(TimePoint now) {
  switchback_.reset(); // a confirmation interrupted by a pause, a veto or safe mode starts afresh
  intensifying_.reset();
  if (!incumbent_) {
    begin_measurement(now, Purpose::baseline);
  } else if (applied_ != *incumbent_) {
    move_to(now, *incumbent_, Purpose::rollback);
  } else {
    propose(now);
  }
}

bool TuningLoop::parked(TimePoint now) {
  if (safe_mode_) {
    phase_ = LoopPhase::safe_mode;
    wake(std::max(now, safe_mode_until_));
    return true;
  }
  if (paused_) {
    phase_ = LoopPhase::paused;
    return true;
  }
  return false;
}

void TuningLoop::propose(TimePoint now) {
  intensifying_.reset();
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
    phase_ = LoopPhase::disabled;
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
  const bool moves_to_safety = purpose == Purpose::rollback || purpose == Purpose::restore;
  const bool measured = purpose == Purpose::candidate || purpose == Purpose::remeasure;
  if (!policy_.enabled) {
    if (!disabled_refusal_recorded_)
      refuse({"disabled", "TRIMTAB_ENABLED=false: the agent measures but applies nothing"}, &point);
    disabled_refusal_recorded_ = true;
    if (purpose == Purpose::candidate) solver_->cancel(point);
    phase_ = LoopPhase::disabled;
    return;
  }
  if (safe_mode_ && !moves_to_safety) {
    refuse({"safe_mode", "safe mode: only rollbacks are applied"}, &point);
    if (purpose == Purpose::candidate) solver_->cancel(point);
    phase_ = LoopPhase::safe_mode;
    wake(safe_mode_until_);
    return;
  }
  if (paused_ && (measured || purpose == Purpose::switchback)) {
    if (purpose == Purpose::candidate) solver_->cancel(point);
    switchback_.reset();
    phase_ = LoopPhase::paused;
    return;
  }
  if (mode_ == TuningMode::recommend && purpose != Purpose::rollback) {
    // Only a rollback to the last known good configuration is made in recommend mode (when the
    // switch came in the middle of a candidate's window); everything else is measured where it is.
    refuse({"recommend_only", "mode recommend: the agent applies nothing"}, &point);
    if (purpose == Purpose::candidate) solver_->cancel(point);
    switchback_.reset();
    move_target_.reset();
    begin_measurement(now, Purpose::remeasure);
    return;
  }
  if (point == applied_) {
    // Nothing to change: what this apply would bring is already in force.
    if (purpose == Purpose::candidate) begin_measurement(now, Purpose::candidate);
    else arrived(now, purpose);
    return;
  }
  if (auto refusal = guardrails_.check_step(applied_, point)) {
    refuse(*refusal, &point);
    if (purpose == Purpose::candidate) solver_->cancel(point);
    if (++refusals_in_a_row_ >= 3) {
      enter_safe_mode(now, "three applies in a row were refused, the last for " + refusal->reason);
      return;
    }
    phase_ = LoopPhase::waiting;
    wake(now + std::chrono::duration_cast<TimePoint::duration>(std::max<milliseconds>(policy_.settle, 1s)));
    return;
  }
  const auto earliest = guardrails_.earliest_apply(purpose, now);
  if (earliest > now) {
    const bool rate = guardrails_.earliest_apply(Purpose::rollback, now) > now;
    const auto wait_ms = std::chrono::duration_cast<milliseconds>(earliest - now).count();
    refuse({rate ? "rate_limit" : "min_dwell",
            std::string(rate ? "max_updates_per_second" : "min_dwell") + " defers this apply by " +
                std::to_string(wait_ms) + " ms"},
           &point);
    pending_ = ApplyAction{std::move(point), purpose};
    phase_ = LoopPhase::waiting;
    wake(earliest);
    return;
  }
  if (veto_ && purpose == Purpose::candidate) {
    if (auto reason = veto_(point)) {
      refuse({"host_veto", *reason}, &point);
      solver_->cancel(point);
      if (++refusals_in_a_row_ >= 3) {
        enter_safe_mode(now, "three applies in a row were refused, the last vetoed by the host: " + *reason);
        return;
      }
      phase_ = LoopPhase::waiting;
      wake(now + std::chrono::duration_cast<TimePoint::duration>(std::max<milliseconds>(policy_.settle, 1s)));
      return;
    }
  }
  record(ApplyRecord{named(point), purpose});
  pending_ = ApplyAction{point, purpose};
  phase_ = LoopPhase::applying;
  actions_.emplace_back(ApplyAction{std::move(point), purpose});
}

void TuningLoop::move_to(TimePoint now, const Point& target, Purpose purpose) {
  move_target_ = target;
  if (applied_ == target) {
    arrived(now, purpose);
    return;
  }
  request_apply(now, guardrails_.step_toward(applied_, target), purpose);
}

void TuningLoop::arrived(TimePoint now, Purpose purpose) {
  move_target_.reset();
  switch (purpose) {
  case Purpose::candidate:
  case Purpose::baseline: begin_measurement(now, purpose); break;
  case Purpose::switchback:
    if (!parked(now)) {
      if (switchback_) begin_measurement(now, purpose);
      else continue_tuning(now);
    }
    break;
  case Purpose::remeasure:
  case Purpose::restore:
    if (done_) phase_ = LoopPhase::done;
    else if (!parked(now)) begin_measurement(now, Purpose::remeasure);
    break;
  case Purpose::rollback: {
    // Only the rollbacks decide() ordered count against the budget, whoever else asked for the same
    // move while it waited (an operator's rollback must not waive the check; found by the
    // guardrail property test).
    const bool automatic = automatic_rollback_pending_;
    automatic_rollback_pending_ = false;
    if (automatic && !safe_mode_ &&
        guardrails_.rollbacks_in_last_hour(now) > guardrails_.policy().max_rollbacks_per_hour) {
      enter_safe_mode(now, std::to_string(guardrails_.rollbacks_in_last_hour(now)) +
                               " rollbacks in the last hour, more than max_rollbacks_per_hour allows");
    } else if (!parked(now)) {
      phase_ = LoopPhase::cooling_down;
      wake(now + std::chrono::duration_cast<TimePoint::duration>(policy_.settle));
    }
    break;
  }
  case Purpose::final_config:
    phase_ = LoopPhase::done;
    if (!done_) {
      done_ = true;
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
  measuring_ = purpose;
  clear_window();
  window_extended_ = false;
  if (settle && policy_.settle > 0ms) {
    phase_ = LoopPhase::settling;
    wake(now + std::chrono::duration_cast<TimePoint::duration>(policy_.settle));
  } else {
    phase_ = LoopPhase::observing;
    wake(now + std::chrono::duration_cast<TimePoint::duration>(window_duration()));
  }
}

std::chrono::milliseconds TuningLoop::window_duration() const noexcept {
  return measuring_ == Purpose::switchback ? policy_.switchback_duration : policy_.duration;
}

TuningLoop::Score TuningLoop::score_window() const {
  Score score;
  Window window(policy_.signals);
  for (const auto& scrape : scrapes_) window.add(scrape);
  for (const auto& spec : policy_.signals) score.signals.push_back(window.value(spec.name));

  auto gather = [&](const std::vector<std::size_t>& inputs, const std::vector<std::optional<double>>& signals,
                    std::vector<double>& values) {
    values.clear();
    for (auto index : inputs) {
      if (!signals[index]) return false;
      values.push_back(*signals[index]);
    }
    return true;
  };
  std::vector<double> values;
  if (gather(objective_inputs_, score.signals, values)) {
    const double value = policy_.objective.evaluate(values);
    if (std::isfinite(value)) score.value = value;
    else score.missing = "the objective is not a finite number over this window";
  } else {
    for (auto index : objective_inputs_)
      if (!score.signals[index]) {
        score.missing = "signal '" + policy_.signals[index].name + "' has no value over this window";
        break;
      }
  }
  for (std::size_t c = 0; c < policy_.constraints.size(); ++c)
    score.constraints.push_back(gather(constraint_inputs_[c], score.signals, values) ? policy_.constraints[c].slack(values)
                                                                                       : NAN);
  // Per-interval objective and constraint values, gathered scrape by scrape (add_interval).
  score.samples = interval_objective_;
  score.constraint_samples = interval_constraints_;
  score.constraint_samples.resize(policy_.constraints.size()); // no interval yet: none each
  return score;
}

void TuningLoop::add_interval() {
  // The interval between the last two scrapes: the spread behind each window's standard error and
  // the sequential test. Computed once per scrape, not again for every check of the window.
  interval_constraints_.resize(policy_.constraints.size());
  Window pair(policy_.signals);
  pair.add(scrapes_[scrapes_.size() - 2]);
  pair.add(scrapes_.back());
  std::vector<std::optional<double>> signals;
  for (const auto& spec : policy_.signals) signals.push_back(pair.value(spec.name));
  std::vector<double> values;
  auto gather = [&](const std::vector<std::size_t>& inputs) {
    values.clear();
    for (auto index : inputs) {
      if (!signals[index]) return false;
      values.push_back(*signals[index]);
    }
    return true;
  };
  if (gather(objective_inputs_)) {
    const double value = policy_.objective.evaluate(values);
    if (std::isfinite(value)) interval_objective_.push_back(value);
  }
  for (std::size_t c = 0; c < policy_.constraints.size(); ++c)
    if (gather(constraint_inputs_[c])) {
      const double slack = policy_.constraints[c].slack(values);
      if (std::isfinite(slack)) interval_constraints_[c].push_back(slack);
    }
}

void TuningLoop::clear_window() {
  scrapes_.clear();
  interval_objective_.clear();
  interval_constraints_.clear();
}

Observation TuningLoop::solver_observation(const Score& score) const {
  Observation observation{*score.value, score.constraints, false};
  // The window's standard error is the point's own noise for the solver; unknown with fewer
  // than two intervals.
  const auto evidence = window_evidence(score);
  if (evidence.intervals >= 2) observation.sem = evidence.sem;
  return observation;
}

WindowEvidence TuningLoop::window_evidence(const Score& score) const {
  WindowEvidence evidence;
  evidence.value = score.value.value_or(0.0);
  const auto spread = summarize(score.samples);
  evidence.intervals = spread.count;
  evidence.sem = spread.count >= 2 ? std::sqrt(spread.variance / static_cast<double>(spread.count)) : 0.0;
  evidence.constraints = score.constraints;
  return evidence;
}

void TuningLoop::record_observation(const Point& point, const Score& score, bool failed) {
  ObservationRecord r;
  r.point = named(point);
  r.purpose = measuring_;
  for (std::size_t i = 0; i < policy_.signals.size(); ++i) r.signals.emplace_back(policy_.signals[i].name, score.signals[i]);
  r.samples = score.samples.size();
  r.window = measuring_ == Purpose::candidate ? windows_scored_ : 0;
  r.guard = guarding() && (measuring_ == Purpose::remeasure || measuring_ == Purpose::switchback);
  r.failed = failed;
  if (!failed) {
    r.value = *score.value;
    r.sem = window_evidence(score).sem;
    for (double c : score.constraints) r.constraints.emplace_back(std::isfinite(c) ? std::optional<double>(c) : std::nullopt);
  }
  record(std::move(r));
}

void TuningLoop::record_decision(const Point& about, std::optional<double> value, DecisionVerdict verdict,
                                 const std::string& reason, std::optional<double> effect, std::optional<double> p,
                                 bool counted) {
  DecisionRecord r{named(about), verdict, reason, value, incumbent_value_, effect, p, counted, std::nullopt, false};
  const auto pooled = ledger_.pooled(about);
  if (pooled.windows > 1) r.pooled = PooledValue{pooled.mean, pooled.sem, pooled.windows};
  record(std::move(r));
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

void TuningLoop::roll_back(TimePoint now, bool counted) {
  if (counted) {
    guardrails_.record_rollback(now);
    automatic_rollback_pending_ = true;
  }
  move_to(now, *incumbent_, Purpose::rollback);
}

std::string TuningLoop::clearly_bad(std::span<const double> objective_samples,
                                    std::span<const std::vector<double>> constraint_samples) const {
  const double evidence_needed = 1.0 / (1.0 - policy_.confidence);
  for (std::size_t c = 0; c < constraint_samples.size(); ++c) {
    const auto spread = summarize(constraint_samples[c]);
    if (spread.count < 2 || !(spread.mean > 0.0)) continue;
    const double worth_finding = 0.1 * std::max(std::abs(rules_.constraint_scales[c]), 1e-9);
    if (mixture_likelihood_ratio(spread.mean, spread.variance / static_cast<double>(spread.count), worth_finding) >= evidence_needed)
      return "'" + policy_.constraints[c].text + "' broken by a clear margin (mSPRT)";
  }
  if (!policy_.rollback_on_regression || !incumbent_) return {};
  const auto incumbent = ledger_.pooled(*incumbent_);
  if (incumbent.windows == 0 || !incumbent.feasible()) return {};
  const double sign = policy_.direction == Direction::maximize ? 1.0 : -1.0;
  std::vector<double> signed_samples(objective_samples.begin(), objective_samples.end());
  for (auto& s : signed_samples) s *= sign;
  const auto spread = summarize(signed_samples);
  if (spread.count < 2) return {};
  const double gain = spread.mean - sign * incumbent.mean;
  const double threshold = policy_.regression_threshold.around(incumbent.mean);
  if (!(-gain > threshold)) return {};
  const double variance = spread.variance / static_cast<double>(spread.count) + incumbent.sem * incumbent.sem;
  if (mixture_likelihood_ratio(gain, variance, std::max(threshold, 1e-12)) >= evidence_needed)
    return "clearly worse than the incumbent (mSPRT)";
  return {};
}

void TuningLoop::decide(TimePoint now, const std::string& ended_early) {
  const auto score = score_window();
  last_signals_ = score.signals;
  if (measuring_ == Purpose::switchback) {
    decide_switchback(now, score);
    return;
  }
  if (measuring_ == Purpose::candidate) {
    decide_candidate(now, score, ended_early);
    return;
  }
  if (measuring_ == Purpose::remeasure && guarding()) {
    decide_guard(now, score);
    return;
  }
  // The baseline or the incumbent again: its evidence is what candidates are judged against.
  const auto point = applied_;
  if (!score.judgeable()) {
    blind_ = true;
    record_decision(point, score.value, DecisionVerdict::discard,
                    "cannot score the " + std::string(purpose_name(measuring_)) + " window: " + score.why_not(), std::nullopt,
                    std::nullopt);
    begin_measurement(now, measuring_);
    return;
  }
  record_observation(point, score, false);
  remember(point, window_evidence(score));
  solver_->tell(point, solver_observation(score));
  blind_ = false;
  std::string reason = measuring_ == Purpose::baseline ? "baseline measured" : "incumbent measured again";
  for (std::size_t c = 0; c < score.constraints.size(); ++c)
    if (score.constraints[c] > 0) reason += "; it breaks '" + policy_.constraints[c].text + "'";
  record_decision(point, score.value, DecisionVerdict::keep, reason, std::nullopt, std::nullopt);
  make_incumbent(now, point, score, false);
  windows_since_remeasure_ = 0;
  if (intensifying_ && measuring_ == Purpose::remeasure) {
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
    record_decision(point, score.value, DecisionVerdict::rollback, "no data: " + score.why_not(), std::nullopt, std::nullopt);
    blind_ = true;
    roll_back(now, true);
    return;
  }
  if (load_index_ && incumbent_load_ && score.signals[*load_index_] && *incumbent_load_ != 0.0) {
    const double drift = std::abs(*score.signals[*load_index_] / *incumbent_load_ - 1.0);
    if (drift > policy_.load_band) {
      const auto moved = "'" + *policy_.load_signal + "' is " + number_text(*score.signals[*load_index_]) + " against " +
                         number_text(*incumbent_load_) + " when the incumbent was measured (" + number_text(drift * 100) + "% apart)";
      // A broken constraint is rolled back whatever the load did: a load signal that the
      // configuration itself moves (closed-loop throughput) must not hide it.
      if (auto broken = clearly_broken(score); !broken.empty()) {
        ++windows_scored_;
        ++windows_since_remeasure_;
        record_observation(point, score, false);
        solver_->tell(point, solver_observation(score));
        record_decision(point, score.value, DecisionVerdict::rollback, "breaks " + broken + ", although the load moved: " + moved, std::nullopt,
                        std::nullopt);
        roll_back(now, true);
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
    record_decision(point, score.value, DecisionVerdict::rollback, reason, verdict.effect, verdict.p_value, !verdict.uncounted);
    roll_back(now, !verdict.uncounted);
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
    switchback_ = Switchback{.candidate = point};
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
    intensifying_ = std::move(next);
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
  auto close_call = std::move(*intensifying_);
  intensifying_.reset();
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

std::string TuningLoop::clearly_broken(const Score& score) const {
  std::string broken;
  for (std::size_t c = 0; c < score.constraints.size(); ++c) {
    const auto spread = summarize(score.constraint_samples[c]);
    const double margin =
        std::max(0.1 * std::abs(rules_.constraint_scales[c]), spread.count >= 2 ? 2.0 * std::sqrt(spread.variance / static_cast<double>(spread.count)) : 0.0);
    if (score.constraints[c] > margin) {
      if (!broken.empty()) broken += ", ";
      broken += "'" + policy_.constraints[c].text + "' (by " + number_text(score.constraints[c]) + ")";
    }
  }
  return broken;
}

void TuningLoop::decide_switchback(TimePoint now, const Score& score) {
  if (!switchback_) { // abandoned while this window ran
    continue_tuning(now);
    return;
  }
  auto& confirming = *switchback_;
  if (confirming.guard_check) {
    decide_guard_check(now, score, confirming);
    return;
  }
  const auto point = applied_;
  const bool on_candidate = point == confirming.candidate;
  const double sign = policy_.direction == Direction::maximize ? 1.0 : -1.0;
  std::string problem;
  bool broke = false;
  if (!score.judgeable()) {
    problem = "no data in a switchback window: " + score.why_not();
  } else {
    remember(point, window_evidence(score));
    if (on_candidate && !confirming.final_check)
      for (std::size_t c = 0; c < score.constraints.size() && problem.empty(); ++c)
        if (score.constraints[c] > 0) {
          problem = "breaks '" + policy_.constraints[c].text + "' (by " + number_text(score.constraints[c]) + ") in a switchback window";
          broke = true;
        }
  }
  // Pairs alternate, the incumbent's window first. A window out of turn means the move to the other
  // side never happened: a max_delta that rounds the step back to where the service is (found by
  // the guardrail property test, where it read an empty pair).
  const bool in_turn = on_candidate ? confirming.candidate_values.size() < confirming.incumbent_values.size()
                                    : point == *incumbent_ && confirming.incumbent_values.size() == confirming.candidate_values.size();
  if (problem.empty() && !in_turn)
    problem = std::string("the guardrails kept the pair from alternating (a window on ") +
              (on_candidate ? "the candidate" : "a configuration outside the pair") + " out of turn)";
  if (!problem.empty()) {
    if (!score.judgeable()) blind_ = true;
    if (confirming.final_check) {
      switchback_.reset();
      claim_and_finish(now, {}, 0.0, 0.0, "the confirmation stopped: " + problem);
      return;
    }
    record_decision(confirming.candidate, score.value, broke ? DecisionVerdict::rollback : DecisionVerdict::keep, "not confirmed: " + problem, std::nullopt,
                    std::nullopt);
    switchback_.reset();
    roll_back(now, broke);
    return;
  }
  if (!on_candidate) {
    confirming.incumbent_values.push_back(*score.value);
    move_to(now, confirming.candidate, Purpose::switchback);
    return;
  }
  confirming.candidate_values.push_back(*score.value);
  const auto pair = confirming.candidate_values.size();
  const auto pairs_wanted = confirming.final_check ? policy_.final_confirmation_pairs : policy_.switchback_pairs;
  record_switchback_pair(confirming, pair, pairs_wanted);
  if (pair < pairs_wanted) {
    move_to(now, *incumbent_, Purpose::switchback);
    return;
  }
  std::vector<double> differences;
  for (std::size_t i = 0; i < pair; ++i)
    differences.push_back(sign * (confirming.candidate_values[i] - confirming.incumbent_values[i]));
  const double incumbent_mean = mean_of(confirming.incumbent_values);
  const double candidate_mean = mean_of(confirming.candidate_values);
  if (confirming.final_check) {
    // The best's gain over the baseline is minus the baseline's gain over the best.
    for (auto& d : differences) d = -d;
    switchback_.reset();
    claim_and_finish(now, differences, candidate_mean, incumbent_mean, {});
    return;
  }
  const auto test = paired_t_test(differences);
  const double gain = sign * (candidate_mean - incumbent_mean);
  const double effect = incumbent_mean != 0.0 ? gain / std::abs(incumbent_mean) : gain;
  const double p = test ? test->p_greater : 1.0;
  const auto pairs_text = std::to_string(pair) + " switchback pairs";
  if (gain >= policy_.required_improvement.around(incumbent_mean) && gain > 0 && p < 1.0 - policy_.confidence) {
    record_decision(point, candidate_mean, DecisionVerdict::promote,
                    "better by " + number_text(effect * 100) + "% over " + pairs_text + " (paired p=" + number_text(p) + ")", effect, p);
    switchback_.reset();
    make_incumbent(now, point, score, true);
    propose(now);
    return;
  }
  record_decision(point, candidate_mean, DecisionVerdict::keep,
                  "not confirmed by " + pairs_text + ": " + number_text(effect * 100) + "% (paired p=" + number_text(p) + ")", effect, p);
  switchback_.reset();
  move_to(now, *incumbent_, Purpose::rollback);
}

void TuningLoop::record_switchback_pair(const Switchback& pairs, std::size_t pair, std::size_t of) {
  const double sign = policy_.direction == Direction::maximize ? 1.0 : -1.0;
  const double a = pairs.incumbent_values.back(), b = pairs.candidate_values.back();
  record(SwitchbackRecord{pair, of, named(pairs.candidate), named(*incumbent_), a, b, sign * (b - a), pairs.final_check, pairs.guard_check});
}

// --- after the study: guarding the best ----------------------------------------------------------

bool TuningLoop::guarding() const noexcept {
  return done_ && policy_.guard_after_study && mode_ == TuningMode::apply && policy_.enabled && incumbent_.has_value();
}

std::size_t TuningLoop::guard_check_pairs() const noexcept {
  return policy_.final_confirmation_pairs >= 2 ? policy_.final_confirmation_pairs : 3;
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
  auto mark_guard = [&] { std::get<DecisionRecord>(std::get<RecordAction>(actions_.back()).record).guard = true; };
  if (!score.judgeable()) {
    blind_ = true;
    record_decision(point, score.value, DecisionVerdict::discard, "cannot score the guard window: " + score.why_not(), std::nullopt,
                    std::nullopt);
    mark_guard();
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
    if (const auto broken = clearly_broken(score); !broken.empty()) {
      finding.regressed = true;
      finding.broke_constraint = true;
      finding.reason = "breaks " + broken + " in its last window, which it met when guarding began";
    }
  if (!finding.regressed) {
    record_decision(point, score.value, DecisionVerdict::keep, "guarding the best: " + finding.reason, finding.change, std::nullopt);
    mark_guard();
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
    mark_guard();
    switchback_ = Switchback{.candidate = *baseline_, .guard_check = true};
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
  mark_guard();
  guard_from(pool(guard_recent_), "the best regressed with nothing known better to return to: its new level");
  begin_measurement(now, Purpose::remeasure);
}

void TuningLoop::decide_guard_check(TimePoint now, const Score& score, Switchback& check) {
  const auto point = applied_;
  const bool on_baseline = point == check.candidate;
  auto mark_guard = [&] { std::get<DecisionRecord>(std::get<RecordAction>(actions_.back()).record).guard = true; };
  auto back_to_best = [&](const std::string& reason, std::optional<double> value) {
    record_decision(*incumbent_, value, DecisionVerdict::keep, reason, std::nullopt, std::nullopt);
    mark_guard();
    switchback_.reset();
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
  const auto broken = clearly_broken(score);
  if (!on_baseline) {
    check.incumbent_windows.push_back(window);
    check.incumbent_values.push_back(*score.value);
    check.incumbent_broke = check.incumbent_broke || !broken.empty();
    move_to(now, check.candidate, Purpose::switchback);
    return;
  }
  check.candidate_windows.push_back(window);
  check.candidate_values.push_back(*score.value);
  check.candidate_broke = check.candidate_broke || !broken.empty();
  if (check.candidate_broke && !check.incumbent_broke) {
    guard_from(pool(check.incumbent_windows), "the baseline broke a constraint in the guard's check: the best's new level");
    back_to_best("the guard's check: the baseline breaks " + broken + " where the best does not; back to the best", score.value);
    return;
  }
  const double sign = policy_.direction == Direction::maximize ? 1.0 : -1.0;
  const auto pair = check.candidate_values.size();
  const auto wanted = guard_check_pairs();
  record_switchback_pair(check, pair, wanted);
  // A constraint the best breaks and the baseline meets needs no more pairs: safety first.
  const bool only_best_broke = check.incumbent_broke && !check.candidate_broke;
  if (pair < wanted && !only_best_broke) {
    move_to(now, *incumbent_, Purpose::switchback);
    return;
  }
  std::vector<double> differences; // positive: the baseline is the better
  for (std::size_t i = 0; i < pair; ++i) differences.push_back(sign * (check.candidate_values[i] - check.incumbent_values[i]));
  const auto test = paired_t_test(differences);
  const double best_mean = mean_of(check.incumbent_values);
  const double gain = mean_of(differences);
  const double effect = best_mean != 0.0 ? gain / std::abs(best_mean) : gain;
  const double p = test ? test->p_greater : 1.0;
  const auto pairs_text = std::to_string(pair) + " switchback pairs";
  const bool baseline_better = only_best_broke || (gain > 0 && p < 1.0 - policy_.confidence);
  if (!baseline_better) {
    guard_from(pool(check.incumbent_windows), "the guard's check found the baseline no better: the best's new level");
    back_to_best("the guard's check: the baseline is no better than the best over " + pairs_text + " (" +
                     number_text(effect * 100) + "%, paired p=" + number_text(p) +
                     "): the service changed, not the configuration; back to the best, guarded from its new level",
                 best_mean);
    return;
  }
  // The baseline runs now (each pair ends on it): the rollback is already in force.
  const auto best = *incumbent_;
  record_decision(best, best_mean, DecisionVerdict::rollback,
                  "the guard's check: the baseline is better than the best over " + pairs_text +
                      (only_best_broke ? " (the best broke a constraint, the baseline did not)"
                                                                       : " (by " + number_text(effect * 100) + "%, paired p=" + number_text(p) + ")") +
                      "; back to the baseline",
                  -effect, only_best_broke ? std::nullopt : std::optional<double>(p));
  mark_guard();
  const auto baseline_level = pool(check.candidate_windows);
  switchback_.reset(); // `check` is gone from here on
  guardrails_.record_rollback(now);
  make_incumbent(now, point, score, false);
  guard_from(baseline_level, "the baseline, after the guard rolled the best back");
  if (guardrails_.rollbacks_in_last_hour(now) > guardrails_.policy().max_rollbacks_per_hour) {
    enter_safe_mode(now, std::to_string(guardrails_.rollbacks_in_last_hour(now)) +
                             " rollbacks in the last hour, more than max_rollbacks_per_hour allows");
    return;
  }
  if (!parked(now)) begin_measurement(now, Purpose::remeasure, false);
}

void TuningLoop::claim_and_finish(TimePoint now, std::span<const double> differences, double baseline_mean, double best_mean,
                                  const std::string& note) {
  record_claim(differences, baseline_mean, best_mean, note);
  move_to(now, *incumbent_, Purpose::final_config);
}

void TuningLoop::record_claim(std::span<const double> differences, double baseline_mean, double best_mean,
                              const std::string& note) {
  claimed_ = true;
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

void TuningLoop::recommend(TimePoint now) {
  const double sign = policy_.direction == Direction::maximize ? 1.0 : -1.0;
  // Window values per configuration, from the solver's history: this run's windows and whatever
  // seeded it (an earlier run's journal, offline results), pooled.
  auto windows_at = [&](const Point& at) {
    const Evaluation* evaluation = solver_->evaluation(at);
    return evaluation ? evaluation->summary() : SampleSummary{};
  };
  RecommendationRecord r;
  r.running = named(applied_);
  const auto running = windows_at(applied_);
  r.running_windows = running.count;
  if (running.count > 0) r.running_value = running.mean;
  const Evaluation* best = nullptr;
  try {
    best = solver_->recommendation();
  } catch (const std::exception&) {
    best = solver_->best(); // the model could not be fitted: the best pooled measurements stand in
  }
  if (best == nullptr) {
    r.reason = "nothing measured meets the constraints yet";
  } else {
    const auto evidence = best->summary();
    const double value = evidence.mean;
    r.point = named(best->point);
    r.value = value;
    r.windows = evidence.count;
    r.same_as_running = best->point == applied_;
    if (best->point == applied_) {
      r.reason = "keep what runs: nothing measured is better";
    } else if (running.count > 0) {
      const double base = running.mean;
      const double gain = sign * (value - base);
      const double effect = base != 0.0 ? gain / std::abs(base) : gain;
      RecommendationRecord::Comparison comparison{effect, std::nullopt, std::nullopt};
      const auto test = welch_t_test(SampleSummary{running.count, sign * running.mean, running.variance},
                                     SampleSummary{evidence.count, sign * evidence.mean, evidence.variance});
      std::string reason = (gain >= 0 ? "better by " : "worse by ") + number_text(std::abs(effect) * 100) + "% over " +
                           std::to_string(evidence.count) + " window(s) against " + std::to_string(running.count) +
                           " of what runs";
      if (test) {
        comparison.p_value = test->p_greater;
        comparison.confidence = 1.0 - test->p_greater;
        reason += " (confidence " + number_text((1.0 - test->p_greater) * 100) + "%)";
      } else {
        reason += "; too few windows for a confidence (two of each are needed)";
      }
      r.comparison = comparison;
      r.reason = std::move(reason);
    }
  }
  recommendation_ = r;
  record(std::move(r));
  begin_measurement(now, Purpose::remeasure);
}

void TuningLoop::finish(TimePoint now, const std::string& reason) {
  finish_reason_ = reason;
  if (claimed_ || !incumbent_ || !baseline_) {
    move_to(now, incumbent_.value_or(applied_), Purpose::final_config);
    return;
  }
  // The claim: best against baseline by switchback pairs, when the baseline may run again (it
  // met the constraints) and the agent may apply; otherwise from the windows already measured.
  const auto baseline = ledger_.pooled(*baseline_);
  if (*incumbent_ != *baseline_ && policy_.final_confirmation_pairs >= 2 && mode_ == TuningMode::apply && policy_.enabled &&
      !safe_mode_ && baseline.windows > 0 && baseline.feasible()) {
    switchback_ = Switchback{.candidate = *baseline_, .final_check = true};
    move_to(now, *incumbent_, Purpose::switchback);
    return;
  }
  claim_and_finish(now, {}, 0.0, 0.0, {});
}

void TuningLoop::enter_safe_mode(TimePoint now, const std::string& reason) {
  safe_mode_ = true;
  safe_mode_until_ = now + std::chrono::duration_cast<TimePoint::duration>(policy_.safe_mode_recovery);
  record(SafeModeRecord{true, reason});
  pending_.reset();
  switchback_.reset();
  intensifying_.reset();
  if (incumbent_ && applied_ != *incumbent_ && policy_.enabled) {
    move_to(now, *incumbent_, Purpose::rollback);
  } else {
    phase_ = LoopPhase::safe_mode;
    wake(safe_mode_until_);
  }
}

void TuningLoop::leave_safe_mode(TimePoint now, const std::string& reason) {
  safe_mode_ = false;
  refusals_in_a_row_ = 0;
  apply_backoff_.reset();
  record(SafeModeRecord{false, reason});
  // An apply in flight (the rollback safe mode started) continues the loop when it completes;
  // starting another now would put two applies in flight (found by the guardrail property test).
  if (phase_ != LoopPhase::applying) continue_tuning(now);
}

} // namespace trimtab
