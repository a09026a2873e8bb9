#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <string>

#include <trimtab/agent/exposition_writer.hpp>

using namespace trimtab;

BOOST_AUTO_TEST_SUITE(exposition_writer)

BOOST_AUTO_TEST_CASE(writes_help_and_type_then_samples) {
  ExpositionWriter out;
  out.family("trimtab_asks_total", MetricType::counter, "Candidates the solver proposed.");
  out.sample("trimtab_asks_total", std::uint64_t{18446744073709551615u});
  out.family("trimtab_best_value", MetricType::gauge, "The incumbent's objective value.");
  out.sample("trimtab_best_value", 0.1 + 0.2);
  BOOST_TEST(std::move(out).take() == "# HELP trimtab_asks_total Candidates the solver proposed.\n"
                                      "# TYPE trimtab_asks_total counter\n"
                                      "trimtab_asks_total 18446744073709551615\n"
                                      "# HELP trimtab_best_value The incumbent's objective value.\n"
                                      "# TYPE trimtab_best_value gauge\n"
                                      "trimtab_best_value 0.3\n");
}

BOOST_AUTO_TEST_CASE(numbers_keep_six_significant_digits) {
  ExpositionWriter out;
  out.sample("a", 1234567.0);
  out.sample("b", 0.000012345678);
  out.sample("c", 250.0);
  out.sample("d", -0.5);
  BOOST_TEST(std::move(out).take() == "a 1.23457e+06\nb 1.23457e-05\nc 250\nd -0.5\n");
}

BOOST_AUTO_TEST_CASE(labels_are_quoted_and_escaped) {
  ExpositionWriter out;
  out.sample("requests_total", {{"route", "/metrics"}, {"code", "200"}}, std::uint64_t{7});
  out.sample("param_value", {{"param", "a\\b \"c\"\nd"}}, 1.5);
  BOOST_TEST(std::move(out).take() == "requests_total{route=\"/metrics\",code=\"200\"} 7\n"
                                      "param_value{param=\"a\\\\b \\\"c\\\"\\nd\"} 1.5\n");
}

BOOST_AUTO_TEST_CASE(types_are_named_as_the_parser_reads_them) {
  BOOST_TEST(metric_type_name(MetricType::counter) == "counter");
  BOOST_TEST(metric_type_name(MetricType::histogram) == "histogram");
  BOOST_TEST(metric_type_name(MetricType::gaugehistogram) == "gaugehistogram");
  BOOST_TEST(metric_type_name(MetricType::untyped) == "untyped");
}

BOOST_AUTO_TEST_SUITE_END()
