// The demo service's knobs and metrics, without starting it (no sockets): what the callback
// adapter and /admin/config rely on.

#include "demo_service.hpp"

#include <boost/test/unit_test.hpp>

using namespace trimtab;
using namespace trimtab::demo;

BOOST_AUTO_TEST_SUITE(demo_service)

BOOST_AUTO_TEST_CASE(apply_switches_every_knob_and_current_reports_them) {
  DemoService service;
  BOOST_TEST(static_cast<bool>(service.apply({{"pool_size", std::int64_t{12}},
                                              {"batch_size", std::int64_t{8}},
                                              {"batch_timeout_ms", 0.5},
                                              {"cache_mb", std::int64_t{32}}})));
  const auto knobs = service.knobs();
  BOOST_TEST(knobs.pool_size == 12);
  BOOST_TEST(knobs.batch_size == 8);
  BOOST_TEST(knobs.batch_timeout_ms == 0.5);
  BOOST_TEST(knobs.cache_mb == 32);
  const auto current = service.current();
  BOOST_REQUIRE(current.size() == 4u);
  BOOST_TEST(current[0].first == "pool_size");
  BOOST_TEST(std::get<std::int64_t>(current[0].second) == 12);
  BOOST_TEST(std::get<double>(current[2].second) == 0.5);
  // A whole float (JSON gives 16.0 for 16) is a fine int knob.
  BOOST_TEST(static_cast<bool>(service.apply({{"batch_size", 16.0}})));
  BOOST_TEST(service.knobs().batch_size == 16);
}

BOOST_AUTO_TEST_CASE(a_bad_value_changes_nothing_and_names_the_knob) {
  DemoService service;
  const auto before = service.knobs();
  const auto too_big = service.apply({{"pool_size", std::int64_t{8}}, {"batch_size", std::int64_t{100000}}});
  BOOST_TEST(!too_big);
  BOOST_TEST(too_big.message == "batch_size must be a whole number in [1, 256]");
  BOOST_TEST(service.knobs().pool_size == before.pool_size); // pool_size came first, and was not applied
  const auto fraction = service.apply({{"cache_mb", 2.5}});
  BOOST_TEST(fraction.message == "cache_mb must be a whole number in [1, 1024]");
  const auto label = service.apply({{"batch_timeout_ms", std::string("fast")}});
  BOOST_TEST(label.message == "batch_timeout_ms must be a number in [0, 1000]");
  const auto unknown = service.apply({{"threads", std::int64_t{4}}});
  BOOST_TEST(unknown.message == "no knob named 'threads' (pool_size, batch_size, batch_timeout_ms, cache_mb)");
  BOOST_TEST(service.knobs().cache_mb == before.cache_mb);
}

BOOST_AUTO_TEST_CASE(metrics_hold_the_families_the_bundled_config_reads) {
  DemoService service;
  const auto text = service.metrics_text();
  for (const char* expected :
       {"# TYPE demo_requests_total counter\n", "demo_requests_total{outcome=\"timeout\"} 0\n",
        "# TYPE demo_request_duration_seconds histogram\n", "demo_request_duration_seconds_bucket{le=\"+Inf\"} 0\n",
        "demo_request_duration_seconds_sum 0", "# TYPE demo_queue_depth gauge\n", "demo_knob{name=\"cache_mb\"} 4\n"})
    BOOST_TEST(text.find(expected) != std::string::npos, expected);
}

BOOST_AUTO_TEST_SUITE_END()
