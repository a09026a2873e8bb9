// An operator's commands (pause, resume, rollback, recommend, apply), each with its reply.
#include <trimtab/core/tuning_loop.hpp>

namespace trimtab {

CommandOutcome TuningLoop::on_command(TimePoint now, OperatorCommand command, const std::string& source) {
  if (phase_ == LoopPhase::stopped) return CommandOutcome{false, "the agent is stopping", {}};
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

void TuningLoop::abandon_window() {
  if ((phase_ == LoopPhase::settling || phase_ == LoopPhase::observing) && measuring_ == Purpose::candidate)
    solver_->cancel(applied_);
  if (pending_ && pending_->purpose == Purpose::candidate) {
    solver_->cancel(pending_->point);
    pending_.reset();
  }
  switchback_.reset();
  intensifying_.reset();
}

CommandOutcome TuningLoop::pause_command() {
  if (paused_) return {true, "already paused", {}};
  paused_ = true;
  if (phase_ == LoopPhase::settling || phase_ == LoopPhase::observing || phase_ == LoopPhase::cooling_down ||
      (phase_ == LoopPhase::waiting && (!pending_ || pending_->purpose == Purpose::candidate))) {
    abandon_window();
    phase_ = LoopPhase::paused;
  }
  return {true, "paused: nothing more is applied until resume; the configuration in force stays", {}};
}

CommandOutcome TuningLoop::resume_command(TimePoint now, const std::string& source) {
  if (!paused_ && !safe_mode_) return {true, "not paused", {}};
  paused_ = false;
  if (safe_mode_) {
    leave_safe_mode(now, "operator resumed (" + source + ")");
  } else if (phase_ == LoopPhase::paused) {
    continue_tuning(now);
  }
  return {true, "resumed", {}};
}

CommandOutcome TuningLoop::rollback_command(TimePoint now) {
  if (!incumbent_) return {false, "there is no known good configuration yet (the baseline is still being measured)", {}};
  if (phase_ == LoopPhase::applying) return {false, "an apply is in flight; try again when it has finished", {}};
  if (!policy_.enabled) return {false, "applying is disabled (TRIMTAB_ENABLED=false)", {}};
  if (applied_ == *incumbent_) return {true, "already on the last known good configuration", {}};
  abandon_window();
  pending_.reset();
  move_back(now);
  return {true, "rolling back to the last known good configuration", {}};
}

CommandOutcome TuningLoop::recommend_command(TimePoint now, const std::string& source) {
  if (mode_ == TuningMode::recommend) return {true, "already recommending", {}};
  if (phase_ == LoopPhase::applying) return {false, "an apply is in flight; try again when it has finished", {}};
  mode_ = TuningMode::recommend;
  record(ModeRecord{TuningMode::recommend, source});
  CommandOutcome outcome{true, "recommend-only: nothing more is applied; the agent measures what runs and publishes its recommendation", {}};
  if (paused_ || safe_mode_ || !incumbent_ || phase_ == LoopPhase::done || phase_ == LoopPhase::disabled) return outcome;
  if ((phase_ == LoopPhase::settling || phase_ == LoopPhase::observing) && measuring_ != Purpose::candidate &&
      measuring_ != Purpose::switchback)
    return outcome; // the running configuration's window goes on, and counts
  abandon_window();
  pending_.reset();
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
