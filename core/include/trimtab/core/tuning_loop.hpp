#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <trimtab/core/amount.hpp>
#include <trimtab/core/backoff.hpp>
#include <trimtab/core/evidence.hpp>
#include <trimtab/core/expression.hpp>
#include <trimtab/core/guardrails.hpp>
#include <trimtab/core/journal_records.hpp>
#include <trimtab/core/paired_verdict.hpp>
#include <trimtab/core/scrape.hpp>
#include <trimtab/core/signal.hpp>
#include <trimtab/core/solver.hpp>
#include <trimtab/core/statistics.hpp>
#include <trimtab/core/tuning_mode.hpp>
#include <trimtab/core/tuning_policy.hpp>
#include <trimtab/core/verdict.hpp>

namespace trimtab {

/// What the loop asks its executor (the agent) to do, in order. A Record must be durable before the
/// actions after it are carried out: the journal is written before the world is changed.
struct RecordAction {
  JournalRecord record; ///< the journal adds seq and time (docs/journal.md); journal_codec.hpp writes it
};
/// Change the service to `point` through the adapters (all or nothing), then call
/// on_apply_done() or on_apply_failed().
struct ApplyAction {
  Point point;
  Purpose purpose;
};
/// Call on_timer() at `at` (replaces any earlier request).
struct WakeAction {
  TimePoint at;
};
/// The last known good configuration changed: write it where operators and restarts find it.
struct SaveBestAction {
  Point point;
  double value;
};
using LoopAction = std::variant<RecordAction, ApplyAction, WakeAction, SaveBestAction>;

enum class LoopPhase { not_started, applying, waiting, settling, observing, cooling_down, paused, safe_mode, done, disabled, stopped };
[[nodiscard]] const char* phase_name(LoopPhase phase) noexcept;

/// What the service is left running when the agent stops (TuningLoop::on_stop).
enum class StopTarget {
  last_known_good, ///< the incumbent, so a half-measured candidate is not left in force
  baseline,        ///< what ran when the study began (the first start record's)
  leave,           ///< whatever is applied at that moment
};

/// A host's say before a candidate is applied: a reason to refuse it, or nothing to let it go.
/// Asked only for candidates, the first application of a new configuration: moves back to a known
/// configuration (rollback, restore, remeasure, switchback) are never vetoed.
using Veto = std::function<std::optional<std::string>(const Point& candidate)>;

/// The reply to an operator command, and what the agent must do about it.
struct CommandOutcome {
  bool ok = true;
  std::string message;
  std::vector<LoopAction> actions;
};

/// The tuning loop as a state machine with no I/O and no clock: propose → apply → settle →
/// observe → decide → promote | keep | rollback → propose. Every event handler takes the time it
/// happened and returns the actions to carry out, so tests drive every path deterministically.
///
/// Safety properties, all enforced here:
/// - every apply passes Guardrails (bounds, max_delta, rate, dwell; thrash shaping the search);
/// - candidates stay one step from the incumbent, so a rollback is always one allowed step;
/// - a window that breaks a constraint, regresses, or produces no data rolls back at once;
/// - the rollback budget, repeated apply failures and operators put the loop in safe mode, where
///   nothing but a rollback or restore is applied;
/// - with `enabled` false nothing is applied at all.
class TuningLoop {
public:
  /// Throws std::invalid_argument for a policy that does not fit (a signal the objective names is
  /// not declared, a load signal that is not a signal, guardrails that do not fit the space).
  TuningLoop(std::unique_ptr<Solver> solver, TuningPolicy policy);

  /// Rebuilds the study from an earlier run's journal records (docs/journal.md), before start():
  /// the solver's history, the last known good configuration, the rollbacks of the last hour,
  /// pause and safe mode. Throws std::invalid_argument naming the record (by seq) that does not
  /// fit this configuration. The same as begin_replay(), replay_record() for each record in
  /// order, and finish_replay().
  void replay(std::span<const boost::json::object> records);

  /// What a replay gathers between its records: the windows for the solver, pooled per
  /// configuration as they are read (seeded all at once by finish_replay(), so a refused record
  /// leaves the solver's history as it was), the last
  /// applied configuration, the mode an operator switched to.
  class Replay {
    friend class TuningLoop;
    explicit Replay(TuningMode configured) : started_in(configured), switched_to(configured) {}
    EvaluationHistory history;
    std::optional<Point> last_applied;
    // Plain values rather than optionals: g++ 12 warns that an optional enum may be read uninitialised.
    TuningMode started_in, switched_to;
    bool switched = false;
    bool any = false;
  };
  /// replay(), one record at a time, so that a long journal can be read, replayed and dropped
  /// record by record rather than held in memory whole.
  [[nodiscard]] Replay begin_replay() const { return Replay(policy_.mode); }
  void replay_record(Replay& replay, const JournalLine& line);
  /// The same for a line as the journal holds it, returned as read for the caller's other uses;
  /// throws std::invalid_argument naming the record's seq and what is wrong with it.
  JournalLine replay_record(Replay& replay, const boost::json::object& record);
  void finish_replay(Replay replay);

  /// Starts the solver from results measured elsewhere (an offline study, another environment),
  /// before replay() and start(): they inform proposals and recommendations, not the incumbent.
  /// Throws std::invalid_argument naming the first trial that does not fit the space.
  void seed(std::span<const Trial> trials) { solver_->seed(trials); }

  /// Begins: `running` is the configuration the adapters report now. Measures it as the baseline,
  /// or, after replay(), restores the last known good configuration and measures it again.
  [[nodiscard]] std::vector<LoopAction> start(TimePoint now, const Point& running);

  [[nodiscard]] std::vector<LoopAction> on_scrape(TimePoint now, Scrape scrape);
  [[nodiscard]] std::vector<LoopAction> on_apply_done(TimePoint now);
  [[nodiscard]] std::vector<LoopAction> on_apply_failed(TimePoint now, const std::string& error);
  [[nodiscard]] std::vector<LoopAction> on_timer(TimePoint now);
  [[nodiscard]] CommandOutcome on_command(TimePoint now, OperatorCommand command, const std::string& source);
  /// The agent stops: the loop ends (every later event but the stop's own apply is ignored) and
  /// says what the service is left running. It moves straight to `target` (the last known good
  /// configuration or the study's baseline), journaled first as an `apply` with purpose restore,
  /// then `applied` or `apply_failed` from on_apply_done()/on_apply_failed(); with StopTarget::leave,
  /// or with the target already applied, nothing is applied. It obeys the kill switch
  /// (TRIMTAB_ENABLED=false applies nothing), recommend mode (applies nothing) and an operator's
  /// pause (what runs stays). It does not obey max_delta, min_dwell, the update rate or the host's
  /// veto: like every restore it goes to a configuration the service has run, and stopping is no
  /// time for several steps.
  [[nodiscard]] std::vector<LoopAction> on_stop(StopTarget target);

  /// Installs the host's veto (see Veto); a veto is journaled as a refusal with reason host_veto
  /// and the host's words, and three refusals in a row mean safe mode, as for any refusal.
  void set_veto(Veto veto) { veto_ = std::move(veto); }

  // What /status shows.
  [[nodiscard]] LoopPhase phase() const noexcept { return static_cast<LoopPhase>(phase_.index()); }
  [[nodiscard]] const Point& applied() const noexcept { return applied_; }
  [[nodiscard]] const std::optional<Point>& incumbent() const noexcept { return incumbent_; }
  [[nodiscard]] std::optional<double> incumbent_value() const noexcept { return incumbent_value_; }
  [[nodiscard]] std::uint64_t windows_scored() const noexcept { return windows_scored_; }
  [[nodiscard]] bool paused() const noexcept { return paused_; }
  [[nodiscard]] bool in_safe_mode() const noexcept { return safe_mode_until_.has_value(); }
  [[nodiscard]] TuningMode mode() const noexcept { return mode_; }
  /// The last `recommendation` record (recommend mode), without seq and time.
  [[nodiscard]] const std::optional<RecommendationRecord>& recommendation() const noexcept { return recommendation_; }
  /// True while a promising candidate (or, at the end, the best against the baseline) is being
  /// confirmed by switchback pairs.
  [[nodiscard]] bool confirming() const noexcept { return std::holds_alternative<Switchback>(comparison_); }
  /// The last `claim` record (the improvement the study claims over the baseline), without seq and
  /// time.
  [[nodiscard]] const std::optional<ClaimRecord>& claim() const noexcept { return claim_; }
  /// Every window measured per configuration (the most recent policy().evidence_windows of each).
  [[nodiscard]] const EvidenceLedger& evidence() const noexcept { return ledger_; }
  /// After the study: the best's level when guarding began (or took a new level), and its windows
  /// since, the most recent policy().guard_windows of them. Nothing before the study is done.
  [[nodiscard]] const std::optional<PooledEvidence>& guard_reference() const noexcept { return guard_reference_; }
  [[nodiscard]] std::span<const WindowEvidence> guard_recent() const noexcept { return guard_recent_; }
  [[nodiscard]] bool guarding() const noexcept;
  /// The verdict rules the policy makes.
  [[nodiscard]] const VerdictRules& verdict_rules() const noexcept { return rules_; }
  [[nodiscard]] const Solver& solver() const noexcept { return *solver_; }
  [[nodiscard]] const TuningPolicy& policy() const noexcept { return policy_; }
  [[nodiscard]] const Guardrails& guardrails() const noexcept { return guardrails_; }
  /// Signal values of the last scored window, in policy().signals order (nothing where none).
  [[nodiscard]] const std::vector<std::optional<double>>& last_signals() const noexcept { return last_signals_; }

private:
  struct Score; // one window's verdict material
  /// A configuration under switchback confirmation against the incumbent: the objective of each
  /// half measured so far.
  struct Switchback {
    /// What the pairs confirm, and so what their verdict does.
    enum class Kind {
      candidate,   ///< a candidate that beat the incumbent: promoted only if the pairs confirm it
      final_check, ///< the end of the study: the best against the baseline, for the claim
      guard_check, ///< after the study: a regressed best against the baseline, which may replace it
    };
    Point candidate; // final and guard checks: the baseline, confirmed against the incumbent (the best)
    Kind kind = Kind::candidate;
    PairedEvidence pairs{};
    // The windows of each half (guard checks: the level the guard takes afterwards).
    std::vector<WindowEvidence> incumbent_windows{};
    std::vector<WindowEvidence> candidate_windows{};
  };

  /// A close call whose incumbent is measured again before the candidate's next window (SMAC's
  /// intensification): what promoting the candidate needs once the incumbent's window is in.
  struct Intensification {
    Point candidate;
    std::vector<double> samples;       // the candidate's last window, per interval
    std::optional<double> load;        // the load signal in that window
  };

  // The phase: what the loop does now, each alternative with what only that phase has, in the
  // order of LoopPhase (phase() is the index).
  /// The window being measured: what for, and its scrapes and per-interval samples so far.
  struct Measurement {
    Purpose purpose;
    bool extended = false; // it was short of min_samples at its end once, and was given another duration
    std::vector<Scrape> scrapes{};
    std::vector<double> interval_objective{};
    std::vector<std::vector<double>> interval_constraints{}; // each constraint's slack per interval
  };
  struct NotStarted {};
  struct Applying {
    ApplyAction apply; // on_apply_done or on_apply_failed is awaited for it
    bool then_roll_back = false; // an operator's rollback came meanwhile: made once the apply is done
  };
  struct Waiting {
    std::optional<ApplyAction> retry; // made at the wake (deferred, or a move to safety that failed); else tuning goes on
  };
  struct Settling {
    Purpose purpose; // of the window measured once the service has settled
  };
  struct Observing {
    Measurement window;
  };
  struct CoolingDown {};
  struct Paused {};
  struct SafeMode {}; // until safe_mode_until_
  struct Done {};
  struct Disabled {};
  struct Stopped {
    std::optional<ApplyAction> restore; // the apply on_stop asked for, until its result is in
  };
  using Phase = std::variant<NotStarted, Applying, Waiting, Settling, Observing, CoolingDown, Paused, SafeMode, Done,
                             Disabled, Stopped>;
  static_assert(std::variant_size_v<Phase> == static_cast<std::size_t>(LoopPhase::stopped) + 1 &&
                    std::is_same_v<std::variant_alternative_t<static_cast<std::size_t>(LoopPhase::observing), Phase>, Observing> &&
                    std::is_same_v<std::variant_alternative_t<static_cast<std::size_t>(LoopPhase::safe_mode), Phase>, SafeMode>,
                "phase() is the index of the phase's alternative: Phase lists them in LoopPhase's order");
  /// What a window in settling or observing is measured for; nothing in other phases.
  [[nodiscard]] std::optional<Purpose> measuring() const noexcept;
  /// A move of one or more guardrail steps toward `target`, under way while applying or waiting.
  struct Move {
    Point target;
    /// decide() ordered it as a rollback that counts: on arrival a spent budget means safe mode.
    bool counted_rollback = false;
  };

  // An operator's commands (loop_commands.cpp): each says what it did, or why it did nothing.
  [[nodiscard]] CommandOutcome pause_command();
  [[nodiscard]] CommandOutcome resume_command(TimePoint now, const std::string& source);
  [[nodiscard]] CommandOutcome rollback_command(TimePoint now);
  [[nodiscard]] CommandOutcome recommend_command(TimePoint now, const std::string& source);
  [[nodiscard]] CommandOutcome apply_command(const std::string& source);
  /// The confirmation under way, if one is.
  [[nodiscard]] Switchback* switchback() noexcept { return std::get_if<Switchback>(&comparison_); }
  /// Drops the candidate measured or waiting and any confirmation or close call under way.
  void abandon_window();
  /// The same for an apply that just landed and will not be measured: an operator's rollback or
  /// recommend mode came while it was applied.
  void abandon_landed(Purpose purpose);
  // What replay_record() makes of the records that need more than a line.
  void replay_observation(Replay& replay, const ObservationRecord& record);
  void replay_guard(const GuardRecord& record);
  /// Safe mode or a pause: the loop waits in that phase, and nothing new starts. True when so.
  bool parked(TimePoint now);
  void propose(TimePoint now);
  void continue_tuning(TimePoint now);
  void request_apply(TimePoint now, Point point, Purpose purpose);
  /// The kill switch, safe mode, a pause or recommend mode keeps this apply from being made: true
  /// when so, with what the loop does instead under way.
  bool held_back(TimePoint now, const Point& point, Purpose purpose);
  /// The guardrails or the host refuse this apply, or defer it: true when so, with the wait (or
  /// safe mode) under way.
  bool refused(TimePoint now, const Point& point, Purpose purpose);
  /// After a refusal: safe mode at the third in a row, else a wait before the loop goes on.
  void wait_after_refusal(TimePoint now, const std::string& safe_mode_reason);
  void move_to(TimePoint now, const Point& target, Purpose purpose, bool counted_rollback = false);
  void arrived(TimePoint now, Purpose purpose);
  void begin_measurement(TimePoint now, Purpose purpose, bool settle = true);
  void decide(TimePoint now, const std::string& ended_early = {});
  void decide_candidate(TimePoint now, const Score& score, const std::string& ended_early);
  void decide_switchback(TimePoint now, const Score& score);
  /// A switchback window that cannot count (`problem`): the confirmation ends without promoting.
  void stop_switchback(TimePoint now, const Score& score, const std::string& problem, bool broke);
  /// The last pair is in: promote or not, or (at the end of the study) claim.
  void conclude_switchback(TimePoint now, const Score& score);
  /// Journals the last pair of `check` (pair `pair` of `of`).
  void record_switchback_pair(const Switchback& check, std::size_t pair, std::size_t of);
  void decide_guard(TimePoint now, const Score& score);
  void decide_guard_check(TimePoint now, const Score& score, Switchback& check);
  /// Takes `level` as the guarded configuration's reference and journals it.
  void guard_from(const PooledEvidence& level, const std::string& reason);
  [[nodiscard]] std::size_t guard_check_pairs() const noexcept;
  void add_interval(Measurement& window) const;
  [[nodiscard]] WindowEvidence window_evidence(const Score& score) const;
  [[nodiscard]] Observation solver_observation(const Score& score) const;
  void record_observation(const Point& point, const Score& score, bool failed);
  void record_decision(const Point& about, std::optional<double> value, DecisionVerdict verdict, const std::string& reason,
                       std::optional<double> effect, std::optional<double> p, bool counted = true);
  /// Marks the decision just recorded as the guard's (made after the study, about the best).
  void mark_last_decision_as_guard();
  void make_incumbent(TimePoint now, const Point& point, const Score& score, bool selected);
  void make_incumbent(const Point& point, std::span<const double> samples, std::optional<double> load, bool selected);
  /// The incumbent's evidence a candidate is judged against: without the window that selected it
  /// once it has another (that window is lucky on average).
  [[nodiscard]] PooledEvidence incumbent_evidence() const;
  /// Adds a window to the ledger, sparing the incumbent and the baseline from its bound.
  void remember(const Point& point, WindowEvidence window);
  /// A close call on `point`: another window of the candidate, or first one of the incumbent when
  /// the incumbent has fewer unselected windows than the candidate has windows.
  void extend(TimePoint now, const Point& point, std::optional<double> value, const std::string& reason, const Verdict& verdict,
              Intensification next);
  /// The incumbent's window measured for a close call is in: the call is judged again.
  void judge_intensified(TimePoint now);
  /// Promotes `point` now, or confirms it first with switchback pairs when they are set.
  void promote_or_confirm(TimePoint now, const Point& point, std::optional<double> value, const std::string& reason,
                          const Verdict& verdict, std::span<const double> samples, std::optional<double> load);
  /// A decision that leaves the window's configuration for the incumbent, as the journal says it.
  struct RollbackDecision {
    Point about;
    std::optional<double> value;
    std::string reason;
    std::optional<double> effect{};
    std::optional<double> p_value{};
    /// keep: a confirmation that did not confirm goes back without a rollback to count.
    DecisionVerdict verdict = DecisionVerdict::rollback;
    /// A rollback that counts against max_rollbacks_per_hour (Verdict::uncounted is the exception).
    bool counted = true;
  };
  /// The one path of a decision back to the incumbent: journals it, counts a counted rollback
  /// against the hour's budget, and moves back; on arrival (arrived()) a spent budget means safe
  /// mode. The guard's check, which finds the baseline already in force, is the one exception (see
  /// decide_guard_check).
  void roll_back(TimePoint now, const RollbackDecision& decision);
  /// Moves back to the incumbent with nothing to journal or count: an operator's rollback, a
  /// switch to recommend mode, a pause or safe mode that left a candidate in force.
  void move_back(TimePoint now, bool counted_rollback = false);
  /// Safe mode when the rollbacks of the last hour are more than max_rollbacks_per_hour: true when
  /// it entered it.
  bool enter_safe_mode_if_rollbacks_spent(TimePoint now);
  /// Records the study's claim (switchback `differences` of best over baseline, signed so that
  /// positive is better; or, when empty, the pooled windows of both) and moves to the best.
  void claim_and_finish(TimePoint now, std::span<const double> differences, double baseline_mean, double best_mean,
                        const std::string& note);
  void record_claim(std::span<const double> differences, double baseline_mean, double best_mean, const std::string& note);
  void recommend(TimePoint now);
  [[nodiscard]] std::chrono::milliseconds window_duration(Purpose purpose) const noexcept;
  void finish(TimePoint now, const std::string& reason);
  void enter_safe_mode(TimePoint now, const std::string& reason);
  void leave_safe_mode(TimePoint now, const std::string& reason);
  void wake(TimePoint at);
  void record(JournalRecord record);
  /// A point as records hold it.
  [[nodiscard]] Settings named(const Point& point) const { return settings_of(solver_->space(), point); }
  void refuse(const Refusal& refusal, const Point* point);
  [[nodiscard]] Score score_window(const Measurement& window) const;
  [[nodiscard]] std::vector<LoopAction> take();

  std::unique_ptr<Solver> solver_;
  TuningPolicy policy_;
  Guardrails guardrails_;
  std::vector<std::size_t> objective_inputs_;              // signal index per objective variable
  std::vector<std::vector<std::size_t>> constraint_inputs_; // per constraint, signal index per variable
  std::optional<std::size_t> load_index_;

  // The phase says what the loop does now, and holds what only it has (the apply in flight, the
  // window's scrapes). The members below it outlive a phase; what holds between them:
  // - paused_ and safe_mode_until_ are the operator's pause and safe mode. Both may hold at once,
  //   and each may hold in other phases than its own (an apply in flight when the pause came, the
  //   rollback that safe mode makes, a replayed journal before start()). Phase Paused implies
  //   paused_, and phase SafeMode implies safe_mode_until_; with both, the loop parks in SafeMode
  //   (parked()), which lifts by itself.
  // - study_done_: the study has ended and its `done` record is journaled (now or in a replayed
  //   journal); it never turns false. Phase Done is where it rests, but guarding the best measures
  //   on (settling, observing, switchback) with study_done_ true, and a stop leaves it as it was.
  // - move_: a move toward a target, which may take several applies (and waits between them).
  // - comparison_: a confirmation or a close call under way (never both), across several
  //   phases; what interrupts them drops them, and continue_tuning() starts afresh.
  // - blind_ (below) is about the data, not the phase: the last window could not be scored.
  Phase phase_;
  Point applied_;
  std::optional<Point> incumbent_;
  std::optional<double> incumbent_value_;
  std::optional<double> incumbent_load_;

  std::optional<Move> move_;
  TimePoint phase_deadline_{}; // the wake the loop last asked for

  std::uint64_t windows_scored_ = 0;
  std::size_t windows_since_remeasure_ = 0;
  // Applies failed in a row, and the wait before the next attempt: 1 s, doubling, at most 60 s.
  Backoff apply_backoff_{std::chrono::seconds(1), std::chrono::seconds(60)};
  std::size_t refusals_in_a_row_ = 0;
  bool paused_ = false;
  std::optional<TimePoint> safe_mode_until_; // in safe mode, until then
  bool study_done_ = false;
  std::string finish_reason_;
  bool disabled_refusal_recorded_ = false;
  bool resumed_ = false;
  std::vector<std::optional<double>> last_signals_;
  std::vector<LoopAction> actions_;
  TuningMode mode_ = TuningMode::apply;
  // The last window had no data (metrics down, garbage, NaN): no new candidate is applied until a
  // window of the incumbent can be scored again, so a blind agent holds what is known to be good.
  bool blind_ = false;
  std::variant<std::monostate, Switchback, Intensification> comparison_;
  std::optional<RecommendationRecord> recommendation_;
  Veto veto_;
  VerdictRules rules_;
  EvidenceLedger ledger_;
  std::optional<Point> baseline_; // what ran when the study first started
  std::optional<ClaimRecord> claim_; // once made (or replayed), the study claims nothing more
  std::optional<PooledEvidence> guard_reference_;
  std::vector<WindowEvidence> guard_recent_;
};

} // namespace trimtab
