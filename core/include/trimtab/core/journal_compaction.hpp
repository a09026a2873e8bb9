#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
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

/// compact_journal()'s choice for a journal read twice rather than held whole: add() every record
/// in file order, then decide(); header() and keeps() then say what compact_journal() would
/// return (its leading `compacted` record, and whether the i-th record, 0-based, follows it). It
/// keeps a few bytes a record (its kind, time and flags, and an id for its point) instead of the
/// records, so compacting a long journal does not hold it in memory.
class JournalCompaction {
public:
  explicit JournalCompaction(CompactionPolicy policy = {}) : policy_(policy) {}

  void add(const boost::json::object& record);
  void decide();
  /// The `compacted` record of seq 0 that leads the result (`dropped`, `kept`), after decide().
  [[nodiscard]] boost::json::object header() const;
  /// Whether the index-th record added is kept, after decide(); false past the last one.
  [[nodiscard]] bool keeps(std::size_t index) const noexcept { return index < keep_.size() && keep_[index]; }

private:
  enum class Kind : std::uint8_t {
    untyped, // no string "type": kept as it is
    other,
    compacted,
    recommendation,
    start,
    mode,
    safe_mode,
    guard,
    claim,
    done,
    incumbent,
    operator_action,
    applied,
    decision,
    observation,
    proposal,
    apply,
  };
  struct Digest {
    std::int64_t time = 0;
    std::uint32_t point = 0; // 0: no point; else an id per distinct point text
    Kind kind = Kind::untyped;
    bool remeasure = false;       // an observation whose purpose is remeasure
    bool rollback = false;        // a decision whose verdict is rollback
    bool pause_or_resume = false; // an operator record whose action is pause or resume
    bool selected = false;
    bool counted = true; // a decision without `"counted": false`
  };

  struct LastRecords;

  // decide()'s parts: records (before `done_at` too) that re-measurements make redundant; and
  // whether the i-th record, after the study and not dropped yet, is one replay still reads.
  void drop_surplus_remeasures(std::size_t done_at, const LastRecords& last);
  [[nodiscard]] bool kept_after_study(std::size_t i, const LastRecords& last, std::int64_t recent_from) const;

  CompactionPolicy policy_;
  std::vector<Digest> digests_;
  std::int64_t newest_ = 0; // the latest time of any record: "recent" counts back from it
  std::unordered_map<std::string, std::uint32_t> point_ids_;
  std::vector<bool> keep_;
};

} // namespace trimtab
