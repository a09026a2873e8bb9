#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include <trimtab/core/point.hpp>

namespace trimtab {

/// What one scored window says about the configuration it measured: the objective over the whole
/// window, the standard error of that value (from the window's per-interval values), and each
/// constraint's slack (<= 0 holds).
struct WindowEvidence {
  double value = 0.0;
  /// Standard error of `value`: the per-interval values' standard deviation over sqrt(count).
  double sem = 0.0;
  /// Per-interval values behind `sem`.
  std::size_t intervals = 0;
  std::vector<double> constraints;
  /// The window after which this configuration was chosen as the incumbent. Its value is the one
  /// the choice rewarded, so it is lucky on average; honest claims leave it out when other
  /// windows of the configuration exist.
  bool selected = false;
};

/// Several windows of one configuration, pooled.
struct PooledEvidence {
  std::size_t windows = 0;
  std::size_t intervals = 0;
  double mean = 0.0;
  /// Standard error of `mean`: the larger of what the windows' own errors give and, from two
  /// windows on, what the spread between their values gives (drift between windows is noise too).
  double sem = 0.0;
  /// Degrees of freedom for a t-based test of `mean`.
  double degrees_of_freedom = 0.0;
  /// Each constraint's pooled slack.
  std::vector<double> constraints;
  /// The standard error of each pooled slack (0 where a single interval gives none).
  std::vector<double> constraint_sems;
  /// Every window pooled is one that selected this configuration (a comparison it won), so the
  /// mean is lucky on average (EvidenceLedger::unselected when nothing else is known).
  bool selected_only = false;

  [[nodiscard]] bool feasible() const noexcept;
  /// How badly the configuration breaks its constraints: the sum over broken constraints of the
  /// slack relative to the constraint's scale (its limit's magnitude, at least 1e-9), so a p99 10 %
  /// over its limit and an error rate 10 % over its limit count alike. 0 when feasible.
  [[nodiscard]] double violation(std::span<const double> scales) const noexcept;
};

/// The measure behind PooledEvidence::violation, for any constraint slacks (positive = broken):
/// the sum over broken constraints of slack / max(|scale|, 1e-9); a constraint without a scale
/// counts at scale 1.
[[nodiscard]] double constraint_violation(std::span<const double> slacks, std::span<const double> scales) noexcept;

/// How much a window's value strays from its configuration's level, estimated over every
/// configuration measured more than once: the variance of a window's value relative to its
/// configuration's mean, with its degrees of freedom (the windows beyond the first of each).
struct WindowNoise {
  double relative_variance = 0.0;
  double degrees_of_freedom = 0.0;
};

/// Pools windows: values weighted by their intervals; see PooledEvidence::sem. Empty input gives
/// windows == 0. With `study` noise known (degrees_of_freedom > 0), the spread between windows is
/// the study's, relative to this configuration's mean, with the study's degrees of freedom; else
/// it is these windows' own spread, with k - 1.
[[nodiscard]] PooledEvidence pool(std::span<const WindowEvidence> windows, const WindowNoise& study = {});

/// The windows measured per configuration, the most recent `keep` of each, so a traffic shift
/// ages out instead of anchoring a configuration's value for ever; and of the configurations, the
/// `keep_points` most recently measured, plus any the caller spares (the incumbent and the
/// baseline), so a study that runs for months holds a bounded ledger. A configuration measured
/// again after it was forgotten starts afresh, as a candidate proposed for the first time would.
class EvidenceLedger {
public:
  explicit EvidenceLedger(std::size_t keep = 6, std::size_t keep_points = 256)
      : keep_(keep == 0 ? 1 : keep), keep_points_(keep_points == 0 ? 1 : keep_points) {}

  /// Adds a window of `point`; when that makes more than keep_points configurations, forgets the
  /// one measured least recently that is neither `point` nor in `spare`.
  void add(const Point& point, WindowEvidence window, std::span<const Point> spare = {});
  /// Marks the last window of `point` as the one that selected it (see WindowEvidence::selected).
  void mark_selected(const Point& point);
  [[nodiscard]] std::span<const WindowEvidence> windows(const Point& point) const;
  /// The windows of `point`, pooled with the study's window noise (see window_noise()).
  [[nodiscard]] PooledEvidence pooled(const Point& point) const { return pool(windows(point), window_noise()); }
  /// Pooled without the selecting window when any other window exists: the estimate a
  /// re-measurement gives, free of the luck that chose the configuration.
  [[nodiscard]] PooledEvidence unselected(const Point& point) const;
  /// How many of `point`'s windows did not select it.
  [[nodiscard]] std::size_t unselected_windows(const Point& point) const;
  /// The window-to-window noise of the study so far, from every configuration with two or more
  /// windows. Two windows of one configuration say little about their spread (one degree of
  /// freedom, so a t quantile of 6.3 at 95 %); the study's configurations together say much more,
  /// and a service's window noise is mostly its own, not a configuration's.
  /// Kept up to date by add() and clear(), since verdicts and the per-scrape early-stopping test
  /// read it far more often than windows arrive.
  [[nodiscard]] const WindowNoise& window_noise() const noexcept { return noise_; }
  /// How many configurations have windows.
  [[nodiscard]] std::size_t configurations() const noexcept { return by_point_.size(); }
  /// Forgets every window (a load shift made them measure another service).
  void clear() {
    by_point_.clear();
    noise_ = {};
  }

private:
  struct Entry {
    std::vector<WindowEvidence> windows; // oldest first, at most keep_
    std::uint64_t last_added = 0;        // when a window was last added, in adds
  };
  std::size_t keep_;
  std::size_t keep_points_;
  std::uint64_t adds_ = 0;
  std::map<Point, Entry> by_point_;
  WindowNoise noise_;

  [[nodiscard]] WindowNoise measure_noise() const;
};

} // namespace trimtab
