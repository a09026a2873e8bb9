#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <trimtab/core/scrape.hpp>
#include <trimtab/core/signal.hpp>

namespace trimtab {

/// The scrapes of one observation window, and the signals computed over them.
///
/// Counters follow Prometheus' rules. Each series is followed on its own, so a restart of one
/// replica does not hide the traffic of the others: a decrease between two scrapes is a reset,
/// and the increase for that interval is the new value. A series that appears mid-window counts
/// from its first appearance (its first value is a baseline, not an increase: its history before
/// it was seen is unknown, and assuming it started at zero would turn a series an exporter only
/// begins to expose late into a burst that never happened); one that disappears stops counting.
///
/// Histograms (quantile signals) take bucket deltas per series the same way, with two refinements:
/// - A series is reset when any of its buckets decreased, and then every bucket's delta is its new
///   value. Checking each bucket alone would miss a reset in a bucket that happened to grow back
///   past its old count, and a histogram's buckets reset together.
/// - Only buckets (`le` values) a series has in both scrapes of an interval count for that
///   interval, so a bucket layout that changes between scrapes never yields a delta against a
///   bucket that was not there. Over the whole window only the bounds every interval with data
///   has are summed, so each bound's count covers the same intervals and the cumulative counts
///   stay comparable: after a layout change the window quantile uses the coarser common layout.
/// Deltas are then summed across series per bound, and the quantile read as Prometheus'
/// histogram_quantile does: counts made monotonic, linear interpolation inside the bucket that
/// holds the rank, the lower bound of the first bucket taken as 0 (or its upper bound when that is
/// not positive), and a rank in the +Inf bucket answered with the highest finite bound. Without
/// a +Inf bucket, with fewer than two buckets or with no observations there is no quantile.
///
/// Summaries (quantile signals with QuantileSource::summary) arrive as quantiles their client
/// already computed over its own sliding window, so there is nothing to take deltas of. Each
/// scrape's value is the largest of the matching series' (replicas') values at q: quantiles do not
/// add or average across replicas, and the largest is a conservative bound of the quantile of all
/// their observations together. The window's value is the mean of those per-scrape values. A NaN
/// quantile, which a summary writes before its first observation, is skipped.
///
/// Not thread-safe; one Window per replica and window.
class Window {
public:
  /// Validates the specs (validate_signal_specs).
  explicit Window(std::vector<SignalSpec> specs);

  /// Appends a scrape; its time must be later than the last one's, or std::invalid_argument.
  void add(Scrape scrape);

  /// Forgets the scrapes, keeping the specs: the next window starts empty.
  void clear() noexcept { scrapes_.clear(); }

  [[nodiscard]] std::size_t size() const noexcept { return scrapes_.size(); }
  [[nodiscard]] const std::vector<SignalSpec>& specs() const noexcept { return specs_; }

  /// The signal over the whole window, scaled:
  /// - rate: the sum of the series' increases over the elapsed seconds; 0 when no series matched
  ///   (a `code=~"5.."` counter is often absent until the first error);
  /// - quantile: from the bucket deltas summed over the window; for a summary, the mean of the
  ///   per-scrape values (scrapes without one skipped);
  /// - gauge: mean, max or last of the per-scrape sums (scrapes where no series matched skipped);
  /// - ratio: numerator's value / denominator's value, times the ratio's own scale.
  /// nullopt with too few scrapes (two for rate and a histogram's quantile, one for gauge and a
  /// summary's quantile), no quantile to read,
  /// no gauge reading, or a ratio whose denominator is zero or missing. Throws
  /// std::invalid_argument for a signal the window does not know.
  [[nodiscard]] std::optional<double> value(std::string_view signal) const;

  /// The per-interval values, scaled, in time order, for statistics across the window: rate per
  /// interval, quantile per interval from that interval's bucket deltas, a summary's quantile and
  /// gauge per scrape. Intervals or scrapes without a value (no observations in the interval, no
  /// gauge series, a zero denominator) are left out. A ratio divides its two signals' values at the
  /// same time: interval by interval, or scrape by scrape when both are per scrape (gauges,
  /// summaries); against a per-scrape signal, an interval is paired with the scrape that ends it.
  /// Throws like value().
  [[nodiscard]] std::vector<double> samples(std::string_view signal) const;

private:
  // A signal's values in time order, aligned: one per interval (size() - 1) or, for gauges,
  // summaries and ratios of those, one per scrape (size()); nullopt where there is none.
  struct Track {
    std::vector<std::optional<double>> values;
    bool per_scrape = false;
  };

  [[nodiscard]] const SignalSpec& spec(std::string_view signal) const;
  [[nodiscard]] std::optional<double> value_of(const SignalSpec& spec) const;
  [[nodiscard]] Track track_of(const SignalSpec& spec) const;

  std::vector<SignalSpec> specs_;
  std::map<std::string, std::size_t, std::less<>> index_;
  std::vector<Scrape> scrapes_;
};

} // namespace trimtab
