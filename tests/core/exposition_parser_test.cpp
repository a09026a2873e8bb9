#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <trimtab/core/exposition_parser.hpp>

using namespace trimtab;

namespace {

struct RecordedFamily {
  std::string name;
  MetricType type;
  std::string help;
  std::string unit;
};

struct RecordedSample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;
  double value;
  std::optional<std::int64_t> timestamp_ms;
  std::size_t line;

  [[nodiscard]] std::string label(std::string_view label_name) const {
    for (const auto& [n, v] : labels)
      if (n == label_name) return v;
    return "<absent>";
  }
};

// Copies everything: the views the parser hands out die with the call.
struct Recorder : ExpositionVisitor {
  std::vector<RecordedFamily> families;
  std::vector<RecordedSample> samples;
  std::vector<std::string> events; // "family NAME" / "sample NAME", in order

  void on_family(std::string_view name, MetricType type, std::string_view help, std::string_view unit) override {
    families.push_back({std::string(name), type, std::string(help), std::string(unit)});
    events.push_back("family " + std::string(name));
  }

  void on_sample(const Sample& sample) override {
    RecordedSample s{std::string(sample.name), {}, sample.value, sample.timestamp_ms, sample.line};
    for (const Label& label : sample.labels) s.labels.emplace_back(label.name, label.value);
    samples.push_back(std::move(s));
    events.push_back("sample " + std::string(sample.name));
  }
};

struct Parsed {
  Recorder recorder;
  ParseReport report;
};

Parsed parse(std::string_view text, ExpositionFormat format = ExpositionFormat::prometheus) {
  Parsed out;
  ExpositionParser parser(format);
  out.report = parser.parse(text, out.recorder);
  return out;
}

std::string describe_errors(const ParseReport& report) {
  std::string out;
  for (const auto& e : report.errors)
    out += std::to_string(e.line) + ":" + std::to_string(e.column) + ": " + e.message + "\n";
  return out;
}

// A visitor that only counts, for the re-parse test (recording would allocate in the test itself).
struct Counter : ExpositionVisitor {
  std::size_t samples = 0;
  void on_family(std::string_view, MetricType, std::string_view, std::string_view) override {}
  void on_sample(const Sample&) override { ++samples; }
};

} // namespace

BOOST_AUTO_TEST_SUITE(exposition_parser)

BOOST_AUTO_TEST_CASE(reads_every_prometheus_metric_type_with_help_and_type) {
  const auto parsed = parse("# HELP c A counter.\n# TYPE c counter\nc 1\n"
                            "# HELP g A gauge.\n# TYPE g gauge\ng 2\n"
                            "# HELP h A histogram.\n# TYPE h histogram\nh_count 3\n"
                            "# HELP s A summary.\n# TYPE s summary\ns_count 4\n"
                            "# HELP u Untyped.\n# TYPE u untyped\nu 5\n"
                            "# HELP n No type line.\nn 6\n");
  BOOST_TEST(parsed.report.ok(), describe_errors(parsed.report));
  const auto& f = parsed.recorder.families;
  BOOST_TEST_REQUIRE(f.size() == 6u);
  BOOST_TEST((f[0].type == MetricType::counter));
  BOOST_TEST((f[1].type == MetricType::gauge));
  BOOST_TEST((f[2].type == MetricType::histogram));
  BOOST_TEST((f[3].type == MetricType::summary));
  BOOST_TEST((f[4].type == MetricType::untyped));
  BOOST_TEST((f[5].type == MetricType::untyped));
  BOOST_TEST(f[0].name == "c");
  BOOST_TEST(f[0].help == "A counter.");
  BOOST_TEST(f[5].help == "No type line.");
  BOOST_TEST(parsed.report.samples == 6u);
  BOOST_TEST(parsed.recorder.samples[5].value == 6.0);
}

BOOST_AUTO_TEST_CASE(reads_every_openmetrics_metric_type) {
  const auto parsed = parse("# TYPE c counter\n# HELP c A counter.\nc_total 1\n"
                            "# TYPE g gauge\ng 2\n"
                            "# TYPE h histogram\nh_count 3\n"
                            "# TYPE gh gaugehistogram\ngh_gcount 4\n"
                            "# TYPE s summary\ns_count 5\n"
                            "# TYPE i info\ni_info{version=\"1.2\"} 1\n"
                            "# TYPE ss stateset\nss{ss=\"a\"} 1\n"
                            "# TYPE u unknown\nu 8\n"
                            "n 9\n"
                            "# EOF\n",
                            ExpositionFormat::openmetrics);
  BOOST_TEST(parsed.report.ok(), describe_errors(parsed.report));
  const auto& f = parsed.recorder.families;
  BOOST_TEST_REQUIRE(f.size() == 8u);
  const MetricType expected[] = {MetricType::counter, MetricType::gauge,   MetricType::histogram,
                                 MetricType::gaugehistogram, MetricType::summary, MetricType::info,
                                 MetricType::stateset, MetricType::unknown};
  for (std::size_t i = 0; i < 8; ++i) BOOST_TEST((f[i].type == expected[i]), "family " << i);
  BOOST_TEST(f[0].help == "A counter.");
  BOOST_TEST(parsed.report.samples == 9u);
  BOOST_TEST(parsed.recorder.samples[5].label("version") == "1.2");
}

BOOST_AUTO_TEST_CASE(type_names_are_checked_per_format) {
  const auto prom = parse("# TYPE x info\n# TYPE y untyped\n");
  BOOST_TEST_REQUIRE(prom.report.errors.size() == 1u, describe_errors(prom.report));
  BOOST_TEST(prom.report.errors[0].line == 1u);
  BOOST_TEST(prom.report.errors[0].column == 10u);
  BOOST_TEST(prom.report.errors[0].message ==
             "unknown metric type 'info' (expected counter, gauge, histogram, summary or untyped)");

  const auto om = parse("# TYPE y untyped\n# EOF\n", ExpositionFormat::openmetrics);
  BOOST_TEST_REQUIRE(om.report.errors.size() == 1u, describe_errors(om.report));
  BOOST_TEST(om.report.errors[0].column == 10u);
  BOOST_TEST(om.report.errors[0].message == "unknown metric type 'untyped' (expected counter, gauge, histogram, "
                                            "gaugehistogram, summary, info, stateset or unknown)");
}

BOOST_AUTO_TEST_CASE(reads_a_real_looking_exposition) {
  const std::string text = R"(# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000

# A normal comment.
# HELP http_request_duration_seconds A histogram of the request duration.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="0.1"} 33444
http_request_duration_seconds_bucket{le="0.2"} 100392
http_request_duration_seconds_bucket{le="0.5"} 129389
http_request_duration_seconds_bucket{le="1"} 133988
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320

# HELP rpc_duration_seconds A summary of the RPC duration in seconds.
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.01"} 3102
rpc_duration_seconds{quantile="0.05"} 3272
rpc_duration_seconds{quantile="0.5"} 4773
rpc_duration_seconds{quantile="0.9"} 9001
rpc_duration_seconds{quantile="0.99"} 76656
rpc_duration_seconds_sum 1.7560473e+07
rpc_duration_seconds_count 2693
# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 42
process_start_time_seconds 1.70012345e+09
)";
  const auto parsed = parse(text);
  BOOST_TEST(parsed.report.ok(), describe_errors(parsed.report));
  const auto& s = parsed.recorder.samples;
  BOOST_TEST_REQUIRE(s.size() == 19u);
  BOOST_TEST(parsed.report.samples == 19u);

  BOOST_TEST(s[0].name == "http_requests_total");
  BOOST_TEST(s[0].labels.size() == 2u);
  BOOST_TEST(s[0].label("method") == "post");
  BOOST_TEST(s[0].label("code") == "200");
  BOOST_TEST(s[0].value == 1027.0);
  BOOST_TEST(s[0].timestamp_ms.value_or(-1) == 1395066363000);
  BOOST_TEST(s[0].line == 3u);
  BOOST_TEST(s[1].value == 3.0);

  BOOST_TEST(s[2].name == "http_request_duration_seconds_bucket");
  BOOST_TEST(s[2].label("le") == "0.05");
  BOOST_TEST(s[7].label("le") == "+Inf");
  BOOST_TEST(s[7].value == 144320.0);
  BOOST_TEST(s[8].name == "http_request_duration_seconds_sum");
  BOOST_TEST(!s[8].timestamp_ms.has_value());

  BOOST_TEST(s[10].label("quantile") == "0.01");
  BOOST_TEST(s[15].value == 1.7560473e+07);
  BOOST_TEST(s[18].name == "process_start_time_seconds");
  BOOST_TEST(s[18].value == 1.70012345e+09);

  const auto& f = parsed.recorder.families;
  BOOST_TEST_REQUIRE(f.size() == 4u);
  BOOST_TEST(f[1].name == "http_request_duration_seconds");
  BOOST_TEST(f[1].help == "A histogram of the request duration.");
  BOOST_TEST((f[2].type == MetricType::summary));
  // Metadata is reported before the family's first sample.
  BOOST_TEST(parsed.recorder.events[0] == "family http_requests_total");
  BOOST_TEST(parsed.recorder.events[1] == "sample http_requests_total");
}

BOOST_AUTO_TEST_CASE(reports_a_family_without_samples_when_the_next_one_starts) {
  const auto parsed = parse("# HELP a first\n# TYPE b gauge\n# HELP b second\nb 1\n# TYPE c counter\n");
  BOOST_TEST(parsed.report.ok(), describe_errors(parsed.report));
  const std::vector<std::string> expected{"family a", "family b", "sample b", "family c"};
  BOOST_TEST(parsed.recorder.events == expected, boost::test_tools::per_element());
  BOOST_TEST(parsed.recorder.families[1].help == "second");
}

BOOST_AUTO_TEST_CASE(unescapes_label_values) {
  const auto parsed = parse(R"(msg{path="C:\\dir\\",text="say \"hi\"\nbye",plain="x",utf8="Ã©â¬",empty=""} 1)"
                            "\n");
  BOOST_TEST(parsed.report.ok(), describe_errors(parsed.report));
  BOOST_TEST_REQUIRE(parsed.recorder.samples.size() == 1u);
  const auto& s = parsed.recorder.samples[0];
  BOOST_TEST(s.label("path") == "C:\\dir\\");
  BOOST_TEST(s.label("text") == "say \"hi\"\nbye");
  BOOST_TEST(s.label("plain") == "x");
  BOOST_TEST(s.label("utf8") == "Ã©â¬");
  BOOST_TEST(s.label("empty") == "");
}

BOOST_AUTO_TEST_CASE(many_escaped_values_on_one_line_stay_valid) {
  // Each escaped value lands in the scratch buffer; a reallocation mid-line would leave the
  // earlier ones dangling (ASan would catch it, and so would the comparison).
  std::string line = "m{";
  for (int i = 0; i < 200; ++i) line += "l" + std::to_string(i) + "=\"v\\\\" + std::to_string(i) + "\\n\",";
  line += "} 7\n";
  const auto parsed = parse(line);
  BOOST_TEST(parsed.report.ok(), describe_errors(parsed.report));
  BOOST_TEST_REQUIRE(parsed.recorder.samples.size() == 1u);
  const auto& s = parsed.recorder.samples[0];
  BOOST_TEST_REQUIRE(s.labels.size() == 200u);
  for (int i = 0; i < 200; ++i) BOOST_TEST(s.labels[i].second == "v\\" + std::to_string(i) + "\n");
}

BOOST_AUTO_TEST_CASE(finds_escapes_non_ascii_and_the_closing_quote_at_every_offset) {
  // Label values are scanned eight bytes at a time: each stop byte is placed at every offset of a
  // value longer than two words, so every position within a word and the tail are exercised.
  const std::string plain(21, 'v');
  for (std::size_t at = 0; at <= plain.size(); ++at) {
    const std::string head = plain.substr(0, at), tail = plain.substr(at);
    const std::string cases[][2] = {
        {head + R"(\")" + tail, head + "\"" + tail},
        {head + R"(\\)" + tail, head + "\\" + tail},
        {head + R"(\n)" + tail, head + "\n" + tail},
        {head + "\xc3\xa9" + tail, head + "\xc3\xa9" + tail},
        {head, head}, // the closing quote at offset `at`
    };
    for (const auto& [written, meant] : cases) {
      const auto parsed = parse("m{a=\"" + written + "\",b=\"x\"} 1\n");
      BOOST_TEST_REQUIRE(parsed.report.ok(), "offset " << at << ": " << describe_errors(parsed.report));
      BOOST_TEST(parsed.recorder.samples.at(0).label("a") == meant, "offset " << at);
      BOOST_TEST(parsed.recorder.samples.at(0).label("b") == "x", "offset " << at);
    }
    const auto bad = parse("m{a=\"" + head + "\xbd" + tail + "\"} 1\n");
    BOOST_TEST_REQUIRE(bad.report.errors.size() == 1u, "offset " << at);
    BOOST_TEST(bad.report.errors[0].column == 6 + at, "offset " << at);
  }
}

BOOST_AUTO_TEST_CASE(unescapes_help_per_format) {
  const auto prom = parse("# HELP m Line one\\nline two with \\\\ and \"quotes\"\nm 1\n");
  BOOST_TEST(prom.report.ok(), describe_errors(prom.report));
  // Prometheus text escapes only backslash and newline in HELP (and other escapes are errors).
  BOOST_TEST(prom.recorder.families.at(0).help == "Line one\nline two with \\ and \"quotes\"");

  const auto om = parse("# HELP m Line one\\nline two with \\\\ and \\\"quotes\\\"\nm 1\n# EOF\n",
                        ExpositionFormat::openmetrics);
  BOOST_TEST(om.report.ok(), describe_errors(om.report));
  BOOST_TEST(om.recorder.families.at(0).help == "Line one\nline two with \\ and \"quotes\"");
}

BOOST_AUTO_TEST_CASE(reads_special_values_and_timestamps) {
  const auto parsed = parse("a +Inf\nb -Inf\nc NaN\nd 1e+06\ne -1.5E-3 -42\nf +3 +17\ng inf\nh 0x10\ni 1e999\n"
                            "j 1e-999\nk 12 9223372036854775807\nl 12 9223372036854775808\n");
  const auto& s = parsed.recorder.samples;
  BOOST_TEST_REQUIRE(s.size() == 9u, describe_errors(parsed.report));
  BOOST_TEST(std::isinf(s[0].value));
  BOOST_TEST(s[0].value > 0);
  BOOST_TEST(std::isinf(s[1].value));
  BOOST_TEST(s[1].value < 0);
  BOOST_TEST(std::isnan(s[2].value));
  BOOST_TEST(s[3].value == 1e6);
  BOOST_TEST(s[4].value == -1.5e-3);
  BOOST_TEST(s[4].timestamp_ms.value_or(0) == -42);
  BOOST_TEST(s[5].value == 3.0);
  BOOST_TEST(s[5].timestamp_ms.value_or(0) == 17);
  BOOST_TEST(std::isinf(s[6].value));
  BOOST_TEST(s[7].name == "j"); // underflow reads as zero, like Go
  BOOST_TEST(s[7].value == 0.0);
  BOOST_TEST(s[8].timestamp_ms.value_or(0) == INT64_MAX);

  BOOST_TEST_REQUIRE(parsed.report.errors.size() == 3u, describe_errors(parsed.report));
  BOOST_TEST(parsed.report.errors[0].line == 8u); // hex is not a Prometheus number
  BOOST_TEST(parsed.report.errors[0].column == 3u);
  BOOST_TEST(parsed.report.errors[1].line == 9u); // overflow
  BOOST_TEST(parsed.report.errors[1].message == "expected a number as the value of 'i', found '1e999'");
  BOOST_TEST(parsed.report.errors[2].line == 12u);
  BOOST_TEST(parsed.report.errors[2].column == 6u);
}

BOOST_AUTO_TEST_CASE(reads_openmetrics_units_exemplars_and_eof) {
  const auto parsed = parse(R"(# TYPE request_latency_seconds histogram
# UNIT request_latency_seconds seconds
# HELP request_latency_seconds Request latency.
request_latency_seconds_bucket{le="0.1"} 3 # {trace_id="abc\"}"} 0.05 1520879607.789
request_latency_seconds_bucket{le="+Inf"} 5 1520879607.5 # {trace_id="def"} 2.5
request_latency_seconds_count 5 1520879607
request_latency_seconds_sum 4.5
# TYPE requests counter
requests_total 10 # {} 1
requests_created 1.520879607e9
# EOF
)",
                            ExpositionFormat::openmetrics);
  BOOST_TEST(parsed.report.ok(), describe_errors(parsed.report));
  const auto& f = parsed.recorder.families;
  BOOST_TEST_REQUIRE(f.size() == 2u);
  BOOST_TEST(f[0].unit == "seconds");
  BOOST_TEST(f[0].help == "Request latency.");
  BOOST_TEST((f[0].type == MetricType::histogram));
  BOOST_TEST(f[1].unit == "");

  const auto& s = parsed.recorder.samples;
  BOOST_TEST_REQUIRE(s.size() == 6u);
  BOOST_TEST(s[0].value == 3.0);
  BOOST_TEST(!s[0].timestamp_ms.has_value());
  BOOST_TEST(s[0].labels.size() == 1u); // exemplar labels are not the sample's
  BOOST_TEST(s[1].label("le") == "+Inf");
  BOOST_TEST(s[1].timestamp_ms.value_or(0) == 1520879607500); // seconds become milliseconds
  BOOST_TEST(s[2].timestamp_ms.value_or(0) == 1520879607000);
  BOOST_TEST(s[4].value == 10.0);
  BOOST_TEST(s[5].value == 1.520879607e9);
}

BOOST_AUTO_TEST_CASE(openmetrics_requires_eof_last) {
  const auto missing = parse("a 1\nb 2\n", ExpositionFormat::openmetrics);
  BOOST_TEST(missing.report.samples == 2u);
  BOOST_TEST_REQUIRE(missing.report.errors.size() == 1u);
  BOOST_TEST(missing.report.errors[0].line == 3u);
  BOOST_TEST(missing.report.errors[0].column == 1u);
  BOOST_TEST(missing.report.errors[0].message == "expected '# EOF' as the last line of an OpenMetrics exposition");

  const auto empty = parse("", ExpositionFormat::openmetrics);
  BOOST_TEST_REQUIRE(empty.report.errors.size() == 1u);
  BOOST_TEST(empty.report.errors[0].line == 1u);

  const auto after = parse("a 1\n# EOF\nb 2\n", ExpositionFormat::openmetrics);
  BOOST_TEST(after.report.samples == 1u); // nothing after EOF is read
  BOOST_TEST_REQUIRE(after.report.errors.size() == 1u);
  BOOST_TEST(after.report.errors[0].line == 3u);
  BOOST_TEST(after.report.errors[0].column == 1u);
  BOOST_TEST(after.report.errors[0].message == "unexpected content after '# EOF' (it must be the last line)");

  const auto no_newline = parse("a 1\n# EOF", ExpositionFormat::openmetrics);
  BOOST_TEST(no_newline.report.ok(), describe_errors(no_newline.report));

  const auto junk = parse("# EOF now\n", ExpositionFormat::openmetrics);
  BOOST_TEST_REQUIRE(junk.report.errors.size() == 1u);
  BOOST_TEST(junk.report.errors[0].column == 7u);
  BOOST_TEST(junk.report.errors[0].message == "expected end of line after '# EOF', found 'n'");

  // In Prometheus text '# EOF' is just a comment.
  const auto prom = parse("a 1\n# EOF\nb 2\n");
  BOOST_TEST(prom.report.ok());
  BOOST_TEST(prom.report.samples == 2u);
}

BOOST_AUTO_TEST_CASE(tolerates_crlf) {
  const auto prom = parse("# HELP a Help a.\r\n# TYPE a counter\r\na{x=\"1\"} 1 1000\r\n\r\nb 2\r\n");
  BOOST_TEST(prom.report.ok(), describe_errors(prom.report));
  BOOST_TEST_REQUIRE(prom.recorder.samples.size() == 2u);
  BOOST_TEST(prom.recorder.families.at(0).help == "Help a.");
  BOOST_TEST((prom.recorder.families.at(0).type == MetricType::counter));
  BOOST_TEST(prom.recorder.samples[0].timestamp_ms.value_or(0) == 1000);
  BOOST_TEST(prom.recorder.samples[1].value == 2.0);
  BOOST_TEST(prom.recorder.samples[1].line == 5u);

  const auto om = parse("# UNIT a_bytes bytes\r\na_bytes 1\r\n# EOF\r\n", ExpositionFormat::openmetrics);
  BOOST_TEST(om.report.ok(), describe_errors(om.report));
  BOOST_TEST(om.recorder.families.at(0).unit == "bytes");
}

struct BadLine {
  const char* text;
  std::size_t column;
  const char* message;
};

void check_corpus(const std::vector<BadLine>& corpus, ExpositionFormat format) {
  // Each bad line is followed by a good one, which must still arrive.
  std::string text;
  for (std::size_t i = 0; i < corpus.size(); ++i)
    text += std::string(corpus[i].text) + "\ngood_" + std::to_string(i) + " " + std::to_string(i) + "\n";
  if (format == ExpositionFormat::openmetrics) text += "# EOF\n";
  const auto parsed = parse(text, format);

  BOOST_TEST_REQUIRE(parsed.report.errors.size() == corpus.size(), describe_errors(parsed.report));
  for (std::size_t i = 0; i < corpus.size(); ++i) {
    const auto& e = parsed.report.errors[i];
    BOOST_TEST_CONTEXT("bad line: " << corpus[i].text) {
      BOOST_TEST(e.line == 2 * i + 1);
      BOOST_TEST(e.column == corpus[i].column);
      BOOST_TEST(e.message == corpus[i].message);
    }
  }
  BOOST_TEST_REQUIRE(parsed.recorder.samples.size() == corpus.size());
  for (std::size_t i = 0; i < corpus.size(); ++i) {
    BOOST_TEST(parsed.recorder.samples[i].name == "good_" + std::to_string(i));
    BOOST_TEST(parsed.recorder.samples[i].line == 2 * i + 2);
  }
}

BOOST_AUTO_TEST_CASE(locates_malformed_prometheus_lines_and_goes_on) {
  check_corpus(
      {
          {"foo{code=\"200\" 1", 16, "expected ',' or '}' after the value of label 'code'"},
          {"foo{code} 1", 9, "expected '=' after label name 'code'"},
          {"foo{code 200} 1", 10, "expected '=' after label name 'code'"},
          {"foo{code=200} 1", 10, "expected '\"' to open the value of label 'code'"},
          {"foo{code=\"200} 1", 10, "unterminated value of label 'code': expected a closing '\"'"},
          {"foo{code=\"a\\\"} 1", 10, "unterminated value of label 'code': expected a closing '\"'"},
          {"foo{code=\"1\",code=\"2\"} 1", 14, "duplicate label name 'code'"},
          {"foo{1code=\"x\"} 1", 5, "expected a label name or '}', found '1'"},
          {"foo{co-de=\"x\"} 1", 7, "invalid character '-' in label name 'co-de'"},
          {"foo{a=\"b\",", 11, "expected a label name or '}'"},
          {"foo{a=\"b\"}} 1", 11, "expected a number as the value of 'foo', found '}'"},
          {"1foo 1", 1, "expected a metric name, found '1'"},
          {"{a=\"b\"} 1", 1, "expected a metric name, found '{'"},
          {"foo-bar 1", 4, "invalid character '-' in metric name 'foo-bar'"},
          {"foo\x01 1", 4, "invalid character byte 0x01 in metric name 'foo\x01'"},
          {"foo", 4, "expected a value after metric 'foo'"},
          {"foo{a=\"b\"}", 11, "expected a value after metric 'foo'"},
          {"foo abc", 5, "expected a number as the value of 'foo', found 'abc'"},
          {"foo +-1", 5, "expected a number as the value of 'foo', found '+-1'"},
          {"foo 1 123abc", 7, "expected a timestamp in milliseconds (an integer), found '123abc'"},
          {"foo 1 1.5", 7, "expected a timestamp in milliseconds (an integer), found '1.5'"},
          {"foo 1 123 junk", 11, "expected end of line after the timestamp, found 'j'"},
          {"  foo 1 2 3", 11, "expected end of line after the timestamp, found '3'"},
          {"foo 1 # not an exemplar here", 7,
           "expected a timestamp in milliseconds (an integer), found '#'"},
          {"# TYPE t1 bogus", 11,
           "unknown metric type 'bogus' (expected counter, gauge, histogram, summary or untyped)"},
          {"# TYPE t2 counter extra", 19, "expected end of line after metric type 'counter', found 'e'"},
          {"# TYPE t3 counter ", 18, "blank at the end of the line after metric type 'counter'"},
          {"# HELP 9lives text", 8, "expected a metric name after '# HELP', found '9'"},
          {"# TYPE my.metric gauge", 10, "invalid character '.' in metric name 'my.metric'"},
          {"#TYPE met-ric", 10, "invalid character '-' in metric name 'met-ric'"},
          {"# HELP h1 tab\\tbed", 14, "invalid escape sequence in help (the only ones are \\\\ and \\n)"},
          {"# HELP h2 ends in \\", 19, "invalid escape sequence in help (the only ones are \\\\ and \\n)"},
          {"# TYPE good_0 gauge", 1, "'# TYPE' line for metric 'good_0' after its samples, which were read as untyped"},
          {"foo{__name__=\"x\"} 1", 5, "label name '__name__' is reserved (it holds the metric name)"},
          {"foo{a=\"x\\ty\"} 1", 9,
           "invalid escape sequence in the value of label 'a' (the only ones are \\\\, \\\" and \\n)"},
          {"foo{a=\"x\xbd\"} 1", 9, "invalid UTF-8 (byte 0xbd) in the value of label 'a'"},
          {"foo{a=\"\xed\xa0\x80\"} 1", 8, "invalid UTF-8 (byte 0xed) in the value of label 'a'"},
          {"foo{a=\"\xc0\xaf\"} 1", 8, "invalid UTF-8 (byte 0xc0) in the value of label 'a'"},
          {"foo 1 ", 6, "blank at the end of the line after the value (expected a timestamp or nothing)"},
          {"foo 1 2\t", 8, "blank at the end of the line after the timestamp"},
          {"foo -nan", 5, "expected a number as the value of 'foo', found '-nan'"},
          {"foo nan(1)", 5, "expected a number as the value of 'foo', found 'nan(1)'"},
      },
      ExpositionFormat::prometheus);
}

BOOST_AUTO_TEST_CASE(locates_malformed_openmetrics_lines_and_goes_on) {
  check_corpus(
      {
          {"foo_total 1 # junk", 15, "expected '{' to open the exemplar's labels"},
          {"foo_total 1 # {a=\"b\"}", 22, "expected a number as the exemplar's value, found ''"},
          {"foo_total 1 # {a=\"b\" 1", 15, "expected '}' to close the exemplar's labels"},
          {"foo_total 1 # {a=\"b\"} 1 2 3", 27, "expected end of line after the exemplar, found '3'"},
          {"foo_total 1 # {a=\"b\"} 1 x", 25, "expected the exemplar's timestamp in seconds, found 'x'"},
          {"foo 1 1.5.5", 7, "expected a timestamp in seconds, found '1.5.5'"},
          {"foo 1 1e300", 7, "timestamp out of range: '1e300'"},
          {"foo 1 NaN", 7, "expected a timestamp in seconds, found 'NaN'"},
          {"# UNIT foo seconds extra", 20, "expected end of line after unit 'seconds', found 'e'"},
          {"# UNIT", 7, "expected a metric name after '# UNIT'"},
      },
      ExpositionFormat::openmetrics);
}

BOOST_AUTO_TEST_CASE(reads_what_expfmt_reads) {
  const auto parsed = parse("#HELP a Help without a space after '#'.\n"
                            "#TYPE a Counter\n"
                            "a {x=\"1\"} 1\n"
                            "b 2\n"
                            "a{x=\"2\"}3\n"
                            "# HELP\n# HELP b\n# TYPE c\n# TYPE c \n# TYPE\n#\n# comment\n"
                            "# HELP b Help after b's samples.\n"
                            "c NaN\n"
                            "   \t");
  BOOST_TEST(parsed.report.ok(), describe_errors(parsed.report));
  const auto& s = parsed.recorder.samples;
  BOOST_TEST_REQUIRE(s.size() == 4u);
  BOOST_TEST(s[0].label("x") == "1"); // a space before '{'
  BOOST_TEST(s[2].label("x") == "2");
  BOOST_TEST(s[2].value == 3.0);
  const auto& f = parsed.recorder.families;
  BOOST_TEST_REQUIRE(f.size() == 3u);
  BOOST_TEST(f[0].name == "a");
  BOOST_TEST((f[0].type == MetricType::counter));
  BOOST_TEST(f[0].help == "Help without a space after '#'.");
  BOOST_TEST(f[1].name == "c"); // `# TYPE c ` makes c known, and sets nothing
  BOOST_TEST((f[1].type == MetricType::untyped));
  BOOST_TEST(f[2].name == "b");
  BOOST_TEST(f[2].help == "Help after b's samples.");
}

BOOST_AUTO_TEST_CASE(le_and_quantile_are_numbers_in_histograms_and_summaries) {
  const auto parsed = parse("# TYPE h histogram\n"
                            "h_bucket{le=\"0.5\"} 1\n"
                            "h_bucket{le=\"0x1p-3\"} 1\n"
                            "h_bucket{le=\"1_0\"} 1\n"
                            "h_bucket{le=\"+Inf\"} 2\n"
                            "h_count{le=\"soon\"} 2\n"
                            "# TYPE s summary\n"
                            "s{quantile=\"0.99\"} 1\n"
                            "s{quantile=\"99%\"} 1\n"
                            "s_sum{quantile=\"\"} 1\n"
                            "s_bucket{quantile=\"x\"} 1\n"  // not the summary's: s_bucket of its own
                            "other_bucket{le=\"x\"} 1\n"    // untyped: any le
                            "s{le=\"x\"} 1\n");
  std::vector<std::pair<std::size_t, std::string>> errors;
  for (const auto& e : parsed.report.errors) errors.emplace_back(e.line, e.message);
  const std::vector<std::pair<std::size_t, std::string>> expected{
      {3, "expected a number as the value of label 'le', found '0x1p-3'"},
      {4, "expected a number as the value of label 'le', found '1_0'"},
      {6, "expected a number as the value of label 'le', found 'soon'"},
      {9, "expected a number as the value of label 'quantile', found '99%'"},
      {10, "expected a number as the value of label 'quantile', found ''"},
  };
  BOOST_TEST_REQUIRE(errors.size() == expected.size(), describe_errors(parsed.report));
  for (std::size_t i = 0; i < expected.size(); ++i) {
    BOOST_TEST(errors[i].first == expected[i].first);
    BOOST_TEST(errors[i].second == expected[i].second);
  }
  BOOST_TEST(parsed.report.errors[0].column == 14u);
  BOOST_TEST(parsed.report.samples == 6u);
}

BOOST_AUTO_TEST_CASE(a_type_after_samples_leaves_them_untyped) {
  const auto parsed = parse("# TYPE s summary\ns{quantile=\"0.5\"} 1\n"
                            "a{quantile=\"x\"} 1\n# TYPE a summary\na{quantile=\"y\"} 2\n# TYPE s gauge\n");
  BOOST_TEST_REQUIRE(parsed.report.errors.size() == 2u, describe_errors(parsed.report));
  BOOST_TEST(parsed.report.errors[0].line == 4u);
  BOOST_TEST(parsed.report.errors[0].message == "'# TYPE' line for metric 'a' after its samples, which were read as untyped");
  BOOST_TEST(parsed.report.errors[1].line == 6u);
  BOOST_TEST(parsed.report.errors[1].message == "duplicate '# TYPE' line for metric 's'");
  // Both of a's samples are read, the same way: untyped, so its quantile label is any text.
  BOOST_TEST(parsed.report.samples == 3u);
  BOOST_TEST(parsed.recorder.families.at(1).name == "a");
  BOOST_TEST((parsed.recorder.families.at(1).type == MetricType::untyped));
}

BOOST_AUTO_TEST_CASE(a_last_line_without_newline_is_not_used) {
  const auto cut = parse("a 1\nb 1234");
  BOOST_TEST(cut.report.samples == 1u);
  BOOST_TEST_REQUIRE(cut.report.errors.size() == 1u);
  BOOST_TEST(cut.report.errors[0].line == 2u);
  BOOST_TEST(cut.report.errors[0].column == 7u);
  BOOST_TEST(cut.report.errors[0].message ==
             "the last line ends without a newline: the exposition may be cut short, so the line is not used");
  const auto comment = parse("a 1\n# the end");
  BOOST_TEST_REQUIRE(comment.report.errors.size() == 1u);
  BOOST_TEST(comment.report.errors[0].line == 2u);
  BOOST_TEST(parse("a 1\n \t").report.ok()); // only blanks after the last newline
  BOOST_TEST(parse("").report.ok());
}

BOOST_AUTO_TEST_CASE(duplicate_metadata_is_an_error) {
  const auto parsed = parse("# HELP a one\n# HELP a two\n# TYPE a gauge\n# TYPE a counter\na 1\n");
  BOOST_TEST_REQUIRE(parsed.report.errors.size() == 2u, describe_errors(parsed.report));
  BOOST_TEST(parsed.report.errors[0].line == 2u);
  BOOST_TEST(parsed.report.errors[0].column == 1u);
  BOOST_TEST(parsed.report.errors[0].message == "duplicate '# HELP' line for metric 'a'");
  BOOST_TEST(parsed.report.errors[1].message == "duplicate '# TYPE' line for metric 'a'");
  BOOST_TEST(parsed.recorder.families.at(0).help == "one");
  BOOST_TEST((parsed.recorder.families.at(0).type == MetricType::gauge));
}

BOOST_AUTO_TEST_CASE(caps_stored_errors) {
  std::string text;
  for (int i = 0; i < 150; ++i) text += "bad line\nok " + std::to_string(i) + "\n";
  const auto parsed = parse(text);
  BOOST_TEST(parsed.report.errors.size() == ExpositionParser::max_errors);
  BOOST_TEST(parsed.report.truncated);
  BOOST_TEST(parsed.report.samples == 150u);
  BOOST_TEST(parsed.report.errors.back().line == 199u);
}

BOOST_AUTO_TEST_CASE(caps_labels_per_sample) {
  auto line_with = [](std::size_t n) {
    std::string line = "m{";
    for (std::size_t i = 0; i < n; ++i) line += "l" + std::to_string(i) + "=\"v\",";
    return line + "} 1\n";
  };
  const auto at_cap = parse(line_with(ExpositionParser::max_labels));
  BOOST_TEST(at_cap.report.ok(), describe_errors(at_cap.report));
  BOOST_TEST(at_cap.report.samples == 1u);

  const std::string over = line_with(ExpositionParser::max_labels + 1);
  const auto too_many = parse(over + "after 1\n");
  BOOST_TEST_REQUIRE(too_many.report.errors.size() == 1u);
  BOOST_TEST(too_many.report.errors[0].column == over.find("l256=") + 1);
  BOOST_TEST(too_many.report.errors[0].message == "too many labels (at most 256 per sample)");
  BOOST_TEST(too_many.report.samples == 1u);
}

BOOST_AUTO_TEST_CASE(scratch_stops_growing_after_one_pass) {
  std::string text = "# HELP esc Help with \\\\ and \\n escapes.\n# TYPE esc gauge\n";
  for (int i = 0; i < 500; ++i)
    text += "esc{path=\"/a\\\\b/" + std::to_string(i) + "\",msg=\"x\\\"y\\nz\",k" + std::to_string(i % 7) +
            "=\"v\"} " + std::to_string(i) + "\n";
  std::string wide = "wide{";
  for (int i = 0; i < 40; ++i) wide += "l" + std::to_string(i) + "=\"\\\\\",";
  text += wide + "} 1\n";

  ExpositionParser parser;
  Counter counter;
  const auto first = parser.parse(text, counter);
  BOOST_TEST(first.ok(), describe_errors(first));
  const std::size_t warm = parser.scratch_capacity();
  BOOST_TEST(warm > 0u);
  const auto second = parser.parse(text, counter);
  BOOST_TEST(second.samples == 501u);
  BOOST_TEST(parser.scratch_capacity() == warm);
  (void)parser.parse(text.substr(0, text.size() / 2), counter); // anything no bigger reuses it too
  BOOST_TEST(parser.scratch_capacity() == warm);
}

BOOST_AUTO_TEST_CASE(survives_hostile_input) {
  // Truncated mid-token at every position, and bytes the grammar never expects: no crash, no read
  // past the end (ASan), every line located.
  const std::string text = "# HELP a x\\\n# TYPE a counter\na{b=\"c\\\\\",d=\"e\"} 1.5 100 # {x=\"\\\"y\"} 2 3\n";
  for (const auto format : {ExpositionFormat::prometheus, ExpositionFormat::openmetrics}) {
    for (std::size_t n = 0; n <= text.size(); ++n) {
      ExpositionParser parser(format);
      Counter counter;
      const auto report = parser.parse(std::string_view(text).substr(0, n), counter);
      for (const auto& e : report.errors) {
        BOOST_TEST(e.line >= 1u);
        BOOST_TEST(e.column >= 1u);
      }
    }
  }
  const std::string binary("\0\xff\x80{}\"\\=,#\r\na 1\n", 16);
  const auto parsed = parse(binary);
  BOOST_TEST(parsed.report.samples == 1u);
  BOOST_TEST(parsed.report.errors.size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
