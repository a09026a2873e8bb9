#pragma once

// A study as its journal tells it: the fold from journal records to a StudyReport, and the trends
// over its windows. study_report_html.hpp draws it.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include <trimtab/core/journal_records.hpp>
#include <trimtab/core/trend.hpp>

namespace trimtab {

/// One scored window: an `observation` record and the `decision` that followed it.
struct WindowSummary {
  /// The observation's `window`: the count of candidate windows so far, so the baseline is 0 and a
  /// remeasure or rollback window shares the index of the candidate before it. A decision with no
  /// observation (a window discarded unscored) takes the index of the window before it.
  std::int64_t index = 0;
  std::int64_t time_ms = 0;              ///< when the observation was written, Unix milliseconds
  boost::json::object point;             ///< the configuration observed
  std::string purpose;                   ///< baseline, candidate, remeasure, … ("" if absent)
  std::optional<double> value;           ///< the objective; empty when the record held no finite number
  std::string verdict;                   ///< promote, keep, rollback, discard; "" until the decision
  std::string reason;                    ///< the decision's reason
  std::optional<double> effect;          ///< relative change vs the incumbent, > 0 is better
  std::optional<double> p_value;         ///< the decision's p-value
  std::optional<double> incumbent_value; ///< the incumbent's value once the decision took effect
  /// The observation's `signals`: name → value, empty when the signal was missing or not finite.
  std::map<std::string, std::optional<double>> signals;
  /// Set by compute_trends: the objective value lies far outside the recent range (flag_anomalies).
  bool anomaly = false;
};

/// Where one signal, or the objective, is heading over the study's recent windows.
struct SignalTrend {
  std::string name;                 ///< a signal's name, or "objective" for the objective's value
  std::optional<TrendResult> trend; ///< nothing with fewer than 4 windows holding a value
  std::string label;                ///< trend_label(), or "too few windows" without a trend
  Goodness goodness = Goodness::unknown;
  /// Indexes (WindowSummary::index) of the windows analysed whose value flag_anomalies flagged.
  std::vector<std::int64_t> anomalous_windows;
  std::size_t windows_used = 0; ///< windows analysed: the last (at most) trend_windows with a value
};

/// How often each thing happened over the whole journal.
struct StudyCounts {
  std::size_t windows = 0;            ///< entries in StudyReport::windows: observations and bare decisions
  std::size_t promotions = 0;
  std::size_t keeps = 0;
  std::size_t rollbacks = 0;          ///< decisions with verdict rollback
  std::size_t discards = 0;
  std::size_t extensions = 0;         ///< decisions with verdict extend (a close call measured again)
  std::size_t confirmations = 0;      ///< decisions with verdict confirm (switchback pairs follow)
  std::size_t apply_failures = 0;     ///< `apply_failed` records
  std::size_t operator_rollbacks = 0; ///< `operator` records with action rollback
  std::size_t restarts = 0;           ///< `start` records with resumed = true
  std::map<std::string, std::size_t> refusals; ///< by reason

  [[nodiscard]] std::size_t refusals_total() const;
};

/// A study, folded from its journal (docs/journal.md) for `trimtab report` and the status page.
struct StudyReport {
  bool maximize = true;             ///< from the start record's "objective"; maximize when absent
  std::string objective_expression; ///< from the start record's "objective", "" when absent
  bool enabled = true;              ///< the last start record's `enabled`: false means measure-only (kill switch)
  std::string mode = "apply";       ///< the start record's `mode`, then the last `mode` switch
  /// The last `recommendation` record while the mode is recommend (cleared by a switch to apply).
  std::optional<RecommendationRecord> recommendation;

  /// The configuration the study started from: `baseline` of the first start record holding one,
  /// else the point of the first observation.
  std::optional<boost::json::object> baseline;
  /// The baseline's measured value: the first observation whose purpose is "baseline", else the
  /// first observation of the baseline point whatever its purpose, else the first `incumbent`
  /// record naming the baseline point, else the first window if its purpose is "remeasure" (the
  /// agent measuring what was live when it started).
  std::optional<double> baseline_value;

  std::optional<boost::json::object> incumbent; ///< the last `incumbent` record's point
  std::optional<double> incumbent_value;        ///< … and its value
  std::optional<boost::json::object> applied;   ///< the last `applied` record's point

  std::vector<WindowSummary> windows; ///< in journal order
  StudyCounts counts;

  bool safe_mode = false; ///< the last `safe_mode` record's `entered`
  std::string safe_mode_reason;
  bool paused = false;    ///< operator pause, not yet resumed
  bool done = false;      ///< a `done` record was written (a restart after it stays done)
  std::string done_reason;
  std::optional<boost::json::object> best;
  std::optional<double> best_value;

  /// How much better the incumbent is than the baseline, signed so > 0 is better whether the
  /// objective is maximized or minimized: (incumbent - baseline) / |baseline|. With a baseline of
  /// exactly 0 it is the plain difference, as the decisions' `effect` is against an incumbent of
  /// 0. Nothing until both values are known.
  std::optional<double> improvement;
  /// The interval of `improvement` at the study's confidence, and where it came from: from the
  /// study's `claim` record (method "switchback", "pooled", "feasibility", "unchanged") once it is
  /// written; before that "as measured": the incumbent's pooled value against the baseline's,
  /// without an interval.
  std::optional<double> improvement_low, improvement_high;
  std::string improvement_method;
  /// The constraints' texts, from the last start record.
  std::vector<std::string> constraints;
  /// The last `claim` record (the improvement the study claims; docs/verdicts.md).
  std::optional<ClaimRecord> claim;
  /// The objective's trend first, then each signal seen in an observation, by name. Filled by
  /// compute_trends().
  std::vector<SignalTrend> trends;

  std::size_t records = 0;     ///< records read
  std::int64_t first_time_ms = 0;
  std::int64_t last_time_ms = 0;
};

/// The fold behind study_report_from_journal, one record at a time, so that a long-running agent
/// keeps its report current without keeping every record: what it holds grows with the windows,
/// not with the records, and with a window limit not even with those.
class StudyFold {
public:
  /// Keeps every window.
  StudyFold() = default;
  /// Keeps the last `max_windows` windows (at least trend_windows + 10, what trends look at) and
  /// forgets older ones, after taking from them what the report still needs: the counts, the
  /// baseline and its value. The report's `windows` then holds the recent ones only, and
  /// counts.windows still counts them all.
  explicit StudyFold(std::size_t max_windows);
  /// Takes the next record, in journal order. Never throws for the record's content: a record
  /// this build cannot read (decode_line) is counted and says nothing more.
  void add(const boost::json::object& record);
  /// The same for a record already read (the agent's own, as it writes them).
  void add(const JournalLine& line);
  /// The report of the records so far (baseline, improvement and trends computed now).
  [[nodiscard]] StudyReport report() const;

private:
  void forget_old_windows();
  void fold_start(const StartRecord& record);
  void fold_incumbent(const IncumbentRecord& record);

  StudyReport report_;
  std::size_t max_windows_ = 0; // 0: keep every window
  std::size_t forgotten_windows_ = 0;
  // What report() would have read from the windows forgotten: the first window's purpose and
  // value, the first value of a window whose purpose is baseline, and of one at the baseline point.
  std::optional<std::string> first_window_purpose_;
  std::optional<double> first_window_value_;
  std::optional<double> forgotten_baseline_window_value_;
  std::optional<double> forgotten_baseline_point_value_;
  std::vector<boost::json::object> incumbent_points_; // to match the baseline once it is known
  std::vector<double> incumbent_values_;
  std::optional<double> baseline_incumbent_value_; // the last incumbent at the baseline, once it is known
  std::vector<std::string> constraints_; // the last start record's, for signals' goodness
};

/// Folds journal records, in journal order, into a StudyReport. Never throws for the records'
/// content: unknown record types and keys are skipped, so journals written by newer versions still
/// report, and a record with a field of the wrong type is skipped whole. Ends with compute_trends(), whose
/// goodness comes from the last start record's "constraints" (goodness_from_constraints) when it
/// has them.
[[nodiscard]] StudyReport study_report_from_journal(std::span<const boost::json::object> records);

/// Windows a trend looks back over: enough for the test to see a drift, few enough that the
/// trend describes the study now rather than its first hour.
inline constexpr std::size_t trend_windows = 20;

/// Fills `report.trends` and WindowSummary::anomaly from report.windows (replacing earlier
/// results): for the objective and for each signal, analyse_trend() over the last trend_windows
/// windows holding a value for it (whatever their purpose), and flag_anomalies() over the same
/// windows, with up to 10 windows before them as history so the first ones can be judged too.
/// The objective's goodness follows `report.maximize`; a signal's is looked up in `goodness`
/// (unknown when absent).
void compute_trends(StudyReport& report, const std::map<std::string, Goodness>& goodness);

/// Which way signals are better, read from constraints as operators write them: a lone signal name
/// on the left of `<` or `<=` is lower-better (`p99_ms <= 100`), of `>` or `>=` higher-better
/// (`hit_ratio >= 0.9`). A constraint whose left side is anything else (`errors / rps < 0.01`), or
/// that does not parse, says nothing; a signal bounded both ways (`pool_wait_ms >= 1` and
/// `pool_wait_ms <= 50`) is left out, since neither way is simply better.
[[nodiscard]] std::map<std::string, Goodness> goodness_from_constraints(const std::vector<std::string>& constraint_texts);

/// The study's statistics for /status: {"windows", "promotions", "rollbacks", "keeps", "discards",
/// "apply_failures", "refusals": {reason: count}, "refusals_total", "baseline_value",
/// "incumbent_value", "improvement", "trends": [{"signal", "label", "slope", "p_value", "windows",
/// "anomalous_windows": [window index, ...]}]}. Values not known yet are null.
[[nodiscard]] boost::json::object study_statistics_json(const StudyReport& report);

/// "done", "safe mode", "paused" or "tuning", the first that holds in that order.
[[nodiscard]] std::string study_state(const StudyReport& report);

} // namespace trimtab
