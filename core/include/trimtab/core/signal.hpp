#pragma once

#include <cstddef>
#include <optional>
#include <regex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace trimtab {

/// One label condition of a signal, as PromQL writes them: `code="200"`, `code!="200"`,
/// `code=~"5.."`, `code!~"5.."`.
///
/// Semantics follow Prometheus: a series without the label is matched as if its value were the
/// empty string (so `code!="500"` keeps it and `code=~"5.."` drops it), and a regex must match the
/// whole value (ECMAScript syntax).
class LabelMatcher {
public:
  enum class Op { equal, not_equal, regex, not_regex };

  /// Longest regex pattern, deepest parenthesis nesting, and longest label value a regex is tried
  /// on: std::regex recurses per nesting level and per character, so unbounded input could
  /// overflow the stack. A longer value never matches a regex (and always passes `!~`).
  static constexpr std::size_t max_pattern_length = 1024;
  static constexpr std::size_t max_pattern_depth = 32;
  static constexpr std::size_t max_regex_value_length = 4096;

  /// Compiles a regex once, here, so matching a scrape never does; a regex std::regex rejects, or
  /// one over the limits above, throws std::invalid_argument naming the label and the pattern.
  LabelMatcher(std::string label, Op op, std::string value);

  [[nodiscard]] const std::string& label() const noexcept { return label_; }
  [[nodiscard]] const std::string& value() const noexcept { return value_; }
  [[nodiscard]] Op op() const noexcept { return op_; }

  /// Whether a series whose label has `label_value` (empty when absent) passes.
  [[nodiscard]] bool matches(std::string_view label_value) const;

private:
  std::string label_;
  std::string value_;
  Op op_;
  std::optional<std::regex> regex_; // only for regex and not_regex
};

enum class SignalKind {
  /// Per-second increase of a counter, summed across the matching series.
  rate,
  /// A quantile of a histogram's observations made during the window, from its `_bucket` series,
  /// or of a summary, from the quantiles its client computed (QuantileSource says which).
  quantile,
  /// A gauge, summed across the matching series at each scrape, reduced over the window.
  gauge,
  /// One signal divided by another (errors / requests).
  ratio,
};

/// Where a quantile signal reads its quantile from.
enum class QuantileSource {
  /// A histogram's `<name>_bucket` series: the quantile of the observations made in the window.
  histogram,
  /// A summary's `<name>{quantile="<q>"}` series, which its client computes over its own sliding
  /// window: the window averages them (see Window).
  summary,
};

/// How a gauge's per-scrape values become one value for the window.
enum class GaugeReduce { mean, max, last };

/// A named quantity operators reason in, computed over an observation window of scrapes
/// (`rps`, `errors`, `p99_ms`, `rss_mb`). Build one with the factories, which say which fields
/// each kind uses; validate_signal_specs() checks a set of them before use.
struct SignalSpec {
  std::string name;
  SignalKind kind = SignalKind::gauge;
  /// The sample name for rate and gauge (`http_requests_total`); for quantile, the histogram's
  /// or summary's name (`http_request_duration_seconds`, whose `_bucket` or `{quantile="…"}`
  /// series are read). Empty for ratio.
  std::string metric;
  /// All must pass for a series to count. Unused by ratio.
  std::vector<LabelMatcher> matchers;
  /// quantile only, in (0, 1).
  double q = 0.0;
  /// quantile only.
  QuantileSource source = QuantileSource::histogram;
  /// Summary quantiles only: the number the exporter's `quantile` label holds for q, when it writes
  /// q on a scale of its own that the default matching (see matches_quantile) does not read as q:
  /// `1` for q = 0.01 written as a percentage. It must be q, or q as a percentage.
  std::optional<double> quantile_label;
  /// gauge only.
  GaugeReduce reduce = GaugeReduce::mean;
  /// ratio only: names of other signals of the same set.
  std::string numerator;
  std::string denominator;
  /// Multiplies values and samples, so signals are in the units operators write limits in
  /// (1000 turns seconds into milliseconds).
  double scale = 1.0;
  /// The metrics source whose series this signal reads (`source: db` in tuning.yaml), by name;
  /// empty for the first (or only) source. Unused by ratio, whose two signals say.
  std::string metrics_source;

  [[nodiscard]] static SignalSpec rate(std::string name, std::string metric, std::vector<LabelMatcher> matchers = {},
                                       double scale = 1.0);
  /// A quantile of a histogram, from its `<histogram>_bucket` series.
  [[nodiscard]] static SignalSpec quantile(std::string name, std::string histogram, double q,
                                           std::vector<LabelMatcher> matchers = {}, double scale = 1.0);
  /// A quantile a summary exposes as `<summary>{quantile="<q>"}` (or `quantile="<quantile_label>"`).
  [[nodiscard]] static SignalSpec summary_quantile(std::string name, std::string summary, double q,
                                                   std::vector<LabelMatcher> matchers = {}, double scale = 1.0,
                                                   std::optional<double> quantile_label = std::nullopt);
  [[nodiscard]] static SignalSpec gauge(std::string name, std::string metric, GaugeReduce reduce,
                                        std::vector<LabelMatcher> matchers = {}, double scale = 1.0);
  [[nodiscard]] static SignalSpec ratio(std::string name, std::string numerator, std::string denominator,
                                        double scale = 1.0);

  /// Whether a summary's `quantile` label, read as a number, is this signal's q. Exporters print
  /// the same quantile differently ("0.99", "9.9e-01") and some through float arithmetic
  /// ("0.9900000000000001"), so equal up to rounding in the last digits is equal. Some write it
  /// as a percentage (redis_exporter's `redis_latency_percentiles_usec{quantile="99"}`): a label
  /// above 1, which no quantile is, is read as one, so "99" is q = 0.99. With `quantile_label`,
  /// only that number matches.
  [[nodiscard]] bool matches_quantile(double label_q) const noexcept;

  /// Whether a series with these labels (sorted or not) passes every matcher.
  template <typename Labels>
  [[nodiscard]] bool matches(const Labels& labels) const {
    for (const auto& matcher : matchers) {
      std::string_view found;
      for (const auto& [label_name, label_value] : labels)
        if (label_name == matcher.label()) {
          found = label_value;
          break;
        }
      if (!matcher.matches(found)) return false;
    }
    return true;
  }
};

/// Throws std::invalid_argument naming the first mistake: an empty or duplicate name, a missing
/// metric, q outside (0, 1), a quantile_label on anything but a summary quantile or that is neither
/// q nor q as a percentage, a scale that is not finite, a ratio naming an unknown signal or
/// itself, or ratios that refer to each other in a cycle.
void validate_signal_specs(std::span<const SignalSpec> specs);

} // namespace trimtab
