#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <trimtab/core/amount.hpp>
#include <trimtab/core/box.hpp>
#include <trimtab/core/point.hpp>
#include <trimtab/core/space.hpp>

namespace trimtab {

/// Wall-clock time, as the journal records it. The loop never trusts it to move forward: a clock
/// that jumps back only delays the next change.
using TimePoint = std::chrono::system_clock::time_point;

/// Why a configuration is applied.
enum class Purpose {
  baseline,   ///< not an apply: the configuration found running at start is measured
  candidate,  ///< the solver's proposal, to be measured
  remeasure,  ///< the incumbent again, so a shift in traffic does not leave a stale score
  rollback,   ///< back to the last known good configuration after a bad window or on command
  restore,    ///< the last known good configuration re-applied after a restart
  final_config, ///< the study is over: the incumbent, to stay
  switchback, ///< confirming a promising candidate: incumbent and candidate in turn (A/B/A/B)
};

/// The journal's word for it: "baseline", "candidate", …, "final".
[[nodiscard]] const char* purpose_name(Purpose purpose) noexcept;
/// The purpose purpose_name() calls `name`, or nothing.
[[nodiscard]] std::optional<Purpose> purpose_from_name(std::string_view name) noexcept;

/// The limits every apply is held to, per step.
struct GuardrailPolicy {
  /// Per parameter of the space, in its order: the largest change in one step, or nothing for no
  /// limit. Categoricals take no limit (a label has no distance).
  std::vector<std::optional<Amount>> max_delta;
  /// At most one apply per 1 / this many seconds, rollbacks included.
  double max_updates_per_second = 0.05;
  /// A configuration stays at least this long before the next change; rollbacks are exempt (they
  /// undo harm and must not wait).
  std::chrono::milliseconds min_dwell{60'000};
  /// Automatic rollbacks allowed in any hour; the next one puts the agent in safe mode.
  std::uint64_t max_rollbacks_per_hour = 3;
  /// A parameter whose last `flip_memory` candidate steps reversed direction this many times is
  /// held where it is for the next candidate (and its memory then starts afresh): a search that
  /// oscillates a knob up and down is thrashing the service for nothing. Never every parameter at
  /// once, which would leave nowhere to go.
  std::size_t max_direction_flips = 4;
  std::size_t flip_memory = 8;
};

/// A guardrail saying no, for the journal and the agent's metrics.
struct Refusal {
  std::string reason; ///< "bounds", "max_delta", "rate_limit", "min_dwell", "thrash", "safe_mode", …
  std::string detail; ///< for people: which parameter, by how much, until when
};

/// The per-step limits, and the memory of recent applies they need. Pure bookkeeping: no clock,
/// no I/O; the tuning loop asks it before every apply and tells it after.
class Guardrails {
public:
  /// Throws std::invalid_argument when max_delta does not have one entry per parameter, limits a
  /// categorical, or a number is out of range.
  Guardrails(const Space& space, GuardrailPolicy policy);

  [[nodiscard]] const GuardrailPolicy& policy() const noexcept { return policy_; }

  /// Where the next candidate may be drawn from: within max_delta of the configuration applied now
  /// and of the incumbent (so a rollback is always one allowed step), with thrashing parameters
  /// held at their current value.
  [[nodiscard]] Box candidate_box(const Point& applied, const Point& incumbent) const;

  /// The closest configuration to `target` that one step from `applied` may reach: rollbacks and
  /// restores further than max_delta go there in several steps.
  ///
  /// A step is allowed when it stays within max_delta of either end: a percentage is of the larger
  /// value, so a move and its reverse are allowed alike (pool 10 → 5 is 50 % of 10, and 5 → 10 must
  /// be allowed too, or a rollback would need more steps than the change it undoes).
  [[nodiscard]] Point step_toward(const Point& applied, const Point& target) const;

  /// Why moving from `applied` to `next` breaks bounds or max_delta, or nothing. (Thrash limiting
  /// shapes candidate_box instead of refusing.)
  [[nodiscard]] std::optional<Refusal> check_step(const Point& applied, const Point& next) const;

  /// The earliest time an apply for `purpose` may happen given the update rate and min_dwell; at
  /// or before `now` when it may happen now. A last apply that lies after `now` (the clock went
  /// back) counts as made `now`, so a jump back delays by at most one interval.
  [[nodiscard]] TimePoint earliest_apply(Purpose purpose, TimePoint now) const;

  /// Records an apply that took effect at `now`. Only candidates count toward thrash: a rollback
  /// reverses a step by design.
  void record_apply(const Point& from, const Point& to, TimePoint now, Purpose purpose);

  /// Records an automatic rollback; rollback_budget_left() says whether another is allowed.
  void record_rollback(TimePoint now);
  [[nodiscard]] std::size_t rollbacks_in_last_hour(TimePoint now) const;
  [[nodiscard]] bool rollback_budget_left(TimePoint now) const;
  /// When the oldest rollback of the last hour leaves the hour (the budget refills), if any.
  [[nodiscard]] std::optional<TimePoint> budget_refills_at(TimePoint now) const;

private:
  [[nodiscard]] std::optional<std::pair<double, double>> delta_range(std::size_t index, const Point& around) const;
  [[nodiscard]] std::size_t flips(std::size_t index) const;
  [[nodiscard]] bool within_delta(std::size_t index, const Point& from, const Point& to) const;

  const Space* space_;
  GuardrailPolicy policy_;
  std::optional<TimePoint> last_apply_;
  std::deque<TimePoint> rollbacks_;
  std::vector<std::deque<int>> directions_; // per parameter: +1 / -1 of its recent changes
};

} // namespace trimtab
