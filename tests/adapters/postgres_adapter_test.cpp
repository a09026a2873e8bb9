// Runs inside pg_virtualenv (CTest integration.postgres_adapter): a throwaway PostgreSQL cluster,
// reached through the PG* variables it sets (PGHOST=localhost: the adapter looks it up itself).

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <trimtab/adapters/postgres_adapter.hpp>

#include "pg_test_support.hpp"

using namespace trimtab;
using namespace trimtab::pg_test;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

// Waits until the server has reloaded its files after pg_reload_conf(): this session re-reads them
// only after the postmaster did.
void reload(PlainConnection& connection) {
  const auto before = connection.value("SELECT pg_conf_load_time()");
  connection.row("SELECT pg_reload_conf()");
  for (int i = 0; i < 500 && connection.value("SELECT pg_conf_load_time()") == before; ++i)
    std::this_thread::sleep_for(10ms);
}

std::string show(const std::string& setting) {
  PlainConnection connection;
  return connection.value("SHOW " + setting);
}

// What postgresql.auto.conf says of a setting, or "(none)".
std::string auto_conf(const std::string& setting) {
  PlainConnection connection;
  const auto values = connection.column(
      "SELECT setting FROM pg_file_settings WHERE sourcefile LIKE '%postgresql.auto.conf' AND name = '" + setting + "'");
  return values.empty() ? "(none)" : values.back();
}

// Every test starts and ends with nothing in postgresql.auto.conf.
struct Cluster {
  Cluster() { reset(); }
  ~Cluster() {
    try {
      reset();
    } catch (...) {
    }
  }
  static void reset() {
    PlainConnection connection;
    connection.row("ALTER SYSTEM RESET ALL");
    reload(connection);
  }
};

PostgresAdapterOptions memory_and_target() {
  PostgresAdapterOptions options;
  options.names = {{"mem", "work_mem"}, {"target", "checkpoint_completion_target"}};
  options.units = {{"mem", "MB"}};
  return options;
}

PostgresAdapter make_adapter(asio::io_context& io, std::vector<std::string> params, PostgresAdapterOptions options = {}) {
  return PostgresAdapter(io.get_executor(), "db", std::move(params), std::move(options));
}

std::string options_error(const std::map<std::string, std::string>& options) {
  try {
    (void)PostgresAdapter::from_options("db", options);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}

std::string construction_error(PostgresAdapterOptions options, std::vector<std::string> params = {"work_mem"}) {
  asio::io_context io;
  try {
    (void)PostgresAdapter(io.get_executor(), "db", std::move(params), std::move(options));
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}

} // namespace

BOOST_AUTO_TEST_SUITE(postgres_adapter)

BOOST_AUTO_TEST_CASE(from_options_reads_every_key) {
  const auto options = PostgresAdapter::from_options(
      "db", {{"dsn", "host=127.0.0.1 port=5432"}, {"password_env", "PGPW"}, {"names.mem", "work_mem"},
             {"units.mem", "MB"}, {"timeout", "2s"}});
  BOOST_TEST(options.dsn == "host=127.0.0.1 port=5432");
  BOOST_TEST(options.password_env == "PGPW");
  BOOST_TEST(options.names.at("mem") == "work_mem");
  BOOST_TEST(options.units.at("mem") == "MB");
  BOOST_TEST(options.timeout.count() == 2000);
  BOOST_TEST(PostgresAdapter::from_options("db", {}).timeout.count() == 5000);
}

BOOST_AUTO_TEST_CASE(from_options_refuses_unknown_keys_and_bad_values) {
  BOOST_TEST(options_error({{"tiemout", "1s"}}) ==
             "adapter 'db': unknown option 'tiemout' (did you mean 'timeout'?) (a postgres adapter takes dsn, "
             "password_env, password_file, names, units, timeout)");
  const auto password = options_error({{"password", "hunter2hunter2"}});
  BOOST_TEST(contains(password, "unknown option 'password'"), password);
  BOOST_TEST(!contains(password, "hunter2hunter2"), password);
  BOOST_TEST(contains(options_error({{"units.mem", "mb"}}), "'mb' is not a PostgreSQL unit"));
  BOOST_TEST(contains(options_error({{"names", "work_mem"}}), "write names: {param: setting}"));
  BOOST_TEST(contains(options_error({{"timeout", "0s"}}), "option 'timeout'"));
  BOOST_TEST(contains(options_error({{"password_env", "A"}, {"password_file", "/x"}}), "not both"));
}

BOOST_AUTO_TEST_CASE(construction_checks_names_units_dsn_and_password) {
  BOOST_TEST(contains(construction_error({.names = {{"other", "work_mem"}}}), "'other' is not one of the adapter's params"));
  // A dsn libpq cannot parse is refused without quoting it: it may hold a password.
  const auto dsn = construction_error({.dsn = "host=127.0.0.1 password s3cret-Pa55 user=x"});
  BOOST_TEST(contains(dsn, "option 'dsn' is not a libpq connection string or URI"), dsn);
  BOOST_TEST(!contains(dsn, "s3cret-Pa55"), dsn);
  const auto uri = construction_error({.dsn = "postgresql://user:s3cret-Pa55@[::1/db"});
  BOOST_TEST(contains(uri, "option 'dsn'"), uri);
  BOOST_TEST(!contains(uri, "s3cret-Pa55"), uri);
  ::unsetenv("TRIMTAB_TEST_UNSET");
  BOOST_TEST(construction_error({.password_env = "TRIMTAB_TEST_UNSET"}) ==
             "adapter 'db': option 'password_env': the environment variable TRIMTAB_TEST_UNSET is not set");
  BOOST_TEST(contains(construction_error({.password_file = "/nonexistent/pw"}), "cannot read /nonexistent/pw"));
}

BOOST_FIXTURE_TEST_CASE(applies_a_user_and_a_sighup_setting, Cluster) {
  asio::io_context io;
  auto adapter = make_adapter(io, {"mem", "target"}, memory_and_target());
  const auto result = apply_now(io, adapter, {{"mem", std::int64_t{64}}, {"target", 0.7}});
  BOOST_TEST(static_cast<bool>(result), result.message);
  BOOST_TEST(show("work_mem") == "64MB");                  // context user
  BOOST_TEST(show("checkpoint_completion_target") == "0.7"); // context sighup
  BOOST_TEST(auto_conf("work_mem") == "64MB");

  const auto [read, values] = current_now(io, adapter);
  BOOST_TEST(static_cast<bool>(read), read.message);
  BOOST_REQUIRE(values.size() == 2u);
  BOOST_TEST(values[0].first == "mem");
  BOOST_TEST(std::get<std::int64_t>(values[0].second) == 64);
  BOOST_TEST(values[1].first == "target");
  BOOST_TEST(std::get<double>(values[1].second) == 0.7);
}

BOOST_FIXTURE_TEST_CASE(values_without_units_are_in_the_base_unit, Cluster) {
  asio::io_context io;
  auto adapter = make_adapter(io, {"work_mem", "statement_timeout", "log_min_messages"},
                              {.units = {{"statement_timeout", "s"}}});
  const auto [before, defaults] = current_now(io, adapter);
  BOOST_TEST(static_cast<bool>(before), before.message);
  BOOST_REQUIRE(defaults.size() == 3u);
  BOOST_TEST(std::get<std::int64_t>(defaults[0].second) == 4096); // kB
  BOOST_TEST(std::get<std::int64_t>(defaults[1].second) == 0);
  BOOST_TEST(std::get<std::string>(defaults[2].second) == "warning");

  const auto result = apply_now(io, adapter, {{"work_mem", std::int64_t{8192}}, {"statement_timeout", 1.5},
                                              {"log_min_messages", std::string("NOTICE")}});
  BOOST_TEST(static_cast<bool>(result), result.message);
  BOOST_TEST(show("work_mem") == "8MB");
  BOOST_TEST(show("statement_timeout") == "1500ms");
  BOOST_TEST(show("log_min_messages") == "notice");
  const auto [after, values] = current_now(io, adapter);
  BOOST_TEST(static_cast<bool>(after), after.message);
  BOOST_REQUIRE(values.size() == 3u);
  BOOST_TEST(std::get<std::int64_t>(values[0].second) == 8192);
  BOOST_TEST(std::get<double>(values[1].second) == 1.5);
  BOOST_TEST(std::get<std::string>(values[2].second) == "notice");
}

BOOST_FIXTURE_TEST_CASE(refuses_a_setting_that_needs_a_restart, Cluster) {
  asio::io_context io;
  auto adapter = make_adapter(io, {"shared_buffers"});
  const auto expected = "adapter 'db': shared_buffers needs a server restart (context postmaster); trimtab only "
                        "changes settings a reload applies to every session";
  const auto [read, values] = current_now(io, adapter);
  BOOST_TEST(read.error == make_error_code(AdapterError::refused));
  BOOST_TEST(read.message == expected);
  BOOST_TEST(values.empty());
  const auto result = apply_now(io, adapter, {{"shared_buffers", std::string("256MB")}});
  BOOST_TEST(result.error == make_error_code(AdapterError::refused));
  BOOST_TEST(result.message == expected);
  BOOST_TEST(auto_conf("shared_buffers") == "(none)");
}

BOOST_FIXTURE_TEST_CASE(refuses_new_session_settings_unknown_settings_and_misfit_units, Cluster) {
  asio::io_context io;
  auto backend = make_adapter(io, {"log_connections"});
  const auto [read, values] = current_now(io, backend);
  BOOST_TEST(read.error == make_error_code(AdapterError::refused));
  BOOST_TEST(contains(read.message, "log_connections applies only to sessions that start after a reload (context "
                                    "superuser-backend)"),
             read.message);

  auto unknown = make_adapter(io, {"pool"}, {.names = {{"pool", "no_such_setting"}}});
  const auto [missing, none] = current_now(io, unknown);
  BOOST_TEST(missing.error == make_error_code(AdapterError::refused));
  BOOST_TEST(missing.message == "adapter 'db': the server has no setting 'no_such_setting' (param pool)");

  auto misfit = make_adapter(io, {"work_mem"}, {.units = {{"work_mem", "ms"}}});
  const auto result = apply_now(io, misfit, {{"work_mem", std::int64_t{10}}});
  BOOST_TEST(result.error == make_error_code(AdapterError::refused));
  BOOST_TEST(result.message == "adapter 'db': units.work_mem is ms, but work_mem is measured in kB");
}

BOOST_FIXTURE_TEST_CASE(a_bad_second_value_leaves_the_first_as_it_was, Cluster) {
  asio::io_context io;
  auto adapter = make_adapter(io, {"mem", "target"}, memory_and_target());

  // work_mem not in postgresql.auto.conf before: the failed apply leaves it out.
  auto result = apply_now(io, adapter, {{"mem", std::int64_t{32}}, {"target", 5.0}});
  BOOST_TEST(result.error == make_error_code(AdapterError::server_error));
  BOOST_TEST(contains(result.message, "adapter 'db': ALTER SYSTEM SET checkpoint_completion_target = '5': "),
             result.message);
  BOOST_TEST(contains(result.message, "is outside the valid range"), result.message);
  BOOST_TEST(contains(result.message, "; put back the previous value of work_mem"), result.message);
  BOOST_TEST(auto_conf("work_mem") == "(none)");
  BOOST_TEST(show("work_mem") == "4MB");

  // work_mem at 64MB in postgresql.auto.conf before: it stays there.
  result = apply_now(io, adapter, {{"mem", std::int64_t{64}}, {"target", 0.7}});
  BOOST_TEST(static_cast<bool>(result), result.message);
  result = apply_now(io, adapter, {{"mem", std::int64_t{32}}, {"target", 5.0}});
  BOOST_TEST(result.error == make_error_code(AdapterError::server_error));
  BOOST_TEST(auto_conf("work_mem") == "64MB");
  BOOST_TEST(show("work_mem") == "64MB");
  BOOST_TEST(show("checkpoint_completion_target") == "0.7");

  // A bad label: the server checks enums too; the first fails, so nothing changed.
  auto labels = make_adapter(io, {"log_min_messages", "work_mem"});
  result = apply_now(io, labels, {{"log_min_messages", std::string("chatty")}, {"work_mem", std::int64_t{1024}}});
  BOOST_TEST(result.error == make_error_code(AdapterError::server_error));
  BOOST_TEST(contains(result.message, "invalid value for parameter \"log_min_messages\": \"chatty\""), result.message);
  BOOST_TEST(contains(result.message, "; nothing was changed"), result.message);
  BOOST_TEST(show("work_mem") == "64MB");
}

BOOST_AUTO_TEST_CASE(a_wrong_password_fails_without_showing_it) {
  asio::io_context io;
  ::setenv("TRIMTAB_TEST_PG_PASSWORD", "Wr0ng-s3cret-Pa55", 1);
  auto adapter = make_adapter(io, {"work_mem"}, {.password_env = "TRIMTAB_TEST_PG_PASSWORD"});
  const auto [read, values] = current_now(io, adapter);
  BOOST_TEST(read.error == make_error_code(AdapterError::connection_failed));
  BOOST_TEST(contains(read.message, "adapter 'db': connect: "), read.message);
  BOOST_TEST(contains(read.message, "password authentication failed"), read.message);
  BOOST_TEST(!contains(read.message, "Wr0ng-s3cret-Pa55"), read.message);

  auto in_dsn = make_adapter(io, {"work_mem"}, {.dsn = "password=An0ther-s3cret host=127.0.0.1"});
  const auto result = apply_now(io, in_dsn, {{"work_mem", std::int64_t{1024}}});
  BOOST_TEST(result.error == make_error_code(AdapterError::connection_failed));
  BOOST_TEST(contains(result.message, "password authentication failed"), result.message);
  BOOST_TEST(!contains(result.message, "An0ther-s3cret"), result.message);
}

BOOST_AUTO_TEST_CASE(an_unreachable_port_fails_within_the_timeout) {
  asio::io_context io;
  const auto port = closed_tcp_port(io);
  auto adapter = make_adapter(io, {"work_mem"}, {.dsn = "host=127.0.0.1 port=" + std::to_string(port), .timeout = 3s});
  const auto start = std::chrono::steady_clock::now();
  const auto [read, values] = current_now(io, adapter);
  BOOST_TEST(milliseconds_since(start) < 3000);
  BOOST_TEST(read.error == make_error_code(AdapterError::connection_failed));
  BOOST_TEST(contains(read.message, "Connection refused"), read.message);
}

BOOST_AUTO_TEST_CASE(a_server_that_never_answers_times_out) {
  asio::io_context io;
  // Listens (the kernel completes the handshake) but never reads or answers.
  asio::ip::tcp::acceptor silent(io, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = silent.local_endpoint().port();
  auto adapter = make_adapter(io, {"work_mem"}, {.dsn = "host=127.0.0.1 port=" + std::to_string(port), .timeout = 300ms});
  const auto start = std::chrono::steady_clock::now();
  const auto result = apply_now(io, adapter, {{"work_mem", std::int64_t{1024}}});
  const auto elapsed = milliseconds_since(start);
  BOOST_TEST(elapsed >= 280); // a little inside the timeout, so that its message wins over the agent's guard
  BOOST_TEST(elapsed < 1500);
  BOOST_TEST(result.error == make_error_code(boost::system::errc::timed_out));
  BOOST_TEST(result.message == "adapter 'db': connect: timed out while connecting (timeout 300 ms)");
}

BOOST_AUTO_TEST_CASE(a_host_name_that_does_not_resolve_fails) {
  asio::io_context io;
  auto adapter = make_adapter(io, {"work_mem"}, {.dsn = "host=no-such-host.invalid", .timeout = 5s});
  const auto [read, values] = current_now(io, adapter);
  BOOST_TEST(!read);
  BOOST_TEST(contains(read.message, "could not look up host \"no-such-host.invalid\""), read.message);
}

BOOST_FIXTURE_TEST_CASE(operations_run_one_at_a_time_in_order, Cluster) {
  asio::io_context io;
  auto adapter = make_adapter(io, {"mem"}, {.names = {{"mem", "work_mem"}}, .units = {{"mem", "MB"}}});
  int done = 0;
  std::vector<std::string> order;
  adapter.async_apply({{"mem", std::int64_t{16}}}, [&](AdapterResult r) {
    BOOST_TEST(static_cast<bool>(r), r.message);
    order.push_back("first");
    ++done;
  });
  adapter.async_apply({{"mem", std::int64_t{48}}}, [&](AdapterResult r) {
    BOOST_TEST(static_cast<bool>(r), r.message);
    order.push_back("second");
    ++done;
  });
  bool both = false;
  adapter.async_current([&](AdapterResult r, Settings values) {
    BOOST_TEST(static_cast<bool>(r), r.message);
    BOOST_REQUIRE(values.size() == 1u);
    BOOST_TEST(std::get<std::int64_t>(values[0].second) == 48);
    both = done == 2;
  });
  test::run_until(io, both);
  BOOST_TEST((order == std::vector<std::string>{"first", "second"}));
  BOOST_TEST(show("work_mem") == "48MB");
}

BOOST_AUTO_TEST_SUITE_END()
