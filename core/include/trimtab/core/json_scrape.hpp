#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <trimtab/core/json_path.hpp>
#include <trimtab/core/scrape.hpp>
#include <trimtab/core/signal.hpp>

namespace trimtab {

/// What reading one JSON metrics document gave.
struct JsonScrapeResult {
  /// The numbers found, as Window reads them; holds no values when `error` is set.
  Scrape scrape;
  /// One line per signal whose path led to no number in this document, naming the signal and the
  /// step that failed ("signal 'rps': 'requests' is not in the object at 'stats'"). Those signals
  /// are absent from this scrape, as a series an exporter stopped writing would be.
  std::vector<std::string> problems;
  /// Set when the text is not JSON, with where it goes wrong ("line 3, column 7 (offset 41): …").
  std::string error;

  [[nodiscard]] bool ok() const noexcept { return error.empty(); }
};

/// Reads the signals of a service that exposes its metrics as one JSON document. Each rate and
/// gauge signal's `metric` is a JsonPath (`stats.requests_total`, `pools[0].busy`), and its number
/// lands in Scrape::values[metric] as a series without labels, so Window computes rates (counter
/// resets included) and gauges exactly as it does for Prometheus:
///
///   auto result = reader.read(body, now_seconds);
///   if (result.ok()) window.add(std::move(result.scrape));
///
/// read() keeps nothing between documents, so one reader serves every replica.
class JsonScrapeReader {
public:
  /// Validates the specs (validate_signal_specs), then throws std::invalid_argument naming the
  /// signal for one that cannot read JSON: a quantile signal (JSON has no histograms or summaries),
  /// a signal with label matchers (JSON values have no labels), or a metric that is not a JsonPath
  /// (the message gives the JsonPathError's column). Ratios of readable signals are fine.
  /// Only the signals that read metrics source `source` are read (SignalSpec::metrics_source;
  /// empty: the first), under scrape_key(source, path).
  explicit JsonScrapeReader(std::span<const SignalSpec> specs, const std::string& source = {});

  /// Parses `json_text` and reads every path. Never throws for the document's content.
  [[nodiscard]] JsonScrapeResult read(std::string_view json_text, double time_seconds) const;

private:
  struct Reading {
    JsonPath path;
    std::vector<std::string> signals; // the signals that read this path, for naming in problems
    std::string key;                  // where the Scrape keeps its value
  };

  std::vector<Reading> readings_; // one per distinct path
};

} // namespace trimtab
