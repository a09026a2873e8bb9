#pragma once

#include <chrono>
#include <cstddef>
#include <vector>

#include <boost/json/object.hpp>

namespace trimtab {

/// How much of a long journal compaction keeps.
struct CompactionPolicy {
  /// Windows of the running configuration (re-measurements, the guard's windows, recommend mode's)
  /// kept per configuration: its pooled evidence (TuningPolicy::evidence_windows).
  std::size_t windows_per_config = 6;
  /// After the study, applies and rollbacks this recent (before the newest record) are kept: the
  /// guardrails' memory (the rollback budget counts an hour).
  std::chrono::milliseconds recent{3'600'000};
};

/// The records of a journal (docs/journal.md, in file order, each with seq and time) that a restart
/// still needs, so an agent that guards its best for months keeps a journal of bounded size. What
/// grows without end is what follows the study's `done` record (a guard window every few minutes)
/// and the windows of the running configuration (recommend mode); so:
/// - every record up to `done` is kept (the study, bounded by solver.budget), except re-measured
///   windows of a configuration beyond its last `windows_per_config` (each `remeasure` observation
///   goes with the `decision` and unselected `incumbent` records about it that follow) and every
///   `recommendation` but the last;
/// - after `done`, of each kind only what replay reads: the last `start`, `mode`, `safe_mode`,
///   pause/resume `operator`, `guard` and `incumbent` records; the `applied` records and counted
///   rollback `decision`s of the last `recent`, and the last `applied`; the re-measured windows as
///   above. The guard's other decisions, its switchback pairs and windows, apply requests,
///   refusals and earlier `compacted` records are dropped.
/// Replaying the result restores the same incumbent, baseline, claim, guard level, pause, safe
/// mode, mode and rollback budget as replaying `records`; the solver's history loses the dropped
/// re-measurements (repeats of configurations it keeps). Order and seq are kept: the result starts
/// with a `compacted` record of seq 0 (`dropped`, `kept`), which tells Journal::open to accept the
/// gaps. Records without a string `type` are kept as they are.
[[nodiscard]] std::vector<boost::json::object> compact_journal(std::vector<boost::json::object> records,
                                                               const CompactionPolicy& policy = {});

} // namespace trimtab
