#include <boost/test/unit_test.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <trimtab/core/json_scrape.hpp>
#include <trimtab/core/signal.hpp>
#include <trimtab/core/window.hpp>

using namespace trimtab;

namespace {

// Reads JSON documents through the real reader into one window.
struct Harness {
  explicit Harness(std::vector<SignalSpec> specs) : reader(specs), window(std::move(specs)) {}

  // The problems the document had; its scrape is in the window.
  std::vector<std::string> scrape(double time_seconds, std::string_view json) {
    auto result = reader.read(json, time_seconds);
    BOOST_REQUIRE_MESSAGE(result.ok(), result.error);
    window.add(std::move(result.scrape));
    return result.problems;
  }

  JsonScrapeReader reader;
  Window window;
};

void check_samples(const std::vector<double>& actual, const std::vector<double>& expected) {
  BOOST_REQUIRE_EQUAL(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) BOOST_CHECK_CLOSE(actual[i], expected[i], 1e-9);
}

void check_value(const std::optional<double>& actual, double expected) {
  BOOST_REQUIRE(actual.has_value());
  BOOST_CHECK_CLOSE(*actual, expected, 1e-9);
}

// The message construction throws for `specs`, or "" when it does not.
std::string construction_error(const std::vector<SignalSpec>& specs) {
  try {
    const JsonScrapeReader reader(specs);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

} // namespace

BOOST_AUTO_TEST_SUITE(json_scrape)

BOOST_AUTO_TEST_CASE(rates_gauges_and_ratios_over_documents_with_a_counter_reset) {
  Harness h({SignalSpec::rate("rps", "stats.requests_total"), SignalSpec::rate("errors", "stats.errors_total"),
             SignalSpec::ratio("error_ratio", "errors", "rps"),
             SignalSpec::gauge("busy", "pools[0].busy", GaugeReduce::mean),
             SignalSpec::gauge("busy_max", "pools[0].busy", GaugeReduce::max),
             SignalSpec::gauge("hits_k", "caches[\"l1.hits\"]", GaugeReduce::last, {}, 1e-3)});
  BOOST_CHECK(h.scrape(0, R"({"stats": {"requests_total": 100, "errors_total": 0},
                              "pools": [{"busy": 2}, {"busy": 9}], "caches": {"l1.hits": 1000}})")
                  .empty());
  BOOST_CHECK(h.scrape(10, R"({"stats": {"requests_total": 300, "errors_total": 10},
                               "pools": [{"busy": 4}], "caches": {"l1.hits": 1500}})")
                  .empty());
  // The service restarted: its counters start again from zero.
  BOOST_CHECK(h.scrape(20, R"({"stats": {"requests_total": 50, "errors_total": 2},
                               "pools": [{"busy": 6}], "caches": {"l1.hits": 200}})")
                  .empty());
  BOOST_CHECK(h.scrape(30, R"({"stats": {"requests_total": 250.0, "errors_total": 2},
                               "pools": [{"busy": 8}], "caches": {"l1.hits": 2500}})")
                  .empty());
  // Requests: +200, +50 (the reset: the new value), +200 -> 450 over 30 s.
  check_samples(h.window.samples("rps"), {20.0, 5.0, 20.0});
  check_value(h.window.value("rps"), 15.0);
  // Errors: +10, +2 (reset), +0 -> 12 over 30 s.
  check_samples(h.window.samples("errors"), {1.0, 0.2, 0.0});
  check_value(h.window.value("errors"), 0.4);
  check_samples(h.window.samples("error_ratio"), {0.05, 0.04, 0.0});
  check_value(h.window.value("error_ratio"), 12.0 / 450.0);
  check_samples(h.window.samples("busy"), {2.0, 4.0, 6.0, 8.0});
  check_value(h.window.value("busy"), 5.0);
  check_value(h.window.value("busy_max"), 8.0);
  check_value(h.window.value("hits_k"), 2.5);
}

BOOST_AUTO_TEST_CASE(a_missing_path_leaves_the_signal_out_and_says_why) {
  Harness h({SignalSpec::rate("rps", "stats.requests_total"),
             SignalSpec::gauge("requests_seen", "stats.requests_total", GaugeReduce::last),
             SignalSpec::gauge("busy", "pools[0].busy", GaugeReduce::mean),
             SignalSpec::gauge("idle", "pools[0].idle", GaugeReduce::mean)});
  BOOST_CHECK(h.scrape(0, R"({"stats": {"requests_total": 100}, "pools": [{"busy": 2, "idle": 1}]})").empty());

  JsonScrapeReader reader(h.window.specs());
  const auto result = reader.read(R"({"stats": {}, "pools": [], "extra": 1})", 10);
  BOOST_REQUIRE(result.ok());
  BOOST_CHECK(result.scrape.values.empty());
  BOOST_CHECK_EQUAL(result.scrape.time_seconds, 10.0);
  // Two signals read the same path: each is named.
  BOOST_REQUIRE_EQUAL(result.problems.size(), 4U);
  BOOST_CHECK_EQUAL(result.problems[0],
                    "signal 'rps' (stats.requests_total): 'requests_total' is not in the object at 'stats'");
  BOOST_CHECK_EQUAL(result.problems[1],
                    "signal 'requests_seen' (stats.requests_total): 'requests_total' is not in the object at 'stats'");
  BOOST_CHECK_EQUAL(result.problems[2],
                    "signal 'busy' (pools[0].busy): index 0 is past the end of the array at 'pools' (0 elements)");
  BOOST_CHECK(contains(result.problems[3], "signal 'idle' (pools[0].idle): "));
  h.window.add(result.scrape);

  const auto problems = h.scrape(20, R"({"stats": {"requests_total": 160}, "pools": [{"busy": 4, "idle": "n/a"}]})");
  BOOST_REQUIRE_EQUAL(problems.size(), 1U);
  BOOST_CHECK_EQUAL(problems[0], "signal 'idle' (pools[0].idle): 'pools[0].idle' is a string, not a number");

  // Gauges skip the scrape without a value: busy is the mean of 2 and 4, idle is its one reading.
  check_samples(h.window.samples("busy"), {2.0, 4.0});
  check_value(h.window.value("busy"), 3.0);
  check_value(h.window.value("idle"), 1.0);
  check_value(h.window.value("requests_seen"), 160.0);
  // As for a Prometheus series that vanishes for a scrape: the counter stops counting, then comes
  // back as a baseline, so neither interval has an increase.
  check_samples(h.window.samples("rps"), {0.0, 0.0});
}

BOOST_AUTO_TEST_CASE(malformed_json_is_an_error_with_its_location_and_no_values) {
  const JsonScrapeReader reader(std::vector<SignalSpec>{SignalSpec::gauge("busy", "stats.busy", GaugeReduce::mean)});

  const auto trailing_comma = reader.read("{\n  \"stats\": {\"busy\": 1,}\n}", 5);
  BOOST_CHECK(!trailing_comma.ok());
  BOOST_CHECK(trailing_comma.scrape.values.empty());
  BOOST_CHECK(trailing_comma.problems.empty());
  BOOST_CHECK_EQUAL(trailing_comma.scrape.time_seconds, 5.0);
  // The '}' after the comma: line 2, column 23, 24 bytes in.
  BOOST_CHECK_MESSAGE(contains(trailing_comma.error, "malformed JSON at line 2, column 23 (offset 24): "),
                      trailing_comma.error);

  const auto cut_short = reader.read(R"({"stats": {"busy": 1)", 5);
  BOOST_CHECK(!cut_short.ok());
  BOOST_CHECK_MESSAGE(contains(cut_short.error, "line 1, column 21 (offset 20)"), cut_short.error);

  const auto two_documents = reader.read(R"({"stats": {"busy": 1}} {})", 5);
  BOOST_CHECK(!two_documents.ok());
  BOOST_CHECK_MESSAGE(contains(two_documents.error, "line 1, column 24 (offset 23)"), two_documents.error);

  const auto empty = reader.read("", 5);
  BOOST_CHECK(!empty.ok());
  BOOST_CHECK(empty.scrape.values.empty());

  // Whitespace around a document is fine.
  const auto padded = reader.read("\n {\"stats\": {\"busy\": 3}}\n\n", 5);
  BOOST_REQUIRE_MESSAGE(padded.ok(), padded.error);
  BOOST_CHECK_EQUAL(padded.scrape.values.at("stats.busy").at(SeriesLabels{}), 3.0);
}

BOOST_AUTO_TEST_CASE(signals_that_cannot_read_json_are_rejected_by_name) {
  using Specs = std::vector<SignalSpec>;
  auto error = construction_error(Specs{SignalSpec::rate("rps", "stats.requests"),
                                        SignalSpec::quantile("p99", "latency_seconds", 0.99)});
  BOOST_CHECK_MESSAGE(contains(error, "signal 'p99'") && contains(error, "quantile"), error);

  error = construction_error(Specs{SignalSpec::summary_quantile("p50", "latency_seconds", 0.5)});
  BOOST_CHECK_MESSAGE(contains(error, "signal 'p50'"), error);

  // The second '.' leaves an empty key: JsonPath says column 7.
  error = construction_error(Specs{SignalSpec::gauge("busy", "stats..busy", GaugeReduce::mean)});
  BOOST_CHECK_MESSAGE(contains(error, "signal 'busy'") && contains(error, "column 7"), error);

  error = construction_error(Specs{SignalSpec::rate("errors", "stats.requests", {{"code", LabelMatcher::Op::equal, "500"}})});
  BOOST_CHECK_MESSAGE(contains(error, "signal 'errors'") && contains(error, "label"), error);

  // validate_signal_specs runs first.
  error = construction_error(Specs{SignalSpec::ratio("r", "rps", "missing"), SignalSpec::rate("rps", "stats.requests")});
  BOOST_CHECK_MESSAGE(contains(error, "'missing'"), error);

  BOOST_CHECK_EQUAL(construction_error(Specs{SignalSpec::rate("rps", "stats.requests"),
                                             SignalSpec::gauge("busy", "workers[0].busy", GaugeReduce::max),
                                             SignalSpec::ratio("per_busy", "rps", "busy")}),
                    "");
}

BOOST_AUTO_TEST_SUITE_END()
