#include <trimtab/core/tuning_loop.hpp>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>
#include <stdexcept>

#include <trimtab/core/point_json.hpp>
#include <trimtab/core/window.hpp>

namespace trimtab {
namespace {

using std::chrono::milliseconds;
using namespace std::chrono_literals;

// Three significant digits: reasons are read by people; the record's numbers keep full precision.
std::string format(double value) {
  std::ostringstream out;
  out << std::setprecision(3) << value;
  return out.str();
}

// Journal times are Unix milliseconds; anything outside years 1970..2200 is a corrupt record, and
// would overflow the clock's nanoseconds (found by fuzzing replay).
constexpr double latest_unix_ms = 7'258'118'400'000.0; // 2200-01-01

TimePoint from_unix_ms(double ms) {
  if (!(ms >= 0.0 && ms <= latest_unix_ms)) throw std::invalid_argument("'time' is not a time between 1970 and 2200");
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(milliseconds(static_cast<std::int64_t>(ms))));
}

// A count written by the agent: a whole number from 0 to 2^53.
std::size_t count_field_value(double value, std::string_view key) {
  if (!(value >= 0.0 && value <= 9'007'199'254'740'992.0) || value != std::floor(value))
    throw std::invalid_argument("'" + std::string(key) + "' is not a count");
  return static_cast<std::size_t>(value);
}

std::size_t signal_index(const std::vector<SignalSpec>& signals, const std::string& name, const std::string& user) {
  for (std::size_t i = 0; i < signals.size(); ++i)
    if (signals[i].name == name) return i;
  throw std::invalid_argument(user + " uses '" + name + "', which is not a declared signal");
}

const boost::json::value& field(const boost::json::object& record, std::string_view key) {
  const auto* value = record.if_contains(key);
  if (value == nullptr) throw std::invalid_argument("has no '" + std::string(key) + "'");
  return *value;
}

double number_field(const boost::json::object& record, std::string_view key) {
  const auto& value = field(record, key);
  if (value.is_double()) return value.get_double();
  if (value.is_int64()) return static_cast<double>(value.get_int64());
  if (value.is_uint64()) return static_cast<double>(value.get_uint64());
  throw std::invalid_argument("'" + std::string(key) + "' is not a number");
}

std::string string_field(const boost::json::object& record, std::string_view key) {
  const auto& value = field(record, key);
  if (!value.is_string()) throw std::invalid_argument("'" + std::string(key) + "' is not a string");
  return std::string(value.get_string());
}

Purpose purpose_from_name(const std::string& name) {
  for (auto purpose : {Purpose::baseline, Purpose::candidate, Purpose::remeasure, Purpose::rollback, Purpose::restore,
                       Purpose::final_config, Purpose::switchback})
    if (name == purpose_name(purpose)) return purpose;
  throw std::invalid_argument("unknown purpose '" + name + "'");
}

TuningMode mode_from_name(const std::string& name) {
  if (name == "apply") return TuningMode::apply;
  if (name == "recommend") return TuningMode::recommend;
  throw std::invalid_argument("unknown mode '" + name + "'");
}

double mean_of(const std::vector<double>& values) { return summarize(values).mean; }

} // namespace

const char* mode_name(TuningMode mode) noexcept { return mode == TuningMode::apply ? "apply" : "recommend"; }

const char* command_name(OperatorCommand command) noexcept {
  switch (command) {
  case OperatorCommand::pause: return "pause";
  case OperatorCommand::resume: return "resume";
  case OperatorCommand::rollback: return "rollback";
  case OperatorCommand::recommend: return "recommend";
  case OperatorCommand::apply: return "apply";
  }
  return "unknown";
}

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
  }
  return "unknown";
}

struct TuningLoop::Score {
  std::vector<std::optional<double>> signals;
  std::optional<double> value;     // the objective over the whole window, when it can be judged
  std::vector<double> constraints; // slack form, <= 0 holds
  std::vector<double> samples;     // the objective per scrape interval
  std::string missing;             // why there is no value
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
  mode_ = policy_.mode;
  last_signals_.resize(policy_.signals.size());
}

// --- bookkeeping ------------------------------------------------------------------------------

std::vector<LoopAction> TuningLoop::take() {
  std::vector<LoopAction> out;
  out.swap(actions_);
  return out;
}

void TuningLoop::record(boost::json::object record) { actions_.emplace_back(RecordAction{std::move(record)}); }

boost::json::object TuningLoop::point_json(const Point& point) const { return point_to_json(solver_->space(), point); }

void TuningLoop::wake(TimePoint at) {
  phase_deadline_ = at;
  actions_.emplace_back(WakeAction{at});
}

void TuningLoop::refuse(const Refusal& refusal, const Point* point) {
  boost::json::object r{{"type", "refusal"}, {"reason", refusal.reason}, {"detail", refusal.detail}};
  if (point != nullptr) r["point"] = point_json(*point);
  record(std::move(r));
}

// --- replay and start -------------------------------------------------------------------------

void TuningLoop::replay(std::span<const boost::json::object> records) {
  const auto& space = solver_->space();
  std::vector<Trial> history;
  std::optional<Point> last_applied;
  // Plain values rather than optionals: g++ 12 warns that an optional enum may be read uninitialised.
  TuningMode started_in = policy_.mode, switched_to = policy_.mode;
  bool switched = false;
  for (const auto& r : records) {
    const auto seq = r.if_contains("seq") ? boost::json::serialize(r.at("seq")) : std::string("?");
    try {
      const auto type = string_field(r, "type");
      const auto time = from_unix_ms(number_field(r, "time"));
      if (type == "observation") {
        Observation observation;
        const auto* failed = r.if_contains("failed");
        observation.failed = failed != nullptr && failed->is_bool() && failed->get_bool();
        if (!observation.failed) {
          observation.value = number_field(r, "value");
          for (const auto& c : field(r, "constraints").as_array()) observation.constraints.push_back(c.to_number<double>());
        }
        history.push_back(Trial{point_from_json(space, field(r, "point")), std::move(observation)});
        if (string_field(r, "purpose") == "candidate") {
          ++windows_scored_;
          ++windows_since_remeasure_;
        } else {
          windows_since_remeasure_ = 0;
        }
      } else if (type == "incumbent") {
        incumbent_ = point_from_json(space, field(r, "point"));
        incumbent_value_ = number_field(r, "value");
        incumbent_samples_.count = count_field_value(number_field(r, "samples_count"), "samples_count");
        incumbent_samples_.mean = number_field(r, "samples_mean");
        incumbent_samples_.variance = number_field(r, "samples_variance");
        if (const auto* load = r.if_contains("load"); load != nullptr && load->is_number())
          incumbent_load_ = load->to_number<double>();
        else
          incumbent_load_.reset();
      } else if (type == "decision") {
        if (string_field(r, "verdict") == "rollback") guardrails_.record_rollback(time);
      } else if (type == "applied") {
        auto point = point_from_json(space, field(r, "point"));
        guardrails_.record_apply(last_applied.value_or(point), point, time, purpose_from_name(string_field(r, "purpose")));
        last_applied = std::move(point);
      } else if (type == "operator") {
        const auto action = string_field(r, "action");
        if (action == "pause") paused_ = true;
        if (action == "resume") paused_ = false;
      } else if (type == "safe_mode") {
        safe_mode_ = field(r, "entered").as_bool();
        if (safe_mode_) safe_mode_until_ = time + std::chrono::duration_cast<TimePoint::duration>(policy_.safe_mode_recovery);
      } else if (type == "done") {
        done_ = true;
      } else if (type == "start") {
        if (const auto* mode = r.if_contains("mode"); mode != nullptr && mode->is_string()) {
          started_in = mode_from_name(std::string(mode->get_string()));
          switched = false;
        }
      } else if (type == "mode") {
        switched_to = mode_from_name(string_field(r, "mode"));
        switched = true;
      }
    } catch (const std::exception& e) {
      throw std::invalid_argument("journal record " + seq + ": " + e.what());
    }
  }
  solver_->seed(history);
  resumed_ = !records.empty();
  // An operator's switch outlives a restart, unless the configured mode changed since: then the
  // file is the newer word.
  if (switched && started_in == policy_.mode) mode_ = switched_to;
}

std::vector<LoopAction> TuningLoop::start(TimePoint now, const Point& running) {
  if (phase_ != LoopPhase::not_started) throw std::logic_error("TuningLoop::start called twice");
  if (auto why = solver_->space().check(running)) throw std::invalid_argument("the running configuration: " + *why);
  applied_ = running;
  record({{"type", "start"},
          {"baseline", point_json(running)},
          {"enabled", policy_.enabled},
          {"mode", mode_name(mode_)},
          {"resumed", resumed_},
          {"objective",
           {{"direction", policy_.direction == Direction::maximize ? "maximize" : "minimize"},
            {"expression", std::string(policy_.objective.text())}}}});
  {
    boost::json::array constraints;
    for (const auto& constraint : policy_.constraints) constraints.emplace_back(constraint.text);
    std::get<RecordAction>(actions_.back()).record["constraints"] = std::move(constraints);
  }
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

std::vector<LoopAction> TuningLoop::on_scrape(TimePoint /*now*/, Scrape scrape) {
  if (phase_ == LoopPhase::observing && (scrapes_.empty() || scrape.time_seconds > scrapes_.back().time_seconds))
    scrapes_.push_back(std::move(scrape));
  return take();
}

std::vector<LoopAction> TuningLoop::on_timer(TimePoint now) {
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
    scrapes_.clear();
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
  if (phase_ != LoopPhase::applying || !pending_) return take();
  auto done = std::move(*pending_);
  pending_.reset();
  guardrails_.record_apply(applied_, done.point, now, done.purpose);
  applied_ = done.point;
  apply_failures_ = 0;
  refusals_in_a_row_ = 0;
  record({{"type", "applied"}, {"point", point_json(applied_)}, {"purpose", purpose_name(done.purpose)}});
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
  if (phase_ != LoopPhase::applying || !pending_) return take();
  auto failed = std::move(*pending_);
  pending_.reset();
  ++apply_failures_;
  record({{"type", "apply_failed"},
          {"point", point_json(failed.point)},
          {"purpose", purpose_name(failed.purpose)},
          {"error", error}});
  const auto backoff = std::min<milliseconds>(60s, 1000ms * (1LL << std::min<std::size_t>(apply_failures_ - 1, 6)));
  if (failed.purpose == Purpose::candidate) solver_->cancel(failed.point);
  if (failed.purpose == Purpose::switchback) {
    // The confirmation cannot go on: back to the incumbent, without promoting.
    record({{"type", "decision"},
            {"point", point_json(switchback_ ? switchback_->candidate : failed.point)},
            {"verdict", "keep"},
            {"reason", "not confirmed: an apply failed during switchback (" + error + ")"},
            {"value", nullptr},
            {"incumbent_value", incumbent_value_ ? boost::json::value(*incumbent_value_) : boost::json::value(nullptr)},
            {"effect", nullptr},
            {"p_value", nullptr}});
    switchback_.reset();
    move_target_.reset();
    if (incumbent_ && applied_ != *incumbent_) {
      move_target_ = *incumbent_;
      failed = ApplyAction{guardrails_.step_toward(applied_, *incumbent_), Purpose::rollback};
    } else {
      failed.purpose = Purpose::candidate; // nothing to retry: on the incumbent already
    }
  }
  if (apply_failures_ >= policy_.max_apply_failures && !safe_mode_) {
    enter_safe_mode(now, std::to_string(apply_failures_) + " applies failed in a row, the last with: " + error);
    if (phase_ != LoopPhase::safe_mode) return take(); // a rollback is under way
  }
  // A candidate is simply dropped; anything that moves back to safety is retried until it works.
  if (failed.purpose != Purpose::candidate) pending_ = std::move(failed);
  phase_ = LoopPhase::waiting;
  wake(now + std::chrono::duration_cast<TimePoint::duration>(backoff));
  return take();
}

CommandOutcome TuningLoop::on_command(TimePoint now, OperatorCommand command, const std::string& source) {
  record({{"type", "operator"}, {"action", command_name(command)}, {"source", source}});
  CommandOutcome outcome;
  auto abandon_window = [&] {
    if ((phase_ == LoopPhase::settling || phase_ == LoopPhase::observing) && measuring_ == Purpose::candidate)
      solver_->cancel(applied_);
    if (pending_ && pending_->purpose == Purpose::candidate) {
      solver_->cancel(pending_->point);
      pending_.reset();
    }
    switchback_.reset();
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
    record({{"type", "mode"}, {"mode", "recommend"}, {"source", source}});
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
    record({{"type", "mode"}, {"mode", "apply"}, {"source", source}});
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
  record({{"type", "proposal"}, {"point", point_json(*proposal)}});
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
  record({{"type", "apply"}, {"point", point_json(point)}, {"purpose", purpose_name(purpose)}});
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
      record({{"type", "done"},
              {"reason", finish_reason_},
              {"best", point_json(applied_)},
              {"best_value", incumbent_value_.value_or(0.0)}});
    }
    break;
  }
}

void TuningLoop::begin_measurement(TimePoint now, Purpose purpose) {
  measuring_ = purpose;
  scrapes_.clear();
  window_extended_ = false;
  if (policy_.settle > 0ms) {
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
  // Per-interval objective values, for the significance test.
  for (std::size_t i = 1; i < scrapes_.size(); ++i) {
    Window pair(policy_.signals);
    pair.add(scrapes_[i - 1]);
    pair.add(scrapes_[i]);
    std::vector<std::optional<double>> signals;
    for (const auto& spec : policy_.signals) signals.push_back(pair.value(spec.name));
    if (gather(objective_inputs_, signals, values)) {
      const double value = policy_.objective.evaluate(values);
      if (std::isfinite(value)) score.samples.push_back(value);
    }
  }
  return score;
}

void TuningLoop::decide(TimePoint now) {
  auto score = score_window();
  last_signals_ = score.signals;
  const double sign = policy_.direction == Direction::maximize ? 1.0 : -1.0;
  const auto point = applied_;
  const bool judgeable = score.value && std::all_of(score.constraints.begin(), score.constraints.end(),
                                                    [](double c) { return std::isfinite(c); });

  auto signals_json = [&] {
    boost::json::object out;
    for (std::size_t i = 0; i < policy_.signals.size(); ++i)
      out[policy_.signals[i].name] = score.signals[i] ? boost::json::value(*score.signals[i]) : boost::json::value(nullptr);
    return out;
  };
  auto observation_record = [&](bool failed) {
    boost::json::array constraints;
    for (double c : score.constraints) constraints.emplace_back(std::isfinite(c) ? boost::json::value(c) : boost::json::value(nullptr));
    boost::json::object r{{"type", "observation"},
                          {"point", point_json(point)},
                          {"purpose", purpose_name(measuring_)},
                          {"signals", signals_json()},
                          {"samples", score.samples.size()},
                          {"window", measuring_ == Purpose::candidate ? windows_scored_ : 0}};
    if (failed) {
      r["failed"] = true;
    } else {
      r["value"] = *score.value;
      r["constraints"] = std::move(constraints);
    }
    record(std::move(r));
  };
  auto decision_on = [&](const Point& about, std::optional<double> value, const char* verdict, const std::string& reason,
                         std::optional<double> effect, std::optional<double> p) {
    boost::json::object r{{"type", "decision"}, {"point", point_json(about)}, {"verdict", verdict}, {"reason", reason}};
    r["value"] = value ? boost::json::value(*value) : boost::json::value(nullptr);
    r["incumbent_value"] = incumbent_value_ ? boost::json::value(*incumbent_value_) : boost::json::value(nullptr);
    r["effect"] = effect ? boost::json::value(*effect) : boost::json::value(nullptr);
    r["p_value"] = p ? boost::json::value(*p) : boost::json::value(nullptr);
    record(std::move(r));
  };
  auto decision = [&](const char* verdict, const std::string& reason, std::optional<double> effect, std::optional<double> p) {
    decision_on(point, score.value, verdict, reason, effect, p);
  };
  auto signed_summary = [&] {
    std::vector<double> signed_samples(score.samples);
    for (auto& s : signed_samples) s *= sign;
    return summarize(signed_samples);
  };
  auto make_incumbent = [&](double value, SampleSummary samples) {
    incumbent_ = point;
    incumbent_value_ = value;
    incumbent_samples_ = samples;
    incumbent_load_ = load_index_ ? score.signals[*load_index_] : std::nullopt;
    boost::json::object r{{"type", "incumbent"},
                          {"point", point_json(point)},
                          {"value", value},
                          {"samples_count", incumbent_samples_.count},
                          {"samples_mean", incumbent_samples_.mean},
                          {"samples_variance", incumbent_samples_.variance}};
    if (incumbent_load_) r["load"] = *incumbent_load_;
    record(std::move(r));
    actions_.emplace_back(SaveBestAction{point, value});
  };
  const double alpha = 1.0 - policy_.confidence;

  if (measuring_ == Purpose::switchback) {
    if (!switchback_) { // abandoned while this window ran
      continue_tuning(now);
      return;
    }
    auto& confirming = *switchback_;
    const bool on_candidate = point == confirming.candidate;
    std::string problem;
    bool broke = false;
    if (!judgeable) {
      problem = "no data in a switchback window: " + (score.missing.empty() ? "a constraint's signal has no value" : score.missing);
    } else if (on_candidate) {
      for (std::size_t c = 0; c < score.constraints.size() && problem.empty(); ++c)
        if (score.constraints[c] > 0) {
          problem = "breaks '" + policy_.constraints[c].text + "' (by " + format(score.constraints[c]) + ") in a switchback window";
          broke = true;
        }
    }
    if (!problem.empty()) {
      if (!judgeable) blind_ = true;
      decision_on(confirming.candidate, score.value, broke ? "rollback" : "keep", "not confirmed: " + problem, std::nullopt,
                  std::nullopt);
      if (broke) {
        guardrails_.record_rollback(now);
        automatic_rollback_pending_ = true;
      }
      switchback_.reset();
      move_to(now, *incumbent_, Purpose::rollback);
      return;
    }
    if (!on_candidate) {
      confirming.incumbent_values.push_back(*score.value);
      move_to(now, confirming.candidate, Purpose::switchback);
      return;
    }
    confirming.candidate_values.push_back(*score.value);
    confirming.candidate_samples = signed_summary();
    const auto pair = confirming.candidate_values.size();
    const double a = confirming.incumbent_values.back(), b = confirming.candidate_values.back();
    record({{"type", "switchback"},
            {"pair", pair},
            {"of", policy_.switchback_pairs},
            {"candidate", point_json(confirming.candidate)},
            {"incumbent", point_json(*incumbent_)},
            {"incumbent_value", a},
            {"candidate_value", b},
            {"difference", sign * (b - a)}});
    if (pair < policy_.switchback_pairs) {
      move_to(now, *incumbent_, Purpose::switchback);
      return;
    }
    std::vector<double> differences;
    for (std::size_t i = 0; i < pair; ++i)
      differences.push_back(sign * (confirming.candidate_values[i] - confirming.incumbent_values[i]));
    const auto test = paired_t_test(differences);
    const double incumbent_mean = mean_of(confirming.incumbent_values);
    const double candidate_mean = mean_of(confirming.candidate_values);
    const double gain = sign * (candidate_mean - incumbent_mean);
    const double effect = incumbent_mean != 0.0 ? gain / std::abs(incumbent_mean) : gain;
    const double p = test ? test->p_greater : 1.0;
    const auto pairs_text = std::to_string(pair) + " switchback pairs";
    if (gain >= policy_.required_improvement.around(incumbent_mean) && gain > 0 && p < alpha) {
      decision_on(point, candidate_mean, "promote",
                  "better by " + format(effect * 100) + "% over " + pairs_text + " (paired p=" + format(p) + ")", effect, p);
      const auto samples = confirming.candidate_samples;
      switchback_.reset();
      make_incumbent(candidate_mean, samples);
      propose(now);
      return;
    }
    decision_on(point, candidate_mean, "keep",
                "not confirmed by " + pairs_text + ": " + format(effect * 100) + "% (paired p=" + format(p) + ")", effect, p);
    switchback_.reset();
    move_to(now, *incumbent_, Purpose::rollback);
    return;
  }

  if (measuring_ != Purpose::candidate) {
    // The baseline or the incumbent again: it becomes the reference candidates are judged against.
    if (!judgeable) {
      blind_ = true;
      decision("discard", "cannot score the " + std::string(purpose_name(measuring_)) + " window: " +
                              (score.missing.empty() ? "a constraint's signal has no value" : score.missing),
               std::nullopt, std::nullopt);
      begin_measurement(now, measuring_);
      return;
    }
    observation_record(false);
    solver_->tell(point, Observation{*score.value, score.constraints, false});
    blind_ = false;
    std::string reason = measuring_ == Purpose::baseline ? "baseline measured" : "incumbent measured again";
    for (std::size_t c = 0; c < score.constraints.size(); ++c)
      if (score.constraints[c] > 0) reason += "; it breaks '" + policy_.constraints[c].text + "'";
    decision("keep", reason, std::nullopt, std::nullopt);
    make_incumbent(*score.value, signed_summary());
    windows_since_remeasure_ = 0;
    propose(now);
    return;
  }

  // A candidate.
  if (!judgeable) {
    ++windows_scored_;
    ++windows_since_remeasure_;
    observation_record(true);
    solver_->tell(point, Observation::failure());
    decision("rollback", "no data: " + (score.missing.empty() ? "a constraint's signal has no value" : score.missing),
             std::nullopt, std::nullopt);
    blind_ = true;
    guardrails_.record_rollback(now);
    automatic_rollback_pending_ = true;
    move_to(now, *incumbent_, Purpose::rollback);
    return;
  }
  if (load_index_ && incumbent_load_ && score.signals[*load_index_] && *incumbent_load_ != 0.0) {
    const double drift = std::abs(*score.signals[*load_index_] / *incumbent_load_ - 1.0);
    if (drift > policy_.load_band) {
      solver_->cancel(point);
      decision("discard",
               "load moved: '" + *policy_.load_signal + "' is " + format(*score.signals[*load_index_]) + " against " +
                   format(*incumbent_load_) + " when the incumbent was measured (" + format(drift * 100) + "% apart)",
               std::nullopt, std::nullopt);
      move_to(now, *incumbent_, Purpose::remeasure);
      return;
    }
  }
  ++windows_scored_;
  ++windows_since_remeasure_;
  observation_record(false);
  solver_->tell(point, Observation{*score.value, score.constraints, false});

  const double improvement = sign * (*score.value - *incumbent_value_);
  const double effect = *incumbent_value_ != 0.0 ? improvement / std::abs(*incumbent_value_) : improvement;
  const auto candidate = signed_summary();
  const auto better = welch_t_test(incumbent_samples_, candidate);
  const auto worse = welch_t_test(candidate, incumbent_samples_);
  // With too few samples for a test, the means decide alone.
  const double p_better = better ? better->p_greater : (improvement > 0 ? 0.0 : 1.0);
  const double p_worse = worse ? worse->p_greater : (improvement < 0 ? 0.0 : 1.0);

  for (std::size_t c = 0; c < score.constraints.size(); ++c)
    if (score.constraints[c] > 0) {
      decision("rollback", "breaks '" + policy_.constraints[c].text + "' (by " + format(score.constraints[c]) + ")", effect,
               p_better);
      guardrails_.record_rollback(now);
      automatic_rollback_pending_ = true;
      move_to(now, *incumbent_, Purpose::rollback);
      return;
    }
  const double regression = policy_.regression_threshold.around(*incumbent_value_);
  if (policy_.rollback_on_regression && -improvement > regression && p_worse < alpha) {
    decision("rollback", "regressed by " + format(-effect * 100) + "% (p=" + format(p_worse) + ")", effect, p_worse);
    guardrails_.record_rollback(now);
    automatic_rollback_pending_ = true;
    move_to(now, *incumbent_, Purpose::rollback);
    return;
  }
  const double required = policy_.required_improvement.around(*incumbent_value_);
  if (improvement >= required && improvement > 0 && p_better < alpha) {
    // A candidate that is the incumbent (a solver may repeat a point) has nothing to alternate with.
    if (policy_.switchback_pairs >= 2 && point != *incumbent_) {
      decision("confirm",
               "better by " + format(effect * 100) + "% (p=" + format(p_better) + "); confirming with " +
                   std::to_string(policy_.switchback_pairs) + " switchback pairs",
               effect, p_better);
      switchback_ = Switchback{point, {}, {}, {}};
      move_to(now, *incumbent_, Purpose::switchback);
      return;
    }
    decision("promote", "better by " + format(effect * 100) + "% (p=" + format(p_better) + ")", effect, p_better);
    make_incumbent(*score.value, candidate);
    propose(now);
    return;
  }
  decision("keep",
           improvement >= required ? "better by " + format(effect * 100) + "% but not significant (p=" + format(p_better) + ")"
                                   : "not better by the required improvement (" + format(effect * 100) + "%)",
           effect, p_better);
  propose(now);
}

void TuningLoop::recommend(TimePoint now) {
  const double sign = policy_.direction == Direction::maximize ? 1.0 : -1.0;
  // Window values per configuration, from the solver's history: this run's windows and whatever
  // seeded it (an earlier run's journal, offline results).
  auto values_at = [&](const Point& at) {
    std::vector<double> values;
    for (const auto& trial : solver_->history())
      if (trial.point == at && !trial.observation.failed) values.push_back(trial.observation.value);
    return values;
  };
  boost::json::object r{{"type", "recommendation"}, {"running", point_json(applied_)}};
  const auto running = values_at(applied_);
  r["running_windows"] = running.size();
  r["running_value"] = running.empty() ? boost::json::value(nullptr) : boost::json::value(mean_of(running));
  const Trial* best = nullptr;
  try {
    best = solver_->recommendation();
  } catch (const std::exception&) {
    best = solver_->best(); // the model could not be fitted: the best measurement stands in
  }
  if (best == nullptr) {
    r["point"] = nullptr;
    r["reason"] = "nothing measured meets the constraints yet";
  } else {
    const auto evidence = values_at(best->point);
    const double value = evidence.empty() ? best->observation.value : mean_of(evidence);
    r["point"] = point_json(best->point);
    r["value"] = value;
    r["windows"] = evidence.size();
    r["same_as_running"] = best->point == applied_;
    if (best->point == applied_) {
      r["reason"] = "keep what runs: nothing measured is better";
    } else if (!running.empty()) {
      const double base = mean_of(running);
      const double gain = sign * (value - base);
      const double effect = base != 0.0 ? gain / std::abs(base) : gain;
      r["effect"] = effect;
      std::vector<double> signed_running(running), signed_evidence(evidence);
      for (auto& v : signed_running) v *= sign;
      for (auto& v : signed_evidence) v *= sign;
      const auto test = welch_t_test(summarize(signed_running), summarize(signed_evidence));
      std::string reason = (gain >= 0 ? "better by " : "worse by ") + format(std::abs(effect) * 100) + "% over " +
                           std::to_string(evidence.size()) + " window(s) against " + std::to_string(running.size()) +
                           " of what runs";
      if (test) {
        r["p_value"] = test->p_greater;
        r["confidence"] = 1.0 - test->p_greater;
        reason += " (confidence " + format((1.0 - test->p_greater) * 100) + "%)";
      } else {
        r["p_value"] = nullptr;
        r["confidence"] = nullptr;
        reason += "; too few windows for a confidence (two of each are needed)";
      }
      r["reason"] = std::move(reason);
    }
  }
  recommendation_ = r;
  record(std::move(r));
  begin_measurement(now, Purpose::remeasure);
}

void TuningLoop::finish(TimePoint now, const std::string& reason) {
  finish_reason_ = reason;
  move_to(now, incumbent_.value_or(applied_), Purpose::final_config);
}

void TuningLoop::enter_safe_mode(TimePoint now, const std::string& reason) {
  safe_mode_ = true;
  safe_mode_until_ = now + std::chrono::duration_cast<TimePoint::duration>(policy_.safe_mode_recovery);
  record({{"type", "safe_mode"}, {"entered", true}, {"reason", reason}});
  pending_.reset();
  switchback_.reset();
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
  apply_failures_ = 0;
  record({{"type", "safe_mode"}, {"entered", false}, {"reason", reason}});
  // An apply in flight (the rollback safe mode started) continues the loop when it completes;
  // starting another now would put two applies in flight (found by the guardrail property test).
  if (phase_ != LoopPhase::applying) continue_tuning(now);
}

} // namespace trimtab
