#pragma once

// The journal's records as types: one struct per kind of line in journal.jsonl (docs/journal.md).
// Only journal_codec.cpp knows their JSON key names; everything else reads and writes these.
// Configurations are Settings (by name), not Points: a record reads without the config, and
// replay alone checks it against the space.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <boost/json/object.hpp>

#include <trimtab/core/guardrails.hpp>
#include <trimtab/core/observation.hpp>
#include <trimtab/core/settings.hpp>
#include <trimtab/core/tuning_mode.hpp>

namespace trimtab {

/// A window's verdict as the journal names it.
enum class DecisionVerdict { promote, keep, rollback, extend, discard, confirm };
/// "promote", "keep", "rollback", "extend", "discard", "confirm".
[[nodiscard]] const char* verdict_name(DecisionVerdict verdict) noexcept;
[[nodiscard]] std::optional<DecisionVerdict> verdict_from_name(std::string_view name) noexcept;

/// The agent started (or restarted): what it tunes and how.
struct StartRecord {
  Settings baseline; ///< what ran when the study began (kept across restarts)
  bool enabled = true;
  TuningMode mode = TuningMode::apply;
  bool resumed = false; ///< a journal was replayed first
  Direction direction = Direction::maximize;
  std::string objective;                ///< the objective's expression as written
  std::vector<std::string> constraints; ///< each constraint as written
};

/// An apply the guardrails held back or refused.
struct RefusalRecord {
  std::string reason; ///< a word: max_delta, min_dwell, rate_limit, disabled, host, …
  std::string detail;
  std::optional<Settings> point;
};

/// The solver's next candidate.
struct ProposalRecord {
  Settings point;
};

/// An apply about to start (written before any adapter is called).
struct ApplyRecord {
  Settings point;
  Purpose purpose = Purpose::candidate;
};

/// Every adapter took the configuration.
struct AppliedRecord {
  Settings point;
  Purpose purpose = Purpose::candidate;
};

/// An adapter failed; those already changed were put back.
struct ApplyFailedRecord {
  Settings point;
  Purpose purpose = Purpose::candidate;
  std::string error;
};

/// Whether the service runs what was applied, where an adapter can tell (docs/adapters.md).
struct InEffectRecord {
  Settings point;
  bool confirmed = false;
  std::int64_t waited_ms = 0;
  std::string detail; ///< why not, when not confirmed
};

/// One observation window's result.
struct ObservationRecord {
  Settings point;
  Purpose purpose = Purpose::candidate;
  /// Every declared signal's window value, in declaration order; nothing where it had none.
  std::vector<std::pair<std::string, std::optional<double>>> signals;
  std::optional<std::size_t> samples; ///< scrape intervals the objective was computed from
  /// The candidate window's number; 0 for other purposes; nothing in journals older than it.
  std::optional<std::uint64_t> window;
  bool guard = false;                 ///< a window of guarding the study's best (the ledger only)
  bool failed = false;                ///< the window could not be scored at all
  double value = 0.0;                 ///< the objective, when not failed
  std::optional<double> sem;          ///< its standard error from the window's intervals
  std::vector<std::optional<double>> constraints; ///< slack of each constraint (<= 0 holds)
};

/// The pooled evidence for a configuration measured more than once.
struct PooledValue {
  double value = 0.0;
  double sem = 0.0;
  std::size_t windows = 0;
};

/// What a window (or a pair of them) decided.
struct DecisionRecord {
  std::optional<Settings> point;
  DecisionVerdict verdict = DecisionVerdict::keep;
  std::string reason;
  std::optional<double> value;
  std::optional<double> incumbent_value;
  std::optional<double> effect;
  std::optional<double> p_value;
  bool counted = true; ///< a rollback that counts against max_rollbacks_per_hour
  std::optional<PooledValue> pooled;
  bool guard = false; ///< decided while guarding the study's best
};

/// A new last-known-good configuration.
struct IncumbentRecord {
  Settings point;
  double value = 0.0;
  std::optional<double> sem;
  std::optional<std::size_t> windows;
  /// The window's own intervals (signed so larger is better); older readers use them.
  std::optional<std::size_t> samples_count;
  std::optional<double> samples_mean, samples_variance;
  bool selected = false; ///< this window selected it: the claim leaves it out
  std::optional<double> load;
};

/// One pair of a switchback (incumbent, candidate in turn).
struct SwitchbackRecord {
  std::size_t pair = 0, of = 0;
  Settings candidate, incumbent;
  double incumbent_value = 0.0, candidate_value = 0.0;
  double difference = 0.0; ///< candidate against incumbent, positive is better
  bool final_check = false; ///< the study's closing confirmation of best against baseline
  bool guard = false;       ///< a guard's check of the best against the baseline
};

/// The level the study's best is guarded from.
struct GuardRecord {
  Settings point;
  double value = 0.0, sem = 0.0;
  std::size_t windows = 0;
  std::vector<std::optional<double>> constraints;
  std::string reason;
};

/// The improvement the study claims over its baseline (docs/verdicts.md).
struct ClaimRecord {
  Settings baseline, best;
  double confidence = 0.95;
  std::string method; ///< unchanged, switchback, pooled, feasibility or none
  std::optional<std::size_t> pairs;   ///< switchback pairs, for method switchback
  std::optional<std::size_t> windows; ///< windows of both, for pooled and feasibility
  std::string reason;
  struct Estimate {
    double baseline_value = 0.0, best_value = 0.0;
    double improvement = 0.0, low = 0.0, high = 0.0; ///< relative to |baseline| when `relative`
    bool relative = true;
  };
  std::optional<Estimate> estimate;
};

/// In recommend mode: what the evidence says to run instead of what runs.
struct RecommendationRecord {
  Settings running;
  std::size_t running_windows = 0;
  std::optional<double> running_value;
  std::optional<Settings> point; ///< nothing while nothing measured meets the constraints
  double value = 0.0;
  std::size_t windows = 0;
  bool same_as_running = false;
  struct Comparison {
    double effect = 0.0;
    std::optional<double> p_value, confidence;
  };
  std::optional<Comparison> comparison; ///< against what runs, when that was measured
  std::optional<std::string> reason;
};

struct SafeModeRecord {
  bool entered = false;
  std::string reason;
};

/// An operator's command, as received.
struct OperatorRecord {
  OperatorCommand action = OperatorCommand::pause;
  std::string source;
};

/// The mode switched (apply or recommend).
struct ModeRecord {
  TuningMode mode = TuningMode::apply;
  std::string source;
};

/// The study ended: budget spent, converged, or told to.
struct DoneRecord {
  std::string reason;
  std::optional<Settings> best; ///< always written; optional on reading, as replay never needed it
  std::optional<double> best_value;
};

/// The first line of a compacted journal (docs/journal.md#compaction).
struct CompactedRecord {
  std::uint64_t dropped = 0, kept = 0;
};

/// A record of a kind this build does not know (written by a newer one), kept as it was.
struct UnknownRecord {
  boost::json::object json;
};

using JournalRecord =
    std::variant<StartRecord, RefusalRecord, ProposalRecord, ApplyRecord, AppliedRecord, ApplyFailedRecord,
                 InEffectRecord, ObservationRecord, DecisionRecord, IncumbentRecord, SwitchbackRecord, GuardRecord,
                 ClaimRecord, RecommendationRecord, SafeModeRecord, OperatorRecord, ModeRecord, DoneRecord,
                 CompactedRecord, UnknownRecord>;

/// A record as the journal holds it: numbered and stamped.
struct JournalLine {
  std::uint64_t seq = 0;
  std::int64_t time_ms = 0; ///< Unix milliseconds
  JournalRecord record;
};

} // namespace trimtab
