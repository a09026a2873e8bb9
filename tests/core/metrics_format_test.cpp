#include <boost/test/unit_test.hpp>

#include <string>

#include <trimtab/core/metrics_format.hpp>

using namespace trimtab;

BOOST_AUTO_TEST_SUITE(metrics_format)

BOOST_AUTO_TEST_CASE(every_format_has_one_word_that_names_it_back) {
  const auto names = metrics_format_names();
  BOOST_TEST(names.size() == 6u);
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto format = static_cast<MetricsFormat>(i);
    BOOST_TEST(std::string(metrics_format_name(format)) == std::string(names[i]));
    BOOST_TEST((metrics_format_from_name(names[i]) == format));
  }
  BOOST_TEST(std::string(metrics_format_name(MetricsFormat::openmetrics)) == "openmetrics");
  BOOST_TEST(!metrics_format_from_name("Prometheus").has_value());
  BOOST_TEST(!metrics_format_from_name("").has_value());
}

BOOST_AUTO_TEST_CASE(the_built_in_formats_are_the_systems_trimtab_reads_itself) {
  for (const auto format : {MetricsFormat::pgbouncer, MetricsFormat::redis, MetricsFormat::postgres})
    BOOST_TEST(is_built_in(format));
  for (const auto format : {MetricsFormat::prometheus, MetricsFormat::openmetrics, MetricsFormat::json})
    BOOST_TEST(!is_built_in(format));
}

BOOST_AUTO_TEST_SUITE_END()
