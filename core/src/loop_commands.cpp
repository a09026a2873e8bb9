// An operator's commands (pause, resume, rollback, recommend, apply), each with its reply.
#include <trimtab/core/tuning_loop.hpp>

namespace trimtab {

CommandOutcome TuningLoop::on_command(TimePoint now, OperatorCommand command, const std::string& source) {
  if (std::holds_alternative<Stopped>(phase_)) return CommandOutcome{false, "the agent is stopping", {}};
  record(OperatorRecord{command, source});
  CommandOutcome outcome;
  switch (command) {
  case OperatorCommand::pause: outcome = pause_command(); break;
  case OperatorCommand::resume: outcome = resume_command(now, source); break;
  case OperatorCommand::rollback: outcome = rollback_command(now); break;
  case OperatorCommand::recommend: outcome = recommend_command(now, source); break;
  case OperatorCommand::apply: outcome = apply_command(source); break;
  }
  outcome.actions = take();
  return outcome;
}

void TuningLoop::abandon_landed(Purpose purpose) {
  if (purpose == Purpose::candidate) solver_->cancel(applied_);
  comparison_ = std::monostate{};
}

void TuningLoop::abandon_window() {
  if (measuring() == Purpose::candidate) solver_->cancel(applied_);
  if (auto* waiting = std::get_if<Waiting>(&phase_); waiting != nullptr && waiting->retry &&
                                                     waiting->retry->purpose == Purpose::candidate) {
    solver_->cancel(waiting->retry->point);
    waiting->retry.reset();
  }
  comparison_ = std::monostate{};
}

CommandOutcome TuningLoop::pause_command() {
  if (paused_) return {true, "already paused", {}};
  paused_ = true;
  const auto* waiting = std::get_if<Waiting>(&phase_);
  // An apply other than a candidate's, waiting for its time (a move back, a retry), is still made;
  // the pause takes hold where it arrives.
  const bool apply_waits = waiting != nullptr && waiting->retry && waiting->retry->purpose != Purpose::candidate;
  if (measuring() || std::holds_alternative<CoolingDown>(phase_) || (waiting != nullptr && !apply_waits)) {
    abandon_window();
    phase_ = Paused{};
  }
  return {true, "paused: nothing more is applied until resume; the configuration in force stays", {}};
}

CommandOutcome TuningLoop::resume_command(TimePoint now, const std::string& source) {
  if (!paused_ && !safe_mode_until_) return {true, "not paused", {}};
  paused_ = false;
  if (safe_mode_until_) {
    leave_safe_mode(now, "operator resumed (" + source + ")");
  } else if (std::holds_alternative<Paused>(phase_)) {
    continue_tuning(now);
  }
  return {true, "resumed", {}};
}

CommandOutcome TuningLoop::rollback_command(TimePoint now) {
  if (!incumbent_) return {false, "there is no known good configuration yet (the baseline is still being measured)", {}};
  if (!policy_.enabled) return {false, "applying is disabled (TRIMTAB_ENABLED=false)", {}};
  if (auto* applying = std::get_if<Applying>(&phase_)) {
    // Made by on_apply_done(), where the apply lands (a failed apply heads back by itself).
    applying->then_roll_back = true;
    return {true, "rolling back to the last known good configuration once the apply in flight has finished", {}};
  }
  if (applied_ == *incumbent_) return {true, "already on the last known good configuration", {}};
  abandon_window();
  move_back(now);
  return {true, "rolling back to the last known good configuration", {}};
}

CommandOutcome TuningLoop::recommend_command(TimePoint now, const std::string& source) {
  if (mode_ == TuningMode::recommend) return {true, "already recommending", {}};
  mode_ = TuningMode::recommend;
  record(ModeRecord{TuningMode::recommend, source});
  // A close call or a confirmation ends here, whatever the phase: its candidate cannot be applied
  // any more, and judged later (after the incumbent's window, which may be under way or being
  // applied) it would make an incumbent of a configuration that does not run.
  comparison_ = std::monostate{};
  CommandOutcome outcome{true, "recommend-only: nothing more is applied; the agent measures what runs and publishes its recommendation", {}};
  if (std::holds_alternative<Applying>(phase_)) {
    // The apply in flight finishes; on_apply_done() then moves back from a candidate or a
    // switchback step instead of measuring it.
    outcome.message += "; the apply in flight finishes first";
    return outcome;
  }
  if (paused_ || safe_mode_until_ || !incumbent_ || std::holds_alternative<Done>(phase_) ||
      std::holds_alternative<Disabled>(phase_))
    return outcome;
  // The running configuration's window goes on, and counts.
  if (const auto purpose = measuring(); purpose && *purpose != Purpose::candidate && *purpose != Purpose::switchback)
    return outcome;
  abandon_window();
  if (applied_ != *incumbent_) {
    // Leave nothing half-measured in force: the one apply recommend mode makes.
    move_back(now);
    outcome.message += "; first back to the last known good configuration";
  } else {
    recommend(now);
  }
  return outcome;
}

CommandOutcome TuningLoop::apply_command(const std::string& source) {
  if (mode_ == TuningMode::apply) return {true, "already applying", {}};
  mode_ = TuningMode::apply;
  record(ModeRecord{TuningMode::apply, source});
  // The window under way (the running configuration) finishes and counts; the next is a candidate.
  return {true,
          policy_.enabled ? "applying: tuning goes on from the recommendation's evidence"
                          : "mode apply, but applying is disabled (TRIMTAB_ENABLED=false)",
          {}};
}

} // namespace trimtab
