// Rebuilding a study from an earlier run's journal, record by record (TuningLoop::replay).
#include <trimtab/core/tuning_loop.hpp>

#include <cmath>
#include <stdexcept>

#include <trimtab/core/journal_codec.hpp>
#include <trimtab/core/overloaded.hpp>
#include <trimtab/core/settings.hpp>

namespace trimtab {

namespace {

using std::chrono::milliseconds;

// A record's values with NAN where it holds none (a signal that had no value).
std::vector<double> or_nan(const std::vector<std::optional<double>>& values) {
  std::vector<double> out;
  for (const auto& v : values) out.push_back(v.value_or(NAN));
  return out;
}

// The configuration a record names, in the space this loop tunes; errors name the record's field.
Point point_in(const Space& space, const char* field, const Settings& settings) {
  try {
    return point_of(space, settings);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string(field) + ": " + e.what());
  }
}

} // namespace

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
  const auto& space = solver_->space();
  std::visit(
      detail::overloaded{
          [&](const ObservationRecord& r) { replay_observation(replay, r); },
          [&](const IncumbentRecord& r) {
            // samples_count/mean/variance stay in the record for older readers; verdicts now
            // come from the evidence ledger, rebuilt from the observations.
            incumbent_ = point_in(space, "point", r.point);
            incumbent_value_ = r.value;
            if (r.selected) ledger_.mark_selected(*incumbent_);
            incumbent_load_ = r.load;
          },
          [&](const DecisionRecord& r) {
            if (r.verdict == DecisionVerdict::rollback && r.counted) guardrails_.record_rollback(time);
          },
          [&](const AppliedRecord& r) {
            const auto point = point_in(space, "point", r.point);
            guardrails_.record_apply(replay.last_applied.value_or(point), point, time, r.purpose);
            replay.last_applied = point;
          },
          [&](const OperatorRecord& r) {
            if (r.action == OperatorCommand::pause) paused_ = true;
            if (r.action == OperatorCommand::resume) paused_ = false;
          },
          [&](const SafeModeRecord& r) {
            safe_mode_until_.reset();
            if (r.entered) safe_mode_until_ = time + std::chrono::duration_cast<TimePoint::duration>(policy_.safe_mode_recovery);
          },
          [&](const DoneRecord&) { study_done_ = true; },
          [&](const GuardRecord& r) { replay_guard(r); },
          [&](const ClaimRecord& r) { claim_ = r; },
          [&](const StartRecord& r) {
            if (!baseline_) baseline_ = point_in(space, "baseline", r.baseline);
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

void TuningLoop::replay_observation(Replay& replay, const ObservationRecord& r) {
  const auto point = point_in(solver_->space(), "point", r.point);
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
}

void TuningLoop::replay_guard(const GuardRecord& r) {
  PooledEvidence level;
  level.mean = r.value;
  level.sem = r.sem;
  level.windows = r.windows;
  level.degrees_of_freedom = level.windows > 1 ? static_cast<double>(level.windows - 1) : 1.0;
  level.constraints = or_nan(r.constraints);
  guard_reference_ = std::move(level);
  guard_recent_.clear();
}

void TuningLoop::finish_replay(Replay replay) {
  solver_->seed(replay.history);
  resumed_ = replay.any;
  // An operator's switch outlives a restart, unless the configured mode changed since: then the
  // file is the newer word.
  if (replay.switched && replay.started_in == policy_.mode) mode_ = replay.switched_to;
}

} // namespace trimtab
