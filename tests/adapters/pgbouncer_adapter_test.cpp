// Runs inside pg_virtualenv (CTest integration.pgbouncer_adapter): each test starts its own
// PgBouncer (as the postgres user: PgBouncer refuses to run as root) on a free port in front of the
// throwaway cluster, and stops it after, failed or not.

#include <boost/test/unit_test.hpp>

#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <trimtab/adapters/pgbouncer_adapter.hpp>

#include "pgbouncer_test_support.hpp"

using namespace trimtab;
using namespace trimtab::pg_test;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

std::string options_error(const std::map<std::string, std::string>& options) {
  try {
    (void)PgBouncerAdapter::from_options("bouncer", options);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}

std::string construction_error(PgBouncerAdapterOptions options, std::vector<std::string> params = {"default_pool_size"}) {
  asio::io_context io;
  try {
    (void)PgBouncerAdapter(io.get_executor(), "bouncer", std::move(params), std::move(options));
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}

} // namespace

BOOST_AUTO_TEST_SUITE(pgbouncer_adapter)

BOOST_AUTO_TEST_CASE(from_options_reads_every_key_and_takes_no_units) {
  const auto options = PgBouncerAdapter::from_options(
      "bouncer", {{"dsn", "host=127.0.0.1 port=6432"}, {"password_file", "/run/pw"}, {"names.pool", "default_pool_size"},
                  {"timeout", "1500ms"}});
  BOOST_TEST(options.dsn == "host=127.0.0.1 port=6432");
  BOOST_TEST(options.password_file == "/run/pw");
  BOOST_TEST(options.names.at("pool") == "default_pool_size");
  BOOST_TEST(options.timeout.count() == 1500);
  BOOST_TEST(contains(options_error({{"units.pool", "MB"}}), "a pgbouncer adapter takes no units"));
  BOOST_TEST(options_error({{"dns", "x"}}) ==
             "adapter 'bouncer': unknown option 'dns' (did you mean 'dsn'?) (a pgbouncer adapter takes dsn, "
             "password_env, password_file, names, timeout)");
}

BOOST_AUTO_TEST_CASE(construction_refuses_another_database_and_bad_names) {
  BOOST_TEST(construction_error({.dsn = "host=127.0.0.1 dbname=postgres"}) ==
             "adapter 'bouncer': option 'dsn' names the database 'postgres'; PgBouncer's admin console is the database "
             "pgbouncer");
  BOOST_TEST(construction_error({.dsn = "host=127.0.0.1 dbname=pgbouncer"}) == "accepted");
  BOOST_TEST(contains(construction_error({.names = {{"pool", "pool size; SHUTDOWN"}}}, {"pool"}),
                      "is not a PgBouncer setting name"));
}

BOOST_FIXTURE_TEST_CASE(applies_pool_size_and_query_timeout, Bouncer) {
  asio::io_context io;
  auto options = this->options();
  options.names = {{"pool", "default_pool_size"}};
  PgBouncerAdapter adapter(io.get_executor(), "bouncer", {"pool", "query_timeout", "max_client_conn"}, options);

  const auto [before, baseline] = current_now(io, adapter);
  BOOST_TEST(static_cast<bool>(before), before.message);
  BOOST_REQUIRE(baseline.size() == 3u);
  BOOST_TEST(std::get<std::int64_t>(baseline[0].second) == 20);
  BOOST_TEST(std::get<std::int64_t>(baseline[1].second) == 0);
  BOOST_TEST(std::get<std::int64_t>(baseline[2].second) == 100);

  const auto result = apply_now(io, adapter, {{"pool", std::int64_t{33}}, {"query_timeout", 1.5},
                                              {"max_client_conn", 250.0}});
  BOOST_TEST(static_cast<bool>(result), result.message);
  BOOST_TEST(config("default_pool_size") == "33");
  BOOST_TEST(config("query_timeout") == "1.5");
  BOOST_TEST(config("max_client_conn") == "250");

  const auto [after, values] = current_now(io, adapter);
  BOOST_TEST(static_cast<bool>(after), after.message);
  BOOST_REQUIRE(values.size() == 3u);
  BOOST_TEST(values[0].first == "pool");
  BOOST_TEST(std::get<std::int64_t>(values[0].second) == 33);
  BOOST_TEST(std::get<double>(values[1].second) == 1.5);
  BOOST_TEST(std::get<std::int64_t>(values[2].second) == 250);
}

BOOST_FIXTURE_TEST_CASE(a_bad_second_value_leaves_the_first_as_it_was, Bouncer) {
  asio::io_context io;
  auto options = this->options();
  options.names = {{"pool", "default_pool_size"}};
  PgBouncerAdapter adapter(io.get_executor(), "bouncer", {"pool", "pool_mode"}, options);
  const auto result = apply_now(io, adapter, {{"pool", std::int64_t{40}}, {"pool_mode", std::string("bogus")}});
  BOOST_TEST(result.error == make_error_code(AdapterError::server_error));
  BOOST_TEST(result.message ==
             "adapter 'bouncer': SET pool_mode = 'bogus': SET failed; put back default_pool_size = 20");
  BOOST_TEST(config("default_pool_size") == "20");
  BOOST_TEST(config("pool_mode") == "transaction");

  // The first fails: nothing changed.
  const auto first = apply_now(io, adapter, {{"pool", std::string("many")}, {"pool_mode", std::string("session")}});
  BOOST_TEST(first.error == make_error_code(AdapterError::server_error));
  BOOST_TEST(contains(first.message, "; nothing was changed"), first.message);
  BOOST_TEST(config("pool_mode") == "transaction");
}

BOOST_FIXTURE_TEST_CASE(refuses_settings_it_cannot_change, Bouncer) {
  asio::io_context io;
  PgBouncerAdapter adapter(io.get_executor(), "bouncer", {"listen_port"}, options());
  const auto [read, values] = current_now(io, adapter);
  BOOST_TEST(read.error == make_error_code(AdapterError::refused));
  BOOST_TEST(read.message == "adapter 'bouncer': listen_port cannot be changed while PgBouncer runs (SHOW CONFIG says "
                             "changeable: no); trimtab only changes settings SET applies");
  const auto result = apply_now(io, adapter, {{"listen_port", std::int64_t{7000}}});
  BOOST_TEST(result.error == make_error_code(AdapterError::refused));
  BOOST_TEST(config("listen_port") == std::to_string(port));

  auto other = this->options();
  other.names = {{"pool", "no_such_setting"}};
  PgBouncerAdapter unknown(io.get_executor(), "bouncer", {"pool"}, other);
  const auto [missing, none] = current_now(io, unknown);
  BOOST_TEST(missing.error == make_error_code(AdapterError::refused));
  BOOST_TEST(missing.message == "adapter 'bouncer': PgBouncer has no setting 'no_such_setting (param pool)'");
}

BOOST_FIXTURE_TEST_CASE(a_wrong_password_fails_without_showing_it, Bouncer) {
  asio::io_context io;
  auto options = this->options();
  options.password_env = "TRIMTAB_TEST_WRONG_PASSWORD";
  ::setenv("TRIMTAB_TEST_WRONG_PASSWORD", "Wr0ng-b0uncer-pw", 1);
  PgBouncerAdapter adapter(io.get_executor(), "bouncer", {"default_pool_size"}, options);
  const auto result = apply_now(io, adapter, {{"default_pool_size", std::int64_t{5}}});
  BOOST_TEST(result.error == make_error_code(AdapterError::connection_failed));
  BOOST_TEST(contains(result.message, "password authentication failed"), result.message);
  BOOST_TEST(!contains(result.message, "Wr0ng-b0uncer-pw"), result.message);
  BOOST_TEST(config("default_pool_size") == "20");
}

BOOST_AUTO_TEST_CASE(a_stopped_bouncer_fails_the_read) {
  asio::io_context io;
  const auto port = closed_tcp_port(io);
  PgBouncerAdapter adapter(io.get_executor(), "bouncer", {"default_pool_size"},
                           {.dsn = "host=127.0.0.1 port=" + std::to_string(port), .timeout = 2s});
  const auto [read, values] = current_now(io, adapter);
  BOOST_TEST(read.error == make_error_code(AdapterError::connection_failed));
  BOOST_TEST(contains(read.message, "adapter 'bouncer': connect: "), read.message);
}

BOOST_AUTO_TEST_SUITE_END()
