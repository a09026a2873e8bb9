#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace trimtab {

/// Which text format a scrape returned: Prometheus text 0.0.4 (`text/plain; version=0.0.4`) or
/// OpenMetrics text 1.0 (`application/openmetrics-text`). They differ in `# UNIT`, `# EOF`,
/// exemplars, timestamp units and the metric types `# TYPE` may name.
enum class ExpositionFormat { prometheus, openmetrics };

/// A family's type as `# TYPE` names it. Families without a `# TYPE` line are `untyped`
/// (Prometheus) or `unknown` (OpenMetrics).
enum class MetricType { untyped, counter, gauge, histogram, summary, gaugehistogram, info, stateset, unknown };

/// One label of a sample. Both views are valid only during ExpositionVisitor::on_sample: the name
/// points into the parsed text, the value into the text or, when it had escapes, into the parser's
/// scratch buffer.
struct Label {
  std::string_view name;
  std::string_view value;
};

/// One sample line, e.g. `http_requests_total{code="200"} 1027 1395066363000`.
struct Sample {
  std::string_view name;
  std::span<const Label> labels;
  double value = 0.0;
  /// Milliseconds since the epoch. OpenMetrics writes seconds (possibly fractional); they are
  /// converted, rounding to the nearest millisecond, so both formats read the same way.
  std::optional<std::int64_t> timestamp_ms;
  /// 1-based line of the sample in the text.
  std::size_t line = 0;
};

/// Receives what the parser finds, in document order. Views passed to it are valid only for the
/// duration of the call: copy what must outlive it.
class ExpositionVisitor {
public:
  virtual ~ExpositionVisitor() = default;

  /// A family's metadata, once its `# HELP`/`# TYPE`/`# UNIT` lines are all read (the parser
  /// reports it before the family's first sample, or when the next family's metadata starts).
  /// `help` is unescaped; `unit` is empty outside OpenMetrics.
  virtual void on_family(std::string_view name, MetricType type, std::string_view help, std::string_view unit) = 0;

  virtual void on_sample(const Sample& sample) = 0;
};

/// A malformed line: where (1-based line and byte column) and what was expected there.
struct ParseError {
  std::size_t line = 0;
  std::size_t column = 0;
  std::string message;
};

struct ParseReport {
  /// Samples delivered to the visitor.
  std::size_t samples = 0;
  /// At most ExpositionParser::max_errors, in document order.
  std::vector<ParseError> errors;
  /// More errors were found than `errors` holds.
  bool truncated = false;

  [[nodiscard]] bool ok() const noexcept { return errors.empty(); }
};

/// A SAX-style parser for the Prometheus and OpenMetrics text formats over an in-memory buffer.
///
/// A malformed line is recorded and skipped, and parsing goes on with the next one, so one bad
/// exporter line does not cost the rest of a scrape. The parser never reads outside the text and
/// keeps its buffers across parse() calls: once they have grown to fit the document's longest line
/// and largest label set, parsing allocates nothing per sample (only per error, up to max_errors).
/// Not thread-safe; use one parser per thread.
class ExpositionParser {
public:
  static constexpr std::size_t max_errors = 100;
  /// A sample with more labels than this is an error: bounds the label buffer whatever the input.
  static constexpr std::size_t max_labels = 256;

  explicit ExpositionParser(ExpositionFormat format = ExpositionFormat::prometheus);

  [[nodiscard]] ParseReport parse(std::string_view text, ExpositionVisitor& visitor);

  [[nodiscard]] ExpositionFormat format() const noexcept { return format_; }

  /// Bytes held by the reusable buffers (labels, unescaped label values, unescaped help): stops
  /// growing once the parser has seen a document, which is how tests check that re-parsing it
  /// allocates nothing.
  [[nodiscard]] std::size_t scratch_capacity() const noexcept;

private:
  struct PendingFamily {
    std::string_view name;
    MetricType type = MetricType::untyped;
    std::string_view help;
    std::string_view unit;
    bool active = false;
    bool has_type = false;
    bool has_help = false;
    bool has_unit = false;
  };

  void parse_line(const char* begin, const char* end);
  void parse_sample(const char* begin, const char* p, const char* end);
  void parse_comment(const char* begin, const char* p, const char* end);
  [[nodiscard]] bool parse_labels(const char* begin, const char*& p, const char* end);
  [[nodiscard]] bool parse_timestamp(const char* begin, const char* p, const char* end, std::int64_t& out);
  [[nodiscard]] bool skip_exemplar(const char* begin, const char* p, const char* end);
  [[nodiscard]] bool parse_family_name(const char* begin, const char*& p, const char* end,
                                       std::string_view keyword, std::string_view& name);
  void begin_family(std::string_view name);
  void flush_family();
  // An error at byte `at` of the current line, which starts at `begin`.
  void error(const char* begin, const char* at, std::initializer_list<std::string_view> message);
  void record(std::size_t line, std::size_t column, std::initializer_list<std::string_view> message);

  ExpositionFormat format_;
  ExpositionVisitor* visitor_ = nullptr;
  ParseReport report_;
  std::size_t line_ = 0;
  bool eof_seen_ = false;
  PendingFamily pending_;
  std::vector<Label> labels_;
  std::string values_; // unescaped label values of the current sample
  std::string help_;   // unescaped help of the pending family
};

} // namespace trimtab
