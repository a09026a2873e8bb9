#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

// MetricType and Label: the parser's words for what the writer writes.
#include <trimtab/core/exposition_parser.hpp>

namespace trimtab {

/// A type as exposition text names it: "counter", "gaugehistogram", … (the names the parser reads).
[[nodiscard]] std::string_view metric_type_name(MetricType type) noexcept;

/// Writes Prometheus 0.0.4 text exposition, for the agent's /metrics. Dashboards and alerts are
/// built on that text, so every family is written here, one way: the # HELP and # TYPE lines,
/// label values escaped (backslash, double quote, newline), counts in full and other numbers with
/// six significant digits.
class ExpositionWriter {
public:
  /// A family's "# HELP" and "# TYPE" lines; its samples follow. The 0.0.4 format knows counter,
  /// gauge, histogram, summary and untyped only.
  void family(std::string_view name, MetricType type, std::string_view help);

  /// A sample line, "name value" or "name{label="value",…} value".
  void sample(std::string_view name, std::uint64_t value);
  void sample(std::string_view name, double value);
  void sample(std::string_view name, std::initializer_list<Label> labels, std::uint64_t value);
  void sample(std::string_view name, std::initializer_list<Label> labels, double value);

  /// A family of one unlabelled sample: its HELP and TYPE lines and the sample, the name written once.
  template <class Number> void metric(std::string_view name, MetricType type, std::string_view help, Number value) {
    family(name, type, help);
    sample(name, value);
  }
  /// The exposition written so far.
  [[nodiscard]] std::string take() && { return std::move(text_); }

private:
  void sample_line(std::string_view name, std::initializer_list<Label> labels, std::string_view value);

  std::string text_;
};

} // namespace trimtab
