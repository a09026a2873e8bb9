#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <trimtab/core/amount.hpp>
#include <trimtab/core/evidence.hpp>
#include <trimtab/core/observation.hpp>

namespace trimtab {

/// The rules a verdict follows, from the tuning policy.
struct VerdictRules {
  Direction direction = Direction::maximize;
  Amount required_improvement{10.0, true};
  double confidence = 0.95;
  bool rollback_on_regression = true;
  Amount regression_threshold{5.0, true};
  /// Each constraint's text and scale (the magnitude of its limit), for reasons and for
  /// PooledEvidence::violation.
  std::vector<std::string> constraint_texts;
  std::vector<double> constraint_scales;
  /// Windows a close call may give one candidate before it is kept out (1: no extra window).
  std::size_t max_candidate_windows = 3;
  /// Against an incumbent with windows of its own beyond the one that selected it, a close call is
  /// a gain that has at least this chance of reaching required_improvement (the one-sided Student-t
  /// tail at the observed gain). One in four: in 25 bench/live runs, 38 such close calls were taken
  /// whenever the interval reached the bar, and none with a chance below one in three ended in a
  /// promotion (docs/verdicts.md).
  double close_call_chance = 0.25;
};

enum class VerdictKind {
  promote,  ///< the candidate becomes the incumbent
  keep,     ///< the incumbent stays; the candidate is simply not better
  rollback, ///< the candidate is worse or breaks a constraint: back to the incumbent now
  extend,   ///< a close call: measure the candidate for another window before deciding
};

struct Verdict {
  VerdictKind kind = VerdictKind::keep;
  std::string reason;
  /// The candidate's gain over the incumbent relative to the incumbent's value (positive: better),
  /// or the absolute gain when the incumbent's value is 0. Nothing when feasibility decided.
  std::optional<double> effect;
  std::optional<double> p_value;
  /// A rollback from a candidate that did no better than an infeasible incumbent: it returns to the
  /// least bad configuration known and is not counted against max_rollbacks_per_hour, since
  /// leaving an infeasible default is the point of the study (docs/verdicts.md).
  bool uncounted = false;
};

/// Feasibility first: a configuration that meets every constraint beats one that breaks any;
/// between two that break, the smaller violation (PooledEvidence::violation) wins; only between
/// two feasible ones does the objective decide, on all the evidence of both (pooled means and
/// standard errors, Welch's t with Satterthwaite's degrees of freedom):
/// - promote when the gain is at least required_improvement and significant at `confidence`;
/// - roll back when the loss exceeds regression_threshold, significantly (if enabled);
/// - extend when the gain is positive, the candidate has had fewer than max_candidate_windows
///   windows (candidate.windows), and the gain could reach the required improvement: the upper end
///   of its interval reaches it when the incumbent is known only by the window that selected it
///   (PooledEvidence::selected_only), else its chance of reaching it is at least close_call_chance;
/// - keep otherwise.
[[nodiscard]] Verdict judge(const VerdictRules& rules, const PooledEvidence& incumbent, const PooledEvidence& candidate);

/// True when `a` should be preferred to `b` by the feasibility-first order (ties: false).
[[nodiscard]] bool preferred(const VerdictRules& rules, const PooledEvidence& a, const PooledEvidence& b);

/// One-sided Welch test from two pooled estimates: the chance of a gain (b over a, in `direction`)
/// at least this large if there were none.
struct GainTest {
  double gain = 0.0;
  double standard_error = 0.0;
  double degrees_of_freedom = 1.0;
  double p_better = 1.0; ///< H0: gain <= 0
  double p_worse = 1.0;  ///< H0: gain >= 0
  /// The two-sided interval of the gain at `confidence`.
  double low = 0.0, high = 0.0;
  /// The chance that the true gain is at least `target` (Student t around the estimated gain).
  [[nodiscard]] double chance_of_at_least(double target) const;
};
[[nodiscard]] GainTest gain_test(Direction direction, const PooledEvidence& a, const PooledEvidence& b, double confidence);

/// The mixture sequential probability ratio test (mSPRT; Johari, Pekelis and Walsh, "Always Valid
/// Inference", 2017) for "the mean difference is not 0": `estimate` is the difference observed so
/// far, `variance` its variance, `mixing_scale` the size of difference worth finding (the normal
/// mixture's standard deviation). Stopping the first time the ratio reaches 1/alpha keeps the
/// error rate at most alpha however often it is checked, which is what lets a window end early.
[[nodiscard]] double mixture_likelihood_ratio(double estimate, double variance, double mixing_scale) noexcept;

} // namespace trimtab
