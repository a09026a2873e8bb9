#include <boost/test/unit_test.hpp>

#include <string>

#include <trimtab/agent/control_server_stats.hpp>

using namespace trimtab;

BOOST_AUTO_TEST_SUITE(control_server_stats)

BOOST_AUTO_TEST_CASE(as_prometheus_text) {
  ControlServerStats stats;
  stats.requests[{"/metrics", 200}] = 7;
  stats.requests[{"/pause", 401}] = 2;
  stats.auth_failures = 2;
  stats.rate_limited = 1;
  stats.connections_open = 3;
  const auto text = to_prometheus(stats);
  BOOST_TEST(text.find("# TYPE trimtab_control_requests_total counter\n") != std::string::npos);
  BOOST_TEST(text.find("trimtab_control_requests_total{route=\"/metrics\",code=\"200\"} 7\n") != std::string::npos);
  BOOST_TEST(text.find("trimtab_control_requests_total{route=\"/pause\",code=\"401\"} 2\n") != std::string::npos);
  BOOST_TEST(text.find("trimtab_control_auth_failures_total 2\n") != std::string::npos);
  BOOST_TEST(text.find("trimtab_control_rate_limited_total 1\n") != std::string::npos);
  BOOST_TEST(text.find("# TYPE trimtab_control_connections gauge\ntrimtab_control_connections 3\n") !=
             std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
