// The Prometheus text parser against the reference Go parser, expfmt (github.com/prometheus/common):
// on every input of expfmt's own TestTextParse and TestTextParseError, trimtab must give expfmt's
// verdict: no error where expfmt reads the document, and where it rejects it, a first error on the
// line expfmt names. The inputs are copied below, so the agreement is tested everywhere, and also
// read from the installed Debian package golang-github-prometheus-common-dev when it is there, so a
// newer expfmt's tests are checked too.

#include <boost/test/unit_test.hpp>

#include <cctype>
#include <cstddef>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <trimtab/core/exposition_parser.hpp>

using namespace trimtab;

namespace {

struct ExpfmtCase {
  std::string input;
  /// The line expfmt's error names; 0 when expfmt reads the input without error.
  std::size_t error_line;
};

struct Ignore : ExpositionVisitor {
  void on_family(std::string_view, MetricType, std::string_view, std::string_view) override {}
  void on_sample(const Sample&) override {}
};

std::string show(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      constexpr char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[static_cast<unsigned char>(c) >> 4];
      out += hex[static_cast<unsigned char>(c) & 0xf];
    } else out += c;
  }
  return out;
}

std::string first_error(const ParseReport& report) {
  if (report.ok()) return "no error";
  return "line " + std::to_string(report.errors.front().line) + ": " + report.errors.front().message;
}

void check_verdicts(const std::vector<ExpfmtCase>& cases) {
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const ExpfmtCase& c = cases[i];
    ExpositionParser parser(ExpositionFormat::prometheus);
    Ignore ignore;
    const ParseReport report = parser.parse(c.input, ignore);
    BOOST_TEST_CONTEXT("case " << i << ": \"" << show(c.input) << "\"") {
      if (c.error_line == 0) {
        BOOST_TEST(report.ok(), "expfmt reads it; trimtab reports " << first_error(report));
      } else if (report.ok()) {
        BOOST_ERROR("expfmt rejects it (line " << c.error_line << "); trimtab reads it");
      } else {
        BOOST_TEST(report.errors.front().line == c.error_line, "trimtab's first error: " << first_error(report));
      }
    }
  }
}

// ---- reading expfmt's test file ----------------------------------------------------------------

constexpr const char* expfmt_test_file =
    "/usr/share/gocode/src/github.com/prometheus/common/expfmt/text_parse_test.go";

// A Go string literal at `p` (raw `...` or interpreted "..."), decoded; `p` ends past it.
std::string go_string(std::string_view source, std::size_t& p) {
  const char quote = source[p++];
  std::string out;
  if (quote == '`') {
    const std::size_t close = source.find('`', p);
    if (close == std::string_view::npos) throw std::runtime_error("unterminated raw string");
    for (const char c : source.substr(p, close - p))
      if (c != '\r') out += c; // Go drops carriage returns from raw strings
    p = close + 1;
    return out;
  }
  const auto hex_digit = [](char c) {
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
  };
  while (p < source.size() && source[p] != quote) {
    char c = source[p++];
    if (c != '\\') {
      out += c;
      continue;
    }
    c = source[p++];
    switch (c) {
    case 'n': out += '\n'; break;
    case 't': out += '\t'; break;
    case 'r': out += '\r'; break;
    case 'a': out += '\a'; break;
    case 'b': out += '\b'; break;
    case 'f': out += '\f'; break;
    case 'v': out += '\v'; break;
    case 'x': // a byte, not a code point
      out += static_cast<char>(hex_digit(source[p]) * 16 + hex_digit(source[p + 1]));
      p += 2;
      break;
    case 'u':
    case 'U': {
      const std::size_t digits = c == 'u' ? 4 : 8;
      unsigned long code = std::stoul(std::string(source.substr(p, digits)), nullptr, 16);
      p += digits;
      if (code < 0x80) out += static_cast<char>(code);
      else if (code < 0x800) {
        out += static_cast<char>(0xc0 | (code >> 6));
        out += static_cast<char>(0x80 | (code & 0x3f));
      } else if (code < 0x10000) {
        out += static_cast<char>(0xe0 | (code >> 12));
        out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (code & 0x3f));
      } else {
        out += static_cast<char>(0xf0 | (code >> 18));
        out += static_cast<char>(0x80 | ((code >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((code >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (code & 0x3f));
      }
      break;
    }
    default:
      if (c >= '0' && c <= '7') { // three octal digits
        out += static_cast<char>((c - '0') * 64 + (source[p] - '0') * 8 + (source[p + 1] - '0'));
        p += 2;
      } else {
        out += c; // \\, \", \'
      }
    }
  }
  ++p;
  return out;
}

struct KeyedString {
  std::string key; // the field the literal is the value of (`in`, `err`), or empty
  std::string value;
};

// The string literals of a Go function's body, each with the struct field it initialises.
std::vector<KeyedString> keyed_strings(std::string_view source, std::string_view function) {
  const std::size_t start = source.find("func " + std::string(function) + "(");
  if (start == std::string_view::npos) throw std::runtime_error("no function " + std::string(function));
  const std::size_t stop = source.find("\nfunc ", start + 1);
  const std::string_view body = source.substr(start, stop == std::string_view::npos ? std::string_view::npos : stop - start);
  std::vector<KeyedString> out;
  for (std::size_t p = 0; p < body.size();) {
    if (body.substr(p, 2) == "//") {
      p = body.find('\n', p);
      if (p == std::string_view::npos) break;
      continue;
    }
    const char c = body[p];
    if (c != '`' && c != '"' && c != '\'') {
      ++p;
      continue;
    }
    std::size_t k = p;
    while (k > 0 && (body[k - 1] == ' ' || body[k - 1] == '\t')) --k;
    std::string key;
    if (k > 0 && body[k - 1] == ':') {
      std::size_t b = k - 1;
      while (b > 0 && (std::isalnum(static_cast<unsigned char>(body[b - 1])) || body[b - 1] == '_')) --b;
      key = std::string(body.substr(b, k - 1 - b));
    }
    std::string value = go_string(body, p);
    if (c != '\'') out.push_back({std::move(key), std::move(value)});
  }
  return out;
}

std::vector<ExpfmtCase> read_expfmt_cases(std::string_view source) {
  std::vector<ExpfmtCase> cases;
  for (auto& s : keyed_strings(source, "testTextParse"))
    if (s.key == "in") cases.push_back({std::move(s.value), 0});
  std::optional<std::string> input;
  for (auto& s : keyed_strings(source, "testTextParseError")) {
    if (s.key == "in") input = std::move(s.value);
    if (s.key != "err" || !input) continue;
    const std::size_t at = s.value.find("line ");
    if (at == std::string::npos) throw std::runtime_error("no line in expected error \"" + s.value + "\"");
    cases.push_back({std::move(*input), std::stoul(s.value.substr(at + 5))});
    input.reset();
  }
  return cases;
}

} // namespace

BOOST_AUTO_TEST_SUITE(expfmt_agreement)

// expfmt's test inputs as of golang-github-prometheus-common-dev 0.39.0 (Debian 12): the five of
// TestTextParse, then the 35 of TestTextParseError, each with its expected error.
BOOST_AUTO_TEST_CASE(gives_expfmts_verdict_on_its_test_inputs) {
  const std::vector<ExpfmtCase> cases{
    {"\n"
      "\n", 0},
    {"\n"
      "minimal_metric 1.234\n"
      "another_metric -3e3 103948\n"
      "# Even that:\n"
      "no_labels{} 3\n"
      "# HELP line for non-existing metric will be ignored.\n", 0},
    {"\n"
      "# A normal comment.\n"
      "#\n"
      "# TYPE name counter\n"
      "name{labelname=\"val1\",basename=\"basevalue\"} NaN\n"
      "name {labelname=\"val2\",basename=\"base\\\"v\\\\al\\nue\"} 0.23 1234567890\n"
      "# HELP name two-line\\n doc  str\\\\ing\n"
      "\n"
      " # HELP  name2  \tdoc str\"ing 2\n"
      "  #    TYPE    name2 gauge\n"
      "name2{labelname=\"val2\"\t,basename   =   \"basevalue2\"\t\t} +Inf 54321\n"
      "name2{ labelname = \"val1\" , }-Inf\n", 0},
    {"\n"
      "# TYPE my_summary summary\n"
      "my_summary{n1=\"val1\",quantile=\"0.5\"} 110\n"
      "decoy -1 -2\n"
      "my_summary{n1=\"val1\",quantile=\"0.9\"} 140 1\n"
      "my_summary_count{n1=\"val1\"} 42\n"
      "# Latest timestamp wins in case of a summary.\n"
      "my_summary_sum{n1=\"val1\"} 4711 2\n"
      "fake_sum{n1=\"val1\"} 2001\n"
      "# TYPE another_summary summary\n"
      "another_summary_count{n2=\"val2\",n1=\"val1\"} 20\n"
      "my_summary_count{n2=\"val2\",n1=\"val1\"} 5 5\n"
      "another_summary{n1=\"val1\",n2=\"val2\",quantile=\".3\"} -1.2\n"
      "my_summary_sum{n1=\"val2\"} 08 15\n"
      "my_summary{n1=\"val3\", quantile=\"0.2\"} 4711\n"
      "  my_summary{n1=\"val1\",n2=\"val2\",quantile=\"-12.34\",} NaN\n"
      "# some\n"
      "# funny comments\n"
      "# HELP \n"
      "# HELP\n"
      "# HELP my_summary\n"
      "# HELP my_summary \n", 0},
    {"\n"
      "# HELP request_duration_microseconds The response latency.\n"
      "# TYPE request_duration_microseconds histogram\n"
      "request_duration_microseconds_bucket{le=\"100\"} 123\n"
      "request_duration_microseconds_bucket{le=\"120\"} 412\n"
      "request_duration_microseconds_bucket{le=\"144\"} 592\n"
      "request_duration_microseconds_bucket{le=\"172.8\"} 1524\n"
      "request_duration_microseconds_bucket{le=\"+Inf\"} 2693\n"
      "request_duration_microseconds_sum 1.7560473e+06\n"
      "request_duration_microseconds_count 2693\n", 0},
    // text format parsing error in line 3: unexpected end of input stream
    {"\n"
      "bla 3.14\n"
      "blubber 42", 3},
    // text format parsing error in line 1: invalid escape sequence
    {"metric{label=\"\\t\"} 3.14", 1},
    // text format parsing error in line 2: label value "new" contains unescaped new-line
    {"\n"
      "metric{label=\"new\n"
      "line\"} 3.14\n", 2},
    // text format parsing error in line 1: invalid label name for metric
    {"metric{@=\"bla\"} 3.14", 1},
    // text format parsing error in line 1: label name "__name__" is reserved
    {"metric{__name__=\"bla\"} 3.14", 1},
    // text format parsing error in line 1: expected '=' after label name
    {"metric{label+=\"bla\"} 3.14", 1},
    // text format parsing error in line 1: expected '"' at start of label value
    {"metric{label=bla} 3.14", 1},
    // text format parsing error in line 3: expected float as value for 'quantile' label
    {"\n"
      "# TYPE metric summary\n"
      "metric{quantile=\"bla\"} 3.14\n", 3},
    // text format parsing error in line 1: unexpected end of label value
    {"metric{label=\"bla\"+} 3.14", 1},
    // text format parsing error in line 1: expected integer as timestamp
    {"metric{label=\"bla\"} 3.14 2.72\n", 1},
    // text format parsing error in line 1: spurious string after timestamp
    {"metric{label=\"bla\"} 3.14 2 3\n", 1},
    // text format parsing error in line 1: expected float as value
    {"metric{label=\"bla\"} blubb\n", 1},
    // text format parsing error in line 3: second HELP line for metric name
    {"\n"
      "# HELP metric one\n"
      "# HELP metric two\n", 3},
    // text format parsing error in line 3: second TYPE line for metric name "metric", or TYPE reported after samples
    {"\n"
      "# TYPE metric counter\n"
      "# TYPE metric untyped\n", 3},
    // text format parsing error in line 3: second TYPE line for metric name "metric", or TYPE reported after samples
    {"\n"
      "metric 4.12\n"
      "# TYPE metric counter\n", 3},
    // text format parsing error in line 2: unknown metric type
    {"\n"
      "# TYPE metric bla\n", 2},
    // text format parsing error in line 2: invalid metric name in comment
    {"\n"
      "# TYPE met-ric\n", 2},
    // text format parsing error in line 1: invalid metric name
    {"@invalidmetric{label=\"bla\"} 3.14 2", 1},
    // text format parsing error in line 1: invalid metric name
    {"{label=\"bla\"} 3.14 2", 1},
    // text format parsing error in line 3: expected float as value for 'le' label
    {"\n"
      "# TYPE metric histogram\n"
      "metric_bucket{le=\"bla\"} 3.14\n", 3},
    // text format parsing error in line 1: invalid label value "\xbd"
    {"metric{l=\"\xbd""\"} 3.14\n", 1},
    // text format parsing error in line 1: expected float as value
    {"foo 1_2\n", 1},
    // text format parsing error in line 1: expected float as value
    {"foo 0x1p-3\n", 1},
    // text format parsing error in line 1: expected float as value
    {"foo 0x1P-3\n", 1},
    // text format parsing error in line 1: expected float as value
    {"foo 0B1\n", 1},
    // text format parsing error in line 1: expected float as value
    {"foo 0O1\n", 1},
    // text format parsing error in line 1: expected float as value
    {"foo 0X1\n", 1},
    // text format parsing error in line 1: expected float as value
    {"foo 0x1\n", 1},
    // text format parsing error in line 1: expected float as value
    {"foo 0b1\n", 1},
    // text format parsing error in line 1: expected float as value
    {"foo 0o1\n", 1},
    // text format parsing error in line 1: expected float as value
    {"foo 0x1\n", 1},
    // text format parsing error in line 1: expected float as value
    {"foo 0x1\n", 1},
    // text format parsing error in line 3: expected float as value for 'le' label
    {"\n"
      "# TYPE metric histogram\n"
      "metric_bucket{le=\"0x1p-3\"} 3.14\n", 3},
    // text format parsing error in line 3: expected float as value for 'quantile' label
    {"\n"
      "# TYPE metric summary\n"
      "metric{quantile=\"0x1p-3\"} 3.14\n", 3},
    // text format parsing error in line 1: duplicate label names for metric
    {"metric{label=\"bla\",label=\"bla\"} 3.14", 1},
  };
  BOOST_TEST_REQUIRE(cases.size() == 40u);
  check_verdicts(cases);
}

BOOST_AUTO_TEST_CASE(gives_expfmts_verdict_on_the_installed_expfmt_tests) {
  std::ifstream in(expfmt_test_file, std::ios::binary);
  if (!in) {
    BOOST_WARN_MESSAGE(false, "skipped: " << expfmt_test_file
                                          << " is not there (Debian package golang-github-prometheus-common-dev)");
    return;
  }
  const std::string source((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::vector<ExpfmtCase> cases = read_expfmt_cases(source);
  std::size_t valid = 0;
  for (const auto& c : cases) valid += c.error_line == 0;
  BOOST_TEST_MESSAGE("expfmt's tests: " << valid << " valid inputs, " << cases.size() - valid << " invalid");
  // Enough to know the file was understood: 0.39.0 has 5 and 35.
  BOOST_TEST(valid >= 5u);
  BOOST_TEST(cases.size() - valid >= 35u);
  check_verdicts(cases);
}

BOOST_AUTO_TEST_CASE(reads_go_string_literals_as_go_does) {
  const std::string source = "func testTextParseError(t testing.TB) {\n"
                             "  // in: \"a comment is no literal\"\n"
                             "  {in:  \"a\\tb\\\\\\\"\\x41\\xbd\\101\\u00e9\\n\", err: \"error in line 7: x\"},\n"
                             "  {in: `raw \\n\r\nline`,\n err: `line 12`},\n"
                             "}\nfunc testTextParse(t testing.TB) {\n  {in: ``}\n}\n";
  const auto cases = read_expfmt_cases(source);
  BOOST_TEST_REQUIRE(cases.size() == 3u);
  BOOST_TEST(cases[0].input == "");
  BOOST_TEST(cases[0].error_line == 0u);
  BOOST_TEST(cases[1].input == "a\tb\\\"A\xbd" "A\xc3\xa9\n");
  BOOST_TEST(cases[1].error_line == 7u);
  BOOST_TEST(cases[2].input == "raw \\n\nline");
  BOOST_TEST(cases[2].error_line == 12u);
}

BOOST_AUTO_TEST_SUITE_END()
