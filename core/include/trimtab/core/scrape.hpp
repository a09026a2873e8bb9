#pragma once

#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <trimtab/core/exposition_parser.hpp>
#include <trimtab/core/signal.hpp>

namespace trimtab {

/// A series' identity: its labels sorted by name (without `le` for histogram buckets, without
/// `quantile` for summaries). Sorting makes the same series compare equal across scrapes whatever
/// order the exporter wrote it in.
using SeriesLabels = std::vector<std::pair<std::string, std::string>>;

/// A histogram series' cumulative bucket counts by upper bound (`le`; +Inf included when written).
using BucketCounts = std::map<double, double>;

/// A summary series' values by quantile (the `quantile` label, read as a number). NaN, as a
/// summary that has seen no observations writes it, is kept: Window skips it.
using SummaryQuantiles = std::map<double, double>;

/// What one scrape said about the metrics a set of signals needs, and nothing else. With several
/// metrics sources, one Scrape holds what every source said at one time (merge_scrapes), each
/// metric under scrape_key(source, metric), so two sources may expose the same name.
struct Scrape {
  double time_seconds = 0.0;
  /// Sample name → series → value, for rate and gauge signals.
  std::map<std::string, std::map<SeriesLabels, double>, std::less<>> values;
  /// Histogram name (without `_bucket`) → series → buckets, for quantile signals reading one.
  std::map<std::string, std::map<SeriesLabels, BucketCounts>, std::less<>> histograms;
  /// Summary name → series → quantiles, for quantile signals reading a summary.
  std::map<std::string, std::map<SeriesLabels, SummaryQuantiles>, std::less<>> summaries;
};

/// Where a Scrape keeps the series of `metric` from metrics source `source`: under the metric's
/// own name for the first source (an empty `source`), so a single source's Scrape is keyed as its
/// exposition names things; else under `source`, U+001F (the unit separator, in no metric name)
/// and the metric.
[[nodiscard]] std::string scrape_key(std::string_view source, std::string_view metric);

/// Moves every series of `part` into `into` (sources' keys never collide; a series in both keeps
/// `part`'s value). The time stays `into`'s.
void merge_scrapes(Scrape& into, Scrape&& part);

/// Turns a parse into a Scrape: keeps the samples of the metric names the signals read that pass
/// at least one of those signals' matchers (Window applies each signal's own matchers again), so a
/// snapshot holds a few series, not the whole exposition.
///
///   collector.start(now_seconds);
///   auto report = parser.parse(text, collector);
///   window.add(collector.finish());
///
/// Within one scrape a series written twice keeps its last value; a bucket whose `le` is not a
/// number is skipped, and so is a summary sample whose `quantile` is not a number or not one a
/// signal reads.
class ScrapeCollector : public ExpositionVisitor {
public:
  /// Validates the specs (validate_signal_specs) and keeps a copy of what it needs of them. Only
  /// the signals that read metrics source `source` (SignalSpec::metrics_source; empty: the first)
  /// are collected, under scrape_key(source, name).
  explicit ScrapeCollector(std::span<const SignalSpec> specs, std::string source = {});

  // It points into its own copy of the specs: a copy would point into the original's.
  ScrapeCollector(const ScrapeCollector&) = delete;
  ScrapeCollector& operator=(const ScrapeCollector&) = delete;

  /// Begins a snapshot taken at `time_seconds`, dropping anything collected since the last finish().
  void start(double time_seconds);

  /// The snapshot collected since start(); the collector is then empty again.
  [[nodiscard]] Scrape finish();

  void on_family(std::string_view name, MetricType type, std::string_view help, std::string_view unit) override;
  void on_sample(const Sample& sample) override;

private:
  struct Need {
    std::vector<const SignalSpec*> plain;     // rate and gauge specs reading this sample name
    std::vector<const SignalSpec*> histogram; // quantile specs whose `<metric>_bucket` this is
    std::string histogram_name;               // the histogram's name, when `histogram` is not empty
    std::vector<const SignalSpec*> summary;   // quantile specs reading this summary's quantile series
    std::string key;                          // scrape_key of this sample name (values, summaries)
    std::string histogram_key;                // scrape_key of histogram_name
  };

  std::vector<SignalSpec> specs_;
  std::map<std::string, Need, std::less<>> needs_;
  Scrape scrape_;
  SeriesLabels key_; // reused for each kept sample
};

} // namespace trimtab
