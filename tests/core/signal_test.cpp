#include <boost/test/unit_test.hpp>

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <trimtab/core/exposition_parser.hpp>
#include <trimtab/core/scrape.hpp>
#include <trimtab/core/signal.hpp>
#include <trimtab/core/window.hpp>

using namespace trimtab;

namespace {

using Op = LabelMatcher::Op;

// Scrapes exposition texts through the real parser into one window.
struct Harness {
  explicit Harness(std::vector<SignalSpec> specs) : collector(specs), window(std::move(specs)) {}

  void scrape(double time_seconds, std::string_view text) {
    collector.start(time_seconds);
    const ParseReport report = parser.parse(text, collector);
    BOOST_REQUIRE(report.ok());
    window.add(collector.finish());
  }

  ExpositionParser parser;
  ScrapeCollector collector;
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

} // namespace

BOOST_AUTO_TEST_SUITE(signal)

BOOST_AUTO_TEST_CASE(rate_sums_series_and_handles_a_reset_in_one) {
  Harness h({SignalSpec::rate("rps", "requests_total")});
  h.scrape(0, "# TYPE requests_total counter\n"
              "requests_total{instance=\"a\"} 100\n"
              "requests_total{instance=\"b\"} 50\n"
              "other_total 1\n");
  // b restarted: 50 -> 10 is a reset, so its increase is 10. c appears: a baseline, not an increase.
  h.scrape(10, "requests_total{instance=\"b\"} 10\n"
               "requests_total{instance=\"a\"} 160\n"
               "requests_total{instance=\"c\"} 5\n"
               "other_total 1000\n");
  h.scrape(20, "requests_total{instance=\"a\"} 200\n"
               "requests_total{instance=\"b\"} 30\n"
               "requests_total{instance=\"c\"} 8\n");
  // a: 60 + 40, b: 10 + 20, c: 3 -> 133 over 20 s.
  check_value(h.window.value("rps"), 6.65);
  check_samples(h.window.samples("rps"), {7.0, 6.3});
}

BOOST_AUTO_TEST_CASE(collector_keeps_only_needed_series) {
  const std::vector<SignalSpec> specs{SignalSpec::rate("errors", "requests_total", {{"code", Op::regex, "5.."}})};
  ScrapeCollector collector(specs);
  ExpositionParser parser;
  collector.start(1.5);
  BOOST_REQUIRE(parser.parse("requests_total{code=\"200\",path=\"/\"} 1\n"
                             "requests_total{path=\"/\",code=\"500\"} 2\n"
                             "unrelated 3\n",
                             collector)
                    .ok());
  const Scrape scrape = collector.finish();
  BOOST_CHECK_EQUAL(scrape.time_seconds, 1.5);
  BOOST_REQUIRE_EQUAL(scrape.values.size(), 1U);
  const auto& series = scrape.values.at("requests_total");
  BOOST_REQUIRE_EQUAL(series.size(), 1U);
  const SeriesLabels sorted{{"code", "500"}, {"path", "/"}};
  BOOST_CHECK_EQUAL(series.at(sorted), 2.0);
  BOOST_CHECK(collector.finish().values.empty());
}

BOOST_AUTO_TEST_CASE(rate_with_label_matchers) {
  Harness h({
      SignalSpec::rate("errors", "http_requests_total", {{"code", Op::regex, "5.."}}),
      SignalSpec::rate("non_200", "http_requests_total", {{"code", Op::not_equal, "200"}}),
      SignalSpec::rate("get_ok", "http_requests_total", {{"code", Op::equal, "200"}, {"method", Op::equal, "GET"}}),
      SignalSpec::rate("not_5xx", "http_requests_total", {{"code", Op::not_regex, "5.."}}),
      SignalSpec::rate("code_5", "http_requests_total", {{"code", Op::regex, "5"}}),
  });
  h.scrape(0, "http_requests_total{code=\"200\",method=\"GET\"} 100\n"
              "http_requests_total{code=\"500\",method=\"GET\"} 5\n"
              "http_requests_total{code=\"503\",method=\"POST\"} 1\n"
              "http_requests_total{code=\"404\",method=\"GET\"} 10\n"
              "http_requests_total{method=\"PUT\"} 0\n");
  h.scrape(10, "http_requests_total{code=\"200\",method=\"GET\"} 200\n"
               "http_requests_total{code=\"500\",method=\"GET\"} 9\n"
               "http_requests_total{code=\"503\",method=\"POST\"} 3\n"
               "http_requests_total{code=\"404\",method=\"GET\"} 12\n"
               "http_requests_total{method=\"PUT\"} 7\n");
  // Increases: 200 +100, 500 +4, 503 +2, 404 +2, no code +7 (an absent label reads as "").
  check_value(h.window.value("errors"), 0.6);
  check_value(h.window.value("non_200"), 1.5);
  check_value(h.window.value("get_ok"), 10.0);
  check_value(h.window.value("not_5xx"), 10.9);
  // A regex matches the whole value: "5" matches no code, and a rate over no series is 0.
  check_value(h.window.value("code_5"), 0.0);
}

BOOST_AUTO_TEST_CASE(quantile_from_bucket_deltas) {
  Harness h({SignalSpec::quantile("p50_ms", "latency_seconds", 0.5, {}, 1000),
             SignalSpec::quantile("p99_ms", "latency_seconds", 0.99, {}, 1000)});
  h.scrape(0, "# TYPE latency_seconds histogram\n"
              "latency_seconds_bucket{instance=\"a\",le=\"0.1\"} 10\n"
              "latency_seconds_bucket{instance=\"a\",le=\"0.25\"} 20\n"
              "latency_seconds_bucket{instance=\"a\",le=\"0.5\"} 30\n"
              "latency_seconds_bucket{instance=\"a\",le=\"1\"} 40\n"
              "latency_seconds_bucket{instance=\"a\",le=\"+Inf\"} 40\n"
              "latency_seconds_sum{instance=\"a\"} 12\n"
              "latency_seconds_count{instance=\"a\"} 40\n"
              "latency_seconds_bucket{le=\"0.1\",instance=\"b\"} 0\n"
              "latency_seconds_bucket{le=\"0.25\",instance=\"b\"} 0\n"
              "latency_seconds_bucket{le=\"0.5\",instance=\"b\"} 0\n"
              "latency_seconds_bucket{le=\"1\",instance=\"b\"} 0\n"
              "latency_seconds_bucket{le=\"+Inf\",instance=\"b\"} 0\n");
  h.scrape(10, "latency_seconds_bucket{instance=\"a\",le=\"0.1\"} 20\n"
               "latency_seconds_bucket{instance=\"a\",le=\"0.25\"} 40\n"
               "latency_seconds_bucket{instance=\"a\",le=\"0.5\"} 60\n"
               "latency_seconds_bucket{instance=\"a\",le=\"1\"} 70\n"
               "latency_seconds_bucket{instance=\"a\",le=\"+Inf\"} 70\n"
               "latency_seconds_bucket{instance=\"b\",le=\"0.1\"} 10\n"
               "latency_seconds_bucket{instance=\"b\",le=\"0.25\"} 20\n"
               "latency_seconds_bucket{instance=\"b\",le=\"0.5\"} 30\n"
               "latency_seconds_bucket{instance=\"b\",le=\"1\"} 30\n"
               "latency_seconds_bucket{instance=\"b\",le=\"+Inf\"} 30\n");
  // Interval 1, summed deltas: 0.1:20 0.25:40 0.5:60 1:60 +Inf:60.
  // p50: rank 30 lies in (0.1, 0.25], which holds 20 from 20: 0.1 + 0.15 * 10/20 = 0.175 s.
  // p99: rank 59.4 lies in (0.25, 0.5], which holds 20 from 40: 0.25 + 0.25 * 19.4/20 = 0.4925 s.
  check_value(h.window.value("p50_ms"), 175.0);
  check_value(h.window.value("p99_ms"), 492.5);

  // b resets (every bucket lower: its deltas are its new counts); a sees 10 slow requests.
  h.scrape(20, "latency_seconds_bucket{instance=\"a\",le=\"0.1\"} 20\n"
               "latency_seconds_bucket{instance=\"a\",le=\"0.25\"} 40\n"
               "latency_seconds_bucket{instance=\"a\",le=\"0.5\"} 60\n"
               "latency_seconds_bucket{instance=\"a\",le=\"1\"} 70\n"
               "latency_seconds_bucket{instance=\"a\",le=\"+Inf\"} 80\n"
               "latency_seconds_bucket{instance=\"b\",le=\"0.1\"} 5\n"
               "latency_seconds_bucket{instance=\"b\",le=\"0.25\"} 5\n"
               "latency_seconds_bucket{instance=\"b\",le=\"0.5\"} 5\n"
               "latency_seconds_bucket{instance=\"b\",le=\"1\"} 5\n"
               "latency_seconds_bucket{instance=\"b\",le=\"+Inf\"} 5\n");
  // Interval 2: 5 5 5 5 15. Both ranks (7.5, 14.85) fall in +Inf: the highest finite bound, 1 s.
  check_samples(h.window.samples("p50_ms"), {175.0, 1000.0});
  check_samples(h.window.samples("p99_ms"), {492.5, 1000.0});
  // Window: 25 45 65 65 75. p50: rank 37.5 in (0.1, 0.25]: 0.1 + 0.15 * 12.5/20 = 0.19375 s.
  // p99: rank 74.25 in +Inf: 1 s.
  check_value(h.window.value("p50_ms"), 193.75);
  check_value(h.window.value("p99_ms"), 1000.0);
}

BOOST_AUTO_TEST_CASE(quantile_when_bucket_layout_changes) {
  Harness h({SignalSpec::quantile("p50", "latency_seconds", 0.5)});
  h.scrape(0, "latency_seconds_bucket{le=\"0.1\"} 0\n"
              "latency_seconds_bucket{le=\"0.5\"} 0\n"
              "latency_seconds_bucket{le=\"+Inf\"} 0\n");
  h.scrape(10, "latency_seconds_bucket{le=\"0.1\"} 10\n"
               "latency_seconds_bucket{le=\"0.5\"} 30\n"
               "latency_seconds_bucket{le=\"+Inf\"} 40\n");
  // A 0.25 bucket appears (the service was redeployed with a finer layout).
  h.scrape(20, "latency_seconds_bucket{le=\"0.1\"} 20\n"
               "latency_seconds_bucket{le=\"0.25\"} 35\n"
               "latency_seconds_bucket{le=\"0.5\"} 50\n"
               "latency_seconds_bucket{le=\"+Inf\"} 60\n");
  h.scrape(30, "latency_seconds_bucket{le=\"0.1\"} 30\n"
               "latency_seconds_bucket{le=\"0.25\"} 50\n"
               "latency_seconds_bucket{le=\"0.5\"} 70\n"
               "latency_seconds_bucket{le=\"+Inf\"} 80\n");
  // Interval 1: 0.1:10 0.5:30 +Inf:40 -> rank 20 in (0.1, 0.5]: 0.1 + 0.4 * 10/20 = 0.3.
  // Interval 2 uses the bounds in both scrapes, 0.1:10 0.5:20 +Inf:20 -> rank 10 ends (0, 0.1]: 0.1.
  // Interval 3: 0.1:10 0.25:15 0.5:20 +Inf:20 -> rank 10 ends (0, 0.1]: 0.1.
  check_samples(h.window.samples("p50"), {0.3, 0.1, 0.1});
  // The window keeps the bounds every interval has: 0.1:30 0.5:70 +Inf:80 -> rank 40 in
  // (0.1, 0.5], which holds 40 from 30: 0.1 + 0.4 * 10/40 = 0.2. (Summing 0.25's 15 from one
  // interval alongside the others' 70 would have said 0.3125.)
  check_value(h.window.value("p50"), 0.2);

  // The 0.5 bucket disappears: the interval uses 0.1, 0.25 and +Inf.
  h.scrape(40, "latency_seconds_bucket{le=\"0.1\"} 31\n"
               "latency_seconds_bucket{le=\"0.25\"} 60\n"
               "latency_seconds_bucket{le=\"+Inf\"} 90\n");
  // Interval 4: 0.1:1 0.25:10 +Inf:10 -> rank 5 in (0.1, 0.25]: 0.1 + 0.15 * 4/9.
  const auto samples = h.window.samples("p50");
  BOOST_REQUIRE_EQUAL(samples.size(), 4U);
  BOOST_CHECK_CLOSE(samples[3], 0.1 + 0.15 * 4.0 / 9.0, 1e-9);
  // Window bounds now 0.1 and +Inf only: 31 and 90 -> rank 45 in +Inf: 0.1.
  check_value(h.window.value("p50"), 0.1);
}

BOOST_AUTO_TEST_CASE(quantile_needs_inf_bucket_and_observations) {
  Harness h({SignalSpec::quantile("p50", "latency_seconds", 0.5)});
  h.scrape(0, "latency_seconds_bucket{le=\"0.1\"} 1\nlatency_seconds_bucket{le=\"+Inf\"} 2\n");
  h.scrape(10, "latency_seconds_bucket{le=\"0.1\"} 1\nlatency_seconds_bucket{le=\"+Inf\"} 2\n");
  BOOST_CHECK(!h.window.value("p50").has_value());
  BOOST_CHECK(h.window.samples("p50").empty());

  Harness no_inf({SignalSpec::quantile("p50", "latency_seconds", 0.5)});
  no_inf.scrape(0, "latency_seconds_bucket{le=\"0.1\"} 1\nlatency_seconds_bucket{le=\"1\"} 2\n");
  no_inf.scrape(10, "latency_seconds_bucket{le=\"0.1\"} 5\nlatency_seconds_bucket{le=\"1\"} 9\n");
  BOOST_CHECK(!no_inf.window.value("p50").has_value());
}

BOOST_AUTO_TEST_CASE(summary_quantile_is_max_across_replicas_then_mean_over_scrapes) {
  Harness h({SignalSpec::summary_quantile("p99_ms", "rpc_seconds", 0.99, {}, 1000),
             SignalSpec::summary_quantile("p50_ms", "rpc_seconds", 0.5, {}, 1000),
             SignalSpec::summary_quantile("p99_a_ms", "rpc_seconds", 0.99, {{"instance", Op::equal, "a"}}, 1000)});
  // b writes its quantiles in exponent form, as some clients do.
  h.scrape(0, "# TYPE rpc_seconds summary\n"
              "rpc_seconds{instance=\"a\",quantile=\"0.5\"} 0.01\n"
              "rpc_seconds{instance=\"a\",quantile=\"0.99\"} 0.2\n"
              "rpc_seconds_sum{instance=\"a\"} 12\n"
              "rpc_seconds_count{instance=\"a\"} 100\n"
              "rpc_seconds{instance=\"b\",quantile=\"5e-01\"} 0.02\n"
              "rpc_seconds{instance=\"b\",quantile=\"9.9e-01\"} 0.3\n");
  // b restarted and has no observations yet: its quantiles are NaN.
  h.scrape(10, "rpc_seconds{instance=\"a\",quantile=\"0.5\"} 0.03\n"
               "rpc_seconds{instance=\"a\",quantile=\"0.99\"} 0.5\n"
               "rpc_seconds{instance=\"b\",quantile=\"5e-01\"} NaN\n"
               "rpc_seconds{instance=\"b\",quantile=\"9.9e-01\"} NaN\n");
  h.scrape(20, "rpc_seconds{instance=\"a\",quantile=\"0.5\"} 0.02\n"
               "rpc_seconds{instance=\"a\",quantile=\"0.99\"} 0.1\n"
               "rpc_seconds{instance=\"b\",quantile=\"5e-01\"} 0.04\n"
               "rpc_seconds{instance=\"b\",quantile=\"9.9e-01\"} 0.4\n");
  // p99 per scrape: max(0.2, 0.3) = 0.3, max(0.5, NaN skipped) = 0.5, max(0.1, 0.4) = 0.4.
  check_samples(h.window.samples("p99_ms"), {300.0, 500.0, 400.0});
  check_value(h.window.value("p99_ms"), 400.0);
  // p50: max(0.01, 0.02), max(0.03, NaN skipped), max(0.02, 0.04).
  check_samples(h.window.samples("p50_ms"), {20.0, 30.0, 40.0});
  check_value(h.window.value("p50_ms"), 30.0);
  // a alone: 0.2, 0.5, 0.1.
  check_samples(h.window.samples("p99_a_ms"), {200.0, 500.0, 100.0});
  check_value(h.window.value("p99_a_ms"), 800.0 / 3.0);
}

BOOST_AUTO_TEST_CASE(summary_quantile_skips_scrapes_with_only_nan) {
  Harness h({SignalSpec::summary_quantile("p99", "rpc_seconds", 0.99)});
  h.scrape(0, "rpc_seconds{quantile=\"0.99\"} NaN\n");
  BOOST_CHECK(!h.window.value("p99").has_value());
  BOOST_CHECK(h.window.samples("p99").empty());
  // Unlike a histogram's, a summary's quantile needs one scrape: it covers the client's window.
  h.scrape(10, "rpc_seconds{quantile=\"0.99\"} 0.25\n");
  check_value(h.window.value("p99"), 0.25);
  check_samples(h.window.samples("p99"), {0.25});
}

BOOST_AUTO_TEST_CASE(collector_keeps_only_the_summary_quantiles_signals_read) {
  const std::vector<SignalSpec> specs{SignalSpec::summary_quantile("p99", "rpc_seconds", 0.99)};
  ScrapeCollector collector(specs);
  ExpositionParser parser;
  collector.start(0);
  BOOST_REQUIRE(parser.parse("rpc_seconds{quantile=\"0.5\",instance=\"a\"} 0.01\n"
                             "rpc_seconds{quantile=\"0.99\",instance=\"a\"} 0.2\n"
                             "rpc_seconds{quantile=\"0.999\",instance=\"a\"} 0.9\n"
                             "rpc_seconds{quantile=\"high\",instance=\"a\"} 7\n"
                             "rpc_seconds{instance=\"a\"} 8\n"
                             "rpc_seconds_sum{instance=\"a\"} 12\n"
                             "rpc_seconds_count{instance=\"a\"} 100\n",
                             collector)
                    .ok());
  const Scrape scrape = collector.finish();
  BOOST_CHECK(scrape.values.empty());
  BOOST_REQUIRE_EQUAL(scrape.summaries.size(), 1U);
  const auto& series = scrape.summaries.at("rpc_seconds");
  BOOST_REQUIRE_EQUAL(series.size(), 1U);
  const auto& quantiles = series.at(SeriesLabels{{"instance", "a"}});
  BOOST_REQUIRE_EQUAL(quantiles.size(), 1U);
  BOOST_CHECK_EQUAL(quantiles.begin()->first, 0.99);
  BOOST_CHECK_EQUAL(quantiles.begin()->second, 0.2);
}

BOOST_AUTO_TEST_CASE(summary_quantile_label_compares_as_a_number) {
  const auto spec = SignalSpec::summary_quantile("p99", "rpc_seconds", 0.99);
  BOOST_CHECK(spec.source == QuantileSource::summary);
  BOOST_CHECK(spec.kind == SignalKind::quantile);
  BOOST_CHECK(SignalSpec::quantile("p99", "rpc_seconds", 0.99).source == QuantileSource::histogram);
  BOOST_CHECK(spec.matches_quantile(0.99));
  BOOST_CHECK(spec.matches_quantile(9.9e-01));
  BOOST_CHECK(spec.matches_quantile(0.9900000000000001)); // 0.99 after a float round trip
  BOOST_CHECK(!spec.matches_quantile(0.999));
  BOOST_CHECK(!spec.matches_quantile(0.98999));
  BOOST_CHECK_THROW(Window({SignalSpec::summary_quantile("p", "s", 1.0)}), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(summary_quantile_reads_a_percentage_label) {
  // redis_exporter writes its latency percentiles' quantile label as a percentage.
  Harness h({SignalSpec::summary_quantile("p99_us", "redis_latency_percentiles_usec", 0.99),
             SignalSpec::summary_quantile("p99_9_us", "redis_latency_percentiles_usec", 0.999),
             SignalSpec::summary_quantile("p1_us", "redis_latency_percentiles_usec", 0.01),
             SignalSpec::summary_quantile("p1_labelled_us", "redis_latency_percentiles_usec", 0.01, {}, 1.0, 1.0)});
  h.scrape(0, "# TYPE redis_latency_percentiles_usec summary\n"
              "redis_latency_percentiles_usec{cmd=\"get\",quantile=\"1\"} 3\n"
              "redis_latency_percentiles_usec{cmd=\"get\",quantile=\"50\"} 9\n"
              "redis_latency_percentiles_usec{cmd=\"get\",quantile=\"99\"} 21\n"
              "redis_latency_percentiles_usec{cmd=\"get\",quantile=\"99.9\"} 40\n"
              "redis_latency_percentiles_usec_sum{cmd=\"get\"} 400\n"
              "redis_latency_percentiles_usec_count{cmd=\"get\"} 40\n");
  check_value(h.window.value("p99_us"), 21.0);
  check_value(h.window.value("p99_9_us"), 40.0);
  // "1" is read as the quantile 1 (the maximum), as Prometheus reads it, so a 1st percentile
  // written as "1" needs its label named.
  BOOST_CHECK(!h.window.value("p1_us").has_value());
  check_value(h.window.value("p1_labelled_us"), 3.0);
}

BOOST_AUTO_TEST_CASE(quantile_label_matches_only_itself_and_must_be_the_quantile) {
  const auto fraction = SignalSpec::summary_quantile("p99", "s", 0.99);
  BOOST_CHECK(fraction.matches_quantile(99.0));
  BOOST_CHECK(fraction.matches_quantile(99.00000000000001));
  BOOST_CHECK(!fraction.matches_quantile(0.0099)); // below 1: a fraction, never a percentage
  BOOST_CHECK(!fraction.matches_quantile(99.9));
  const auto labelled = SignalSpec::summary_quantile("p99", "s", 0.99, {}, 1.0, 99.0);
  BOOST_CHECK(labelled.matches_quantile(99.0));
  BOOST_CHECK(!labelled.matches_quantile(0.99));
  const auto as_fraction = SignalSpec::summary_quantile("p99", "s", 0.99, {}, 1.0, 0.99);
  BOOST_CHECK(as_fraction.matches_quantile(0.99));
  BOOST_CHECK(!as_fraction.matches_quantile(99.0));

  const auto error_of = [](SignalSpec spec) {
    try {
      validate_signal_specs(std::vector<SignalSpec>{std::move(spec)});
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  BOOST_TEST(error_of(labelled) == "no error");
  BOOST_TEST(error_of(SignalSpec::summary_quantile("p99", "s", 0.99, {}, 1.0, 9.9)) ==
             "signal 'p99': quantile label 9.9 is neither the quantile (0.99) nor the quantile as a percentage (99)");
  SignalSpec histogram = SignalSpec::quantile("p99", "h", 0.99);
  histogram.quantile_label = 99.0;
  BOOST_TEST(error_of(histogram) == "signal 'p99': a quantile label applies to summary quantiles only");
}

BOOST_AUTO_TEST_CASE(gauge_mean_max_last_with_scale) {
  Harness h({SignalSpec::gauge("rss_mean_mb", "rss_bytes", GaugeReduce::mean, {}, 1e-6),
             SignalSpec::gauge("rss_max_mb", "rss_bytes", GaugeReduce::max, {}, 1e-6),
             SignalSpec::gauge("rss_last_mb", "rss_bytes", GaugeReduce::last, {}, 1e-6)});
  h.scrape(0, "# TYPE rss_bytes gauge\nrss_bytes{instance=\"a\"} 100e6\nrss_bytes{instance=\"b\"} 200e6\n");
  h.scrape(10, "rss_bytes{instance=\"a\"} 150e6\nrss_bytes{instance=\"b\"} 250e6\n");
  h.scrape(20, "rss_bytes{instance=\"a\"} 200e6\n"); // b is gone
  check_samples(h.window.samples("rss_mean_mb"), {300.0, 400.0, 200.0});
  check_value(h.window.value("rss_mean_mb"), 300.0);
  check_value(h.window.value("rss_max_mb"), 400.0);
  check_value(h.window.value("rss_last_mb"), 200.0);
}

BOOST_AUTO_TEST_CASE(ratio_of_errors_to_requests) {
  Harness h({SignalSpec::rate("errors", "http_requests_total", {{"code", Op::regex, "5.."}}),
             SignalSpec::rate("requests", "http_requests_total"),
             SignalSpec::ratio("error_ratio", "errors", "requests"),
             SignalSpec::ratio("error_percent", "errors", "requests", 100)});
  h.scrape(0, "http_requests_total{code=\"200\"} 100\nhttp_requests_total{code=\"500\"} 0\n");
  h.scrape(10, "http_requests_total{code=\"200\"} 190\nhttp_requests_total{code=\"500\"} 10\n");
  h.scrape(20, "http_requests_total{code=\"200\"} 290\nhttp_requests_total{code=\"500\"} 10\n");
  // errors 10 / 20 s, requests 200 / 20 s.
  check_value(h.window.value("error_ratio"), 0.05);
  check_value(h.window.value("error_percent"), 5.0);
  // Per interval: 1/10, then 0/10.
  check_samples(h.window.samples("error_ratio"), {0.1, 0.0});
}

BOOST_AUTO_TEST_CASE(ratio_with_zero_denominator_is_nullopt) {
  Harness h({SignalSpec::rate("errors", "http_requests_total", {{"code", Op::regex, "5.."}}),
             SignalSpec::rate("requests", "http_requests_total"),
             SignalSpec::ratio("error_ratio", "errors", "requests")});
  h.scrape(0, "http_requests_total{code=\"200\"} 100\n");
  h.scrape(10, "http_requests_total{code=\"200\"} 100\n");
  check_value(h.window.value("requests"), 0.0);
  BOOST_CHECK(!h.window.value("error_ratio").has_value());
  BOOST_CHECK(h.window.samples("error_ratio").empty());
}

BOOST_AUTO_TEST_CASE(ratio_of_rate_to_gauge_pairs_interval_with_its_end) {
  Harness h({SignalSpec::rate("rps", "requests_total"), SignalSpec::gauge("workers", "workers", GaugeReduce::mean),
             SignalSpec::ratio("rps_per_worker", "rps", "workers")});
  h.scrape(0, "requests_total 0\nworkers 1\n");
  h.scrape(10, "requests_total 100\nworkers 2\n");
  h.scrape(20, "requests_total 400\nworkers 0\n");
  // Intervals: 10 rps ending at 2 workers, 30 rps ending at 0 workers (no value).
  check_samples(h.window.samples("rps_per_worker"), {5.0});
  // Window: 20 rps over a mean of 1 worker.
  check_value(h.window.value("rps_per_worker"), 20.0);
}

BOOST_AUTO_TEST_CASE(too_few_scrapes_is_nullopt) {
  Harness h({SignalSpec::rate("rps", "requests_total"), SignalSpec::quantile("p50", "latency_seconds", 0.5),
             SignalSpec::gauge("inflight", "inflight", GaugeReduce::max),
             SignalSpec::ratio("per_inflight", "rps", "inflight")});
  for (const auto* name : {"rps", "p50", "inflight", "per_inflight"}) {
    BOOST_CHECK(!h.window.value(name).has_value());
    BOOST_CHECK(h.window.samples(name).empty());
  }
  h.scrape(0, "requests_total 5\ninflight 3\n"
              "latency_seconds_bucket{le=\"1\"} 1\nlatency_seconds_bucket{le=\"+Inf\"} 1\n");
  BOOST_CHECK(!h.window.value("rps").has_value());
  BOOST_CHECK(!h.window.value("p50").has_value());
  BOOST_CHECK(!h.window.value("per_inflight").has_value());
  check_value(h.window.value("inflight"), 3.0); // a gauge needs one reading
  BOOST_CHECK(h.window.samples("rps").empty());

  h.window.clear();
  BOOST_CHECK_EQUAL(h.window.size(), 0U);
  BOOST_CHECK(!h.window.value("inflight").has_value());
}

BOOST_AUTO_TEST_CASE(bad_regex_throws_naming_the_label) {
  try {
    const LabelMatcher matcher("code", Op::regex, "5[");
    BOOST_FAIL("expected std::invalid_argument");
  } catch (const std::invalid_argument& e) {
    BOOST_CHECK(std::string(e.what()).find("'code'") != std::string::npos);
  }
  BOOST_CHECK_THROW(LabelMatcher("path", Op::not_regex, "(unclosed"), std::invalid_argument);
  BOOST_CHECK_NO_THROW(LabelMatcher("path", Op::equal, "(not a regex"));
}

BOOST_AUTO_TEST_CASE(invalid_specs_and_scrape_order_are_rejected) {
  using Specs = std::vector<SignalSpec>;
  BOOST_CHECK_THROW(Window(Specs{SignalSpec::quantile("p", "h", 1.0)}), std::invalid_argument);
  BOOST_CHECK_THROW(Window(Specs{SignalSpec::quantile("p", "h", 0.0)}), std::invalid_argument);
  BOOST_CHECK_THROW(Window(Specs{SignalSpec::rate("r", "")}), std::invalid_argument);
  BOOST_CHECK_THROW(Window(Specs{SignalSpec::rate("r", "a"), SignalSpec::rate("r", "b")}), std::invalid_argument);
  BOOST_CHECK_THROW(Window(Specs{SignalSpec::ratio("x", "r", "missing"), SignalSpec::rate("r", "a")}),
                    std::invalid_argument);
  BOOST_CHECK_THROW(Window(Specs{SignalSpec::ratio("x", "y", "y"), SignalSpec::ratio("y", "x", "x")}),
                    std::invalid_argument);
  BOOST_CHECK_NO_THROW(Window(Specs{SignalSpec::rate("r", "a"), SignalSpec::ratio("x", "r", "r"),
                                    SignalSpec::ratio("y", "x", "r")}));

  Window window({SignalSpec::rate("r", "a")});
  BOOST_CHECK_THROW(static_cast<void>(window.value("nope")), std::invalid_argument);
  Scrape scrape;
  scrape.time_seconds = 10;
  window.add(scrape);
  BOOST_CHECK_THROW(window.add(scrape), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(label_matcher_limits)

// Found by hand while fuzzing: std::regex recursion overflowed the stack on a deeply nested
// pattern (at config load) and on a long scraped label value (at scrape time).
BOOST_AUTO_TEST_CASE(deep_patterns_are_refused_and_long_values_never_match) {
  const std::string deep = std::string(40, '(') + "a" + std::string(40, ')');
  BOOST_CHECK_THROW(LabelMatcher("code", LabelMatcher::Op::regex, deep), std::invalid_argument);
  BOOST_CHECK_THROW(LabelMatcher("code", LabelMatcher::Op::regex, std::string(2000, 'a')), std::invalid_argument);
  const LabelMatcher path("path", LabelMatcher::Op::regex, "/api/.*");
  const LabelMatcher not_path("path", LabelMatcher::Op::not_regex, "/api/.*");
  const std::string huge = "/api/" + std::string(100'000, 'x');
  BOOST_TEST(!path.matches(huge));
  BOOST_TEST(not_path.matches(huge));
  BOOST_TEST(path.matches("/api/users"));
}

BOOST_AUTO_TEST_SUITE_END()
