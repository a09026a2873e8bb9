// The built-in pgbouncer and postgres metrics sources against the real servers. Runs inside
// pg_virtualenv with pg_stat_statements preloaded (CTest integration.pg_metrics): the postgres
// source reads the throwaway cluster through the PG* variables it sets; each pgbouncer test starts
// its own PgBouncer in front of it.

#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>


#include <trimtab/adapters/service_metrics.hpp>
#include <trimtab/core/exposition_parser.hpp>
#include <trimtab/core/scrape.hpp>

#include "pgbouncer_test_support.hpp"

using namespace trimtab;
using namespace trimtab::pg_test;
using namespace std::chrono_literals;

using test::read_now;

namespace {

// The value of the one series `selector` (name and labels as written) in `text`; NaN when absent.
double series(const std::string& text, const std::string& selector) {
  const auto at = text.find("\n" + selector + " ");
  if (at == std::string::npos) return std::nan("");
  return std::strtod(text.c_str() + at + selector.size() + 2, nullptr);
}

std::string construction_error(MetricsFormat kind, std::map<std::string, std::string> options) {
  try {
    (void)make_service_metrics(kind, "db", options, 2s);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}

} // namespace

BOOST_AUTO_TEST_SUITE(pg_metrics)

BOOST_AUTO_TEST_CASE(pgbouncer_stats_and_pools_become_series) {
  Bouncer bouncer;
  {
    // Five queries through the pool, as a client of the postgres database.
    PlainConnection client(bouncer.dsn() + " dbname=postgres password=" + admin_password);
    for (int i = 0; i < 5; ++i) (void)client.value("SELECT 1");
    ::setenv("TRIMTAB_TEST_BOUNCER_PASSWORD", admin_password, 1);
    const auto source = make_service_metrics(MetricsFormat::pgbouncer, "pool",
                                             {{"dsn", bouncer.dsn()}, {"password_env", "TRIMTAB_TEST_BOUNCER_PASSWORD"}}, 2s);
    const auto reading = read_now(*source);
    BOOST_REQUIRE_MESSAGE(reading, reading.message);
    const auto& text = reading.text;
    BOOST_TEST(series(text, "pgbouncer_stats_queries_pooled_total{database=\"postgres\"}") >= 5.0, text);
    BOOST_TEST(series(text, "pgbouncer_stats_sql_transactions_pooled_total{database=\"postgres\"}") >= 5.0, text);
    BOOST_TEST(series(text, "pgbouncer_stats_client_wait_seconds_total{database=\"postgres\"}") >= 0.0, text);
    // A pool is the server side's database and user: the [databases] entry logs in as PGUSER.
    const std::string pool = "{database=\"postgres\",user=\"" + environment("PGUSER") + "\"}";
    BOOST_TEST(series(text, "pgbouncer_pools_client_active_connections" + pool) == 1.0, text);
    BOOST_TEST(series(text, "pgbouncer_pools_client_waiting_connections" + pool) == 0.0, text);
    BOOST_TEST(series(text, "pgbouncer_pools_server_idle_connections" + pool) +
                   series(text, "pgbouncer_pools_server_used_connections" + pool) >= 1.0, text);
    BOOST_TEST(series(text, "pgbouncer_pools_client_maxwait_seconds" + pool) == 0.0, text);
    // Valid text: every line is read, and a rate signal finds its series.
    const std::vector<SignalSpec> specs{SignalSpec::rate("tps", "pgbouncer_stats_sql_transactions_pooled_total",
                                                         {LabelMatcher("database", LabelMatcher::Op::equal, "postgres")})};
    ScrapeCollector collector(specs);
    collector.start(1.0);
    ExpositionParser parser;
    BOOST_TEST(parser.parse(text, collector).ok());
    BOOST_TEST(collector.finish().values.size() == 1u);
  }
  // The password was needed (md5), and is never shown when wrong.
  ::setenv("TRIMTAB_TEST_BOUNCER_PASSWORD", "not-the-password", 1);
  const auto wrong = make_service_metrics(MetricsFormat::pgbouncer, "pool",
                                          {{"dsn", bouncer.dsn()}, {"password_env", "TRIMTAB_TEST_BOUNCER_PASSWORD"}}, 2s);
  const auto refused = read_now(*wrong);
  BOOST_TEST(!refused);
  BOOST_TEST(contains(refused.message, "metrics source 'pool': connect: "), refused.message);
  BOOST_TEST(!contains(refused.message, "not-the-password"), refused.message);
}

BOOST_AUTO_TEST_CASE(postgres_statistics_views_become_series) {
  std::string database;
  {
    PlainConnection client;
    (void)client.row("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    (void)client.row("CREATE TABLE IF NOT EXISTS trimtab_metrics_probe (n int)");
    for (int i = 0; i < 3; ++i) (void)client.row("INSERT INTO trimtab_metrics_probe VALUES (1)");
    database = client.value("SELECT current_database()");
  } // a backend that ends flushes its statistics; an idle one may wait 10 s
  const auto source = make_service_metrics(MetricsFormat::postgres, "db", {}, 2s); // the PG* variables
  // The flush reaches pg_stat_database shortly after.
  ServiceMetricsReading reading;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  do {
    reading = read_now(*source);
    BOOST_REQUIRE_MESSAGE(reading, reading.message);
    if (series(reading.text, "pg_stat_database_tup_inserted{datname=\"" + database + "\"}") >= 3.0) break;
    std::this_thread::sleep_for(200ms);
  } while (std::chrono::steady_clock::now() < deadline);
  const auto& text = reading.text;
  const std::string labels = "{datname=\"" + database + "\"}";
  BOOST_TEST(series(text, "pg_stat_database_tup_inserted" + labels) >= 3.0, text);
  BOOST_TEST(series(text, "pg_stat_database_xact_commit" + labels) >= 3.0, text);
  BOOST_TEST(series(text, "pg_stat_database_numbackends" + labels) >= 1.0, text);
  BOOST_TEST(contains(text, "# TYPE pg_stat_database_numbackends gauge\n"), text);
  // pg_stat_statements is installed and preloaded here: its totals per database.
  BOOST_TEST(series(text, "pg_stat_statements_calls_total" + labels) >= 3.0, text);
  BOOST_TEST(series(text, "pg_stat_statements_seconds_total" + labels) > 0.0, text);
  ExpositionParser parser;
  ScrapeCollector collector(std::vector<SignalSpec>{SignalSpec::rate("commits", "pg_stat_database_xact_commit")});
  collector.start(1.0);
  BOOST_TEST(parser.parse(text, collector).ok());
}

BOOST_AUTO_TEST_CASE(options_are_checked_without_connecting) {
  BOOST_TEST(construction_error(MetricsFormat::postgres, {{"dns", "host=x"}}) ==
             "metrics source 'db': unknown option 'dns' (did you mean 'dsn'?) (format postgres takes dsn, password_env "
             "and password_file)");
  BOOST_TEST(construction_error(MetricsFormat::pgbouncer, {{"dsn", "host=127.0.0.1 dbname=postgres"}}) ==
             "metrics source 'db': option 'dsn' names the database 'postgres'; PgBouncer's admin console is the database "
             "pgbouncer");
  const auto unparsable = construction_error(MetricsFormat::postgres, {{"dsn", "host=x password=hunter2 bogus"}});
  BOOST_TEST(contains(unparsable, "metrics source 'db': "), unparsable);
  BOOST_TEST(!contains(unparsable, "hunter2"), unparsable);
  // Nothing listens on port 1: building the source does not try.
  BOOST_TEST(construction_error(MetricsFormat::postgres, {{"dsn", "host=127.0.0.1 port=1"}}) == "accepted");
}

BOOST_AUTO_TEST_SUITE_END()
