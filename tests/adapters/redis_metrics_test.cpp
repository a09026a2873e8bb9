// The built-in redis metrics source (target.metrics format redis) against a real redis-server of
// its own on loopback: INFO's fields come out as Prometheus series a ScrapeCollector reads.

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <map>
#include <string>


#include <trimtab/adapters/service_metrics.hpp>
#include <trimtab/core/exposition_parser.hpp>
#include <trimtab/core/scrape.hpp>

#include "adapter_test_support.hpp"
#include "redis_test_support.hpp"

using namespace trimtab;
using namespace std::chrono_literals;
using redis_test::RedisServer;
namespace asio = boost::asio;

using test::read_now;

namespace {

std::unique_ptr<ServiceMetrics> source(std::map<std::string, std::string> options) {
  return make_service_metrics(MetricsFormat::redis, "cache", options, 2s);
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string construction_error(std::map<std::string, std::string> options) {
  try {
    (void)source(std::move(options));
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}

} // namespace

BOOST_AUTO_TEST_SUITE(redis_metrics)

BOOST_AUTO_TEST_CASE(info_becomes_series_a_signal_reads) {
  RedisServer server;
  (void)server.cli("SET present 1");
  (void)server.cli("GET present");
  (void)server.cli("GET present");
  (void)server.cli("GET absent");
  const auto reading = read_now(*source({{"address", server.address()}}));
  BOOST_REQUIRE_MESSAGE(reading, reading.message);
  const auto& text = reading.text;
  BOOST_TEST(contains(text, "# TYPE redis_keyspace_hits_total counter\nredis_keyspace_hits_total 2\n"), text);
  BOOST_TEST(contains(text, "\nredis_keyspace_misses_total 1\n"), text);
  BOOST_TEST(contains(text, "\nredis_commands_total{cmd=\"get\"} 3\n"), text);
  BOOST_TEST(contains(text, "\nredis_db_keys{db=\"db0\"} 1\n"), text);
  BOOST_TEST(contains(text, "\nredis_memory_max_bytes 16777216\n"), text);
  BOOST_TEST(contains(text, "\nredis_evicted_keys_total 0\n"), text);
  BOOST_TEST(contains(text, "# TYPE redis_latency_percentiles_usec summary\nredis_latency_percentiles_usec{cmd="), text);
  BOOST_TEST(contains(text, "redis_latency_percentiles_usec{cmd=\"get\",quantile=\"0.99\"} "), text);

  // As a signal sees it: a rate's counter and a summary's quantile, through the parser.
  const std::vector<SignalSpec> specs{SignalSpec::rate("hits", "redis_keyspace_hits_total"),
                                      SignalSpec::gauge("used", "redis_memory_used_bytes", GaugeReduce::last),
                                      SignalSpec::summary_quantile("p99_usec", "redis_latency_percentiles_usec", 0.99,
                                                                   {LabelMatcher("cmd", LabelMatcher::Op::equal, "get")})};
  ScrapeCollector collector(specs);
  collector.start(1.0);
  ExpositionParser parser;
  BOOST_TEST(parser.parse(text, collector).ok());
  const auto scrape = collector.finish();
  BOOST_TEST(scrape.values.at("redis_keyspace_hits_total").begin()->second == 2.0);
  BOOST_TEST(scrape.values.at("redis_memory_used_bytes").begin()->second > 0.0);
  BOOST_TEST(scrape.summaries.at("redis_latency_percentiles_usec").size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_password_is_sent_and_never_shown) {
  RedisServer server({"--requirepass", "s3cret-pass"});
  ::setenv("TRIMTAB_TEST_REDIS_METRICS_PASSWORD", "s3cret-pass", 1);
  const auto reading = read_now(*source({{"address", server.address()}, {"password_env", "TRIMTAB_TEST_REDIS_METRICS_PASSWORD"}}));
  BOOST_REQUIRE_MESSAGE(reading, reading.message);
  BOOST_TEST(contains(reading.text, "redis_connected_clients "));

  const auto without = read_now(*source({{"address", server.address()}}));
  BOOST_TEST(!without);
  BOOST_TEST(contains(without.message, "metrics source 'cache': INFO all: NOAUTH"), without.message);
  BOOST_TEST(contains(without.message, "give the source password_env or password_file"), without.message);

  ::setenv("TRIMTAB_TEST_REDIS_METRICS_PASSWORD", "wrong-pass", 1);
  const auto wrong = read_now(*source({{"address", server.address()}, {"password_env", "TRIMTAB_TEST_REDIS_METRICS_PASSWORD"}}));
  BOOST_TEST(!wrong);
  BOOST_TEST(contains(wrong.message, "metrics source 'cache': AUTH"), wrong.message);
  BOOST_TEST(!contains(wrong.message, "wrong-pass"), wrong.message);
}

BOOST_AUTO_TEST_CASE(a_server_that_is_not_there_fails_the_reading_by_name) {
  const auto port = redis_test::free_port();
  const auto reading = read_now(*source({{"address", "127.0.0.1:" + std::to_string(port)}}));
  BOOST_TEST(!reading);
  BOOST_TEST(contains(reading.message, "metrics source 'cache': connect 127.0.0.1:"), reading.message);
}

BOOST_AUTO_TEST_CASE(options_are_checked_without_connecting) {
  BOOST_TEST(construction_error({{"adress", "127.0.0.1"}}) ==
             "metrics source 'cache': unknown option 'adress' (did you mean 'address'?) (format redis takes address, "
             "username, password_env and password_file)");
  BOOST_TEST(construction_error({{"address", "127.0.0.1:99999"}}) ==
             "metrics source 'cache': option 'address': '127.0.0.1:99999': the port must be a number from 1 to 65535");
  ::unsetenv("TRIMTAB_TEST_UNSET_PASSWORD");
  BOOST_TEST(construction_error({{"password_env", "TRIMTAB_TEST_UNSET_PASSWORD"}}) ==
             "metrics source 'cache': option 'password_env': the environment variable 'TRIMTAB_TEST_UNSET_PASSWORD' is not set");
  BOOST_TEST(construction_error({{"username", "u"}}) ==
             "metrics source 'cache': option 'username' needs a password: give password_env or password_file");
  // Nothing listens on port 1: building the source does not try.
  BOOST_TEST(construction_error({{"address", "127.0.0.1:1"}}) == "accepted");
}

BOOST_AUTO_TEST_SUITE_END()
