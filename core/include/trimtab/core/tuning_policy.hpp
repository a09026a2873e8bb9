#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <trimtab/core/amount.hpp>
#include <trimtab/core/expression.hpp>
#include <trimtab/core/guardrails.hpp>
#include <trimtab/core/observation.hpp>
#include <trimtab/core/signal.hpp>
#include <trimtab/core/tuning_mode.hpp>

namespace trimtab {

/// A switchback window's measured time when tuning.yaml does not say (guardrails.switchback_window):
/// half of a window's measured time, `duration`, and never 0 (a 1 ms window would halve to nothing).
[[nodiscard]] constexpr std::chrono::milliseconds default_switchback_duration(std::chrono::milliseconds duration) noexcept {
  return std::max(duration / 2, std::chrono::milliseconds{1});
}

/// How the loop judges windows and paces itself. config/ reads it from tuning.yaml (mode, signals,
/// objective, constraints, solver.budget, and the window and guardrails sections): every default and
/// unit is the one stated here, and a setting the file leaves out keeps it.
struct TuningPolicy {
  Direction direction = Direction::maximize;
  Expression objective = Expression::parse("0");
  std::vector<Constraint> constraints;
  std::vector<SignalSpec> signals;

  /// Ignored time after each change, so the service's caches and pools reach their new state.
  std::chrono::milliseconds settle{10'000};
  /// Measured time per window.
  std::chrono::milliseconds duration{60'000};
  /// After an apply and before `settle` starts, how long the agent waits for the adapters it
  /// changed to report the change in effect (core's InEffectWait; a pool that still holds more
  /// server connections than its new size is not); past it the window is measured anyway and the
  /// journal says so. 0: ask once, never wait.
  std::chrono::milliseconds in_effect_limit{60'000};
  /// Scrapes a window needs to be scored; a window short of them is extended once by `duration`.
  std::size_t min_samples = 5;

  /// Candidate windows to score before the study ends on the best configuration.
  std::uint64_t budget = 50;
  /// How much better than the incumbent a candidate must be to be promoted (10 % of the
  /// incumbent's value, or an absolute amount in the objective's units)…
  Amount required_improvement{10.0, true};
  /// …and how sure: the one-sided Welch test over the windows' per-interval objective values must
  /// give p < 1 - confidence.
  double confidence = 0.95;
  /// Roll back a window that scores worse than the incumbent by more than this, with the same
  /// confidence. Constraint breaks roll back whatever this says.
  bool rollback_on_regression = true;
  Amount regression_threshold{5.0, true};
  /// Windows a close call may give one candidate: while the evidence can neither promote it nor
  /// rule it out, it is measured again (1: never). See judge() in verdict.hpp.
  std::size_t max_candidate_windows = 3;
  /// A candidate's window ends early, once min_samples scrapes are in, when a sequential test
  /// (mSPRT) finds it clearly worse than the incumbent or clearly breaking a constraint
  /// (tuning.yaml: window.end_early).
  bool end_windows_early = true;
  /// Windows kept per configuration for its pooled evidence; older ones age out, so a traffic shift
  /// does not anchor a value for ever.
  std::size_t evidence_windows = 6;
  /// At the end of a study the best configuration is confirmed against the baseline by this many
  /// switchback pairs (of `switchback_duration`), and their paired difference is the improvement
  /// the study claims. 0: off (the claim is then pooled from the windows already measured).
  std::size_t final_confirmation_pairs = 3;
  /// After the study (apply mode) the best configuration is guarded rather than left alone: it is
  /// measured window after window, and when its last `guard_windows` windows regress against its
  /// level at the study's end (see watch() in guard.hpp), it is checked against the baseline by
  /// switchback pairs (final_confirmation_pairs of them, 3 when that is 0) and rolled back to the
  /// baseline if the baseline is now the better. false: the loop stops measuring when done.
  bool guard_after_study = true;
  std::size_t guard_windows = 3;

  /// An input signal (request rate): a window whose value of it differs from the incumbent's last
  /// measurement by more than `load_band` (a fraction) measured a different load, not a different
  /// configuration, and is discarded; the incumbent is then measured again.
  std::optional<std::string> load_signal;
  double load_band = 0.25;
  /// The incumbent is measured again after this many candidate windows (0: never).
  std::size_t remeasure_every = 10;

  GuardrailPolicy guardrails;
  /// Safe mode lifts by itself after this long (an operator's resume lifts it at once).
  std::chrono::milliseconds safe_mode_recovery{3'600'000};
  /// Consecutive failed applies that put the agent in safe mode.
  std::size_t max_apply_failures = 3;
  /// False: the TRIMTAB_ENABLED=false kill switch. The loop measures, never applies.
  bool enabled = true;
  /// The mode at start; an operator may switch it (on_command), and the switch outlives a restart
  /// unless the configured mode itself changed since.
  TuningMode mode = TuningMode::apply;

  /// Switchback confirmation: a candidate that beats the incumbent is not promoted on its one
  /// window; the loop first measures incumbent and candidate in turn, this many pairs of windows of
  /// `switchback_duration` (A/B/A/B…), and promotes only if the pairs' differences are significant
  /// (paired t-test) and as large as required_improvement. A drift in traffic moves both halves of
  /// a pair alike and cancels out. 0: off; otherwise at least 2.
  std::size_t switchback_pairs = 0;
  /// Each switchback window's measured time: default_switchback_duration(duration) unless
  /// tuning.yaml says otherwise (guardrails.switchback_window). Its initial value follows the
  /// initial `duration`; whoever changes `duration` afterwards (config/) sets this too.
  std::chrono::milliseconds switchback_duration = default_switchback_duration(duration);
};

} // namespace trimtab
