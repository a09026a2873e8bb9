// Several metrics sources in one window: each signal reads its own source's series, even when two
// sources expose the same metric name.

#include <optional>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <trimtab/core/exposition_parser.hpp>
#include <trimtab/core/json_scrape.hpp>
#include <trimtab/core/scrape.hpp>
#include <trimtab/core/window.hpp>

using namespace trimtab;

namespace {

SignalSpec from(std::string source, SignalSpec spec) {
  spec.metrics_source = std::move(source);
  return spec;
}

// One scrape of two text sources, merged as the agent merges them.
Scrape scrape_of(const std::vector<SignalSpec>& specs, double time, const std::string& app, const std::string& db) {
  ExpositionParser parser;
  ScrapeCollector first(specs), second(specs, "db");
  first.start(time);
  BOOST_REQUIRE(parser.parse(app, first).ok());
  second.start(time);
  BOOST_REQUIRE(parser.parse(db, second).ok());
  Scrape merged = first.finish();
  merge_scrapes(merged, second.finish());
  merged.time_seconds = time;
  return merged;
}

} // namespace

BOOST_AUTO_TEST_SUITE(source_keys)

BOOST_AUTO_TEST_CASE(the_first_source_keeps_its_names_and_another_is_set_apart) {
  BOOST_TEST(scrape_key("", "up") == "up");
  BOOST_TEST(scrape_key("db", "up") == std::string("db\x1fup"));
  // A recording rule's name holds ':', never the separator.
  BOOST_TEST(scrape_key("db", "up") != scrape_key("", "db:up"));
}

BOOST_AUTO_TEST_CASE(signals_read_the_series_of_their_own_source) {
  const std::vector<SignalSpec> specs{
      SignalSpec::rate("app_tx", "transactions_total"),
      from("db", SignalSpec::rate("db_tx", "transactions_total")),
      from("db", SignalSpec::gauge("db_waiting", "waiting", GaugeReduce::last)),
      SignalSpec::ratio("per_app_tx", "db_tx", "app_tx"),
  };
  Window window(specs);
  window.add(scrape_of(specs, 0.0, "transactions_total 100\nwaiting 9\n", "transactions_total 1000\nwaiting 1\n"));
  window.add(scrape_of(specs, 2.0, "transactions_total 120\nwaiting 9\n", "transactions_total 1100\nwaiting 3\n"));
  BOOST_TEST(*window.value("app_tx") == 10.0);
  BOOST_TEST(*window.value("db_tx") == 50.0);
  // The app's `waiting` is not the db's: the signal reads only its source.
  BOOST_TEST(*window.value("db_waiting") == 3.0);
  BOOST_TEST(*window.value("per_app_tx") == 5.0);
}

BOOST_AUTO_TEST_CASE(a_source_no_signal_reads_collects_nothing) {
  const std::vector<SignalSpec> specs{SignalSpec::rate("rps", "requests_total")};
  ExpositionParser parser;
  ScrapeCollector unused(specs, "db");
  unused.start(1.0);
  BOOST_REQUIRE(parser.parse("requests_total 5\n", unused).ok());
  const auto scrape = unused.finish();
  BOOST_TEST(scrape.values.empty());
}

BOOST_AUTO_TEST_CASE(a_json_source_keys_its_paths_by_source) {
  const std::vector<SignalSpec> specs{SignalSpec::gauge("busy", "pool.busy", GaugeReduce::last),
                                      from("svc", SignalSpec::gauge("svc_busy", "pool.busy", GaugeReduce::last))};
  const JsonScrapeReader first(specs), second(specs, "svc");
  auto a = first.read(R"({"pool": {"busy": 2}})", 1.0);
  auto b = second.read(R"({"pool": {"busy": 7}})", 1.0);
  BOOST_REQUIRE(a.ok());
  BOOST_REQUIRE(b.ok());
  merge_scrapes(a.scrape, std::move(b.scrape));
  Window window(specs);
  window.add(std::move(a.scrape));
  BOOST_TEST(*window.value("busy") == 2.0);
  BOOST_TEST(*window.value("svc_busy") == 7.0);
}

BOOST_AUTO_TEST_SUITE_END()
