#pragma once

#include <array>
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
/// Which documents are errors follows the reference parsers: for Prometheus text, the Go
/// parser of github.com/prometheus/common/expfmt (`TextParser`, what Go exporters and tools read
/// their own output with); its test inputs are this parser's tests too. A document expfmt rejects
/// has errors here, the first on the line expfmt names; a document it reads has none. Among
/// what that means: `# HELP`/`# TYPE` lines need no space after `#`, and without a metric name, or
/// with nothing after it, they are comments; a family's samples may be interleaved with other
/// families'; a space may come before `{`; `__name__` is not a label; label values take only the
/// escapes `\\`, `\"` and `\n`, and must be UTF-8; `le` in a histogram and `quantile` in a summary
/// must be numbers (Go's float syntax: no hex, no `_`); no blanks may end a sample line; help
/// takes only `\\` and `\n`. The one deliberate difference: a CR before the newline is dropped
/// (expfmt reads `1\r` as a malformed value), since Windows exporters write CRLF.
///
/// Unlike expfmt, which stops at its first error, a malformed line is recorded and skipped, and
/// parsing goes on with the next one, so one bad exporter line does not cost the rest of a scrape.
/// Errors that concern the document rather than a line are located on the line that shows them,
/// and leave the rest usable with these readings:
/// - a `# TYPE` line for a family whose samples came before it (or a second `# TYPE`): the line is
///   ignored, and the family keeps the type its first samples were read with (untyped), so one
///   family is never read two ways in one scrape; a second `# HELP` is ignored likewise;
/// - a last line without a newline (Prometheus text): the body may have been cut short, and so may
///   that line (`12` of `1234`), so the line is not used; every complete line before it is.
/// OpenMetrics has `# EOF` for the same purpose: without it, the error is placed after the last line.
///
/// The parser never reads outside the text and keeps its buffers across parse() calls: once they
/// have grown to fit the document's longest line, largest label set and its families, parsing
/// allocates nothing per sample (only per error, up to max_errors).
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

  // A Prometheus family as expfmt tracks it, by name across the whole document: whether a
  // `# TYPE` (or a first sample, which fixes it as untyped) and a `# HELP` were seen.
  struct Family {
    std::string_view name;
    std::string_view help; // as written; its escapes are checked
    MetricType type = MetricType::untyped;
    bool has_type = false;
    bool has_help = false;
    bool untyped_by_samples = false; // its type was fixed by samples before any `# TYPE`
  };
  static constexpr std::uint32_t no_family = UINT32_MAX;
  struct NameSlot {
    std::string_view name;
    std::uint32_t family = no_family; // no_family: an empty slot
    std::uint32_t hash = 0;           // the name's hash, low bits
  };

  void parse_line(const char* begin, const char* end);
  void parse_sample(const char* begin, const char* p, const char* end);
  // The parts of a sample line. Each reports its own error; a position returned is where the
  // part ends, nullptr after an error, and a bool returned is false after an error. They run for
  // every sample and label, and are defined (only) in exposition_parser.cpp, always inlined: as
  // calls they cost a fifth more instructions per document (callgrind, 10k series of bench/parse).
  [[nodiscard]] [[gnu::always_inline]] inline const char* scan_metric_name(const char* begin, const char* p,
                                                                           const char* end);
  // Prometheus: fixes the type of a sample's family and sets `special`, the label its samples
  // need as a number (see parse_labels).
  [[nodiscard]] [[gnu::always_inline]] inline bool find_numeric_label(const char* begin, const char* name_begin,
                                                                      std::string_view name, std::string_view& special);
  // From after the name or the labels: the value, an optional timestamp, an OpenMetrics exemplar.
  [[nodiscard]] [[gnu::always_inline]] inline bool parse_value_onwards(const char* begin, const char* p, const char* end,
                                                                       Sample& sample);
  void parse_comment(const char* begin, const char* p, const char* end);
  // OpenMetrics metadata lines, from after the metric name; `hash` is the line's '#'.
  void parse_help(const char* begin, const char* hash, const char* p, const char* end, std::string_view name);
  void parse_type(const char* begin, const char* hash, const char* p, const char* end, std::string_view name);
  void parse_unit(const char* begin, const char* hash, const char* p, const char* end, std::string_view name);
  void parse_prometheus_comment(const char* begin, const char* p, const char* end);
  // From the '{' at `p`: where the label set ends, or nullptr after an error. `special` is the
  // label whose value must be a number (`le`, `quantile`), or empty. (The position is returned,
  // not updated through a reference, so the scanning loops keep it in a register.)
  [[nodiscard]] const char* parse_labels(const char* begin, const char* p, const char* end, std::string_view special);
  [[nodiscard]] [[gnu::always_inline]] inline const char* scan_label_name(const char* begin, const char* p,
                                                                          const char* end);
  // From the opening '"' at `p`: sets `value` (unescaped into values_ when it has escapes, which
  // reserves values_ once a line, `reserved`) and returns where the closing '"' ends.
  [[nodiscard]] [[gnu::always_inline]] inline const char* scan_label_value(const char* begin, const char* p,
                                                                           const char* end, std::string_view name,
                                                                           bool& reserved, std::string_view& value);
  // Appends `label` after checking it: `special`'s value is a number, other names are not repeated.
  [[nodiscard]] [[gnu::always_inline]] inline bool add_label(const char* begin, const char* name_begin,
                                                             const char* value_begin, Label label, std::string_view special);
  // The family a Prometheus sample or metadata line belongs to, created when new: `x_count` and
  // `x_sum` belong to summary `x`, and `x_bucket` too to histogram `x`, as in expfmt.
  [[nodiscard]] std::uint32_t family_of(std::string_view name);
  [[nodiscard]] std::uint32_t find_family(std::string_view name) const noexcept;
  void index_name(std::string_view name, std::uint32_t family);
  [[nodiscard]] std::uint32_t recent_family_of(std::string_view name);
  void announce(std::uint32_t family);
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
  PendingFamily pending_;                 // OpenMetrics: the family whose metadata is being read
  std::uint32_t announced_ = no_family;   // Prometheus: the family on_family is due for
  std::vector<Family> families_;          // Prometheus: every family of the document
  std::vector<NameSlot> slots_;           // open-addressing index of names (families' and their x_count...)
  std::size_t names_ = 0;                 // filled slots
  // The last sample names resolved and their families: a histogram's _bucket, _sum and _count
  // lines, or a family's interleaved samples, take no index lookup.
  struct RecentName {
    std::string_view name;
    std::uint32_t family = no_family;
  };
  std::array<RecentName, 4> recent_{};
  std::size_t next_recent_ = 0;
  std::vector<Label> labels_;
  std::string values_; // unescaped label values of the current sample
  std::string help_;   // unescaped help of the pending family
};

} // namespace trimtab
