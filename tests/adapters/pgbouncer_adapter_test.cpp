// Runs inside pg_virtualenv (CTest integration.pgbouncer_adapter): each test starts its own
// PgBouncer (as the postgres user: PgBouncer refuses to run as root) on a free port in front of the
// throwaway cluster, and stops it after, failed or not.

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

constexpr const char* pgbench = "/usr/lib/postgresql/15/bin/pgbench";

// pgbench through the bouncer for at most `seconds`: TPC-B on one branch, so that its clients
// queue on the branch's row and keep their server connections busy. Stopped when destroyed.
struct Load {
  pid_t pid = -1;

  Load(std::uint16_t port, int clients, int seconds) {
    const auto initialised = std::system((std::string(pgbench) + " -i -s 1 -q -n >/dev/null 2>&1").c_str());
    if (initialised != 0) throw std::runtime_error("pgbench -i failed");
    const auto port_text = std::to_string(port), clients_text = std::to_string(clients),
               seconds_text = std::to_string(seconds);
    pid = ::fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
      const int null = ::open("/dev/null", O_RDWR);
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::execl(pgbench, pgbench, "-h", "127.0.0.1", "-p", port_text.c_str(), "-c", clients_text.c_str(), "-j", "2",
              "-T", seconds_text.c_str(), "-n", "postgres", static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~Load() {
    ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
  }
  Load(const Load&) = delete;
  Load& operator=(const Load&) = delete;

  [[nodiscard]] bool running() const { return ::waitpid(pid, nullptr, WNOHANG) == 0; }
};

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
                  {"timeout", "1500ms"}, {"recycle", "wait"}});
  BOOST_TEST(options.dsn == "host=127.0.0.1 port=6432");
  BOOST_TEST(options.password_file == "/run/pw");
  BOOST_TEST(options.names.at("pool") == "default_pool_size");
  BOOST_TEST(options.timeout.count() == 1500);
  BOOST_TEST((options.recycle == PoolRecycle::wait));
  BOOST_TEST((PgBouncerAdapter::from_options("bouncer", {}).recycle == PoolRecycle::reconnect));
  BOOST_TEST(options_error({{"recycle", "never"}}) ==
             "adapter 'bouncer': option 'recycle': 'never' is neither reconnect (RECONNECT a pool over its new size) nor "
             "wait (let its connections age out)");
  BOOST_TEST(contains(options_error({{"units.pool", "MB"}}), "a pgbouncer adapter takes no units"));
  BOOST_TEST(options_error({{"dns", "x"}}) ==
             "adapter 'bouncer': unknown option 'dns' (did you mean 'dsn'?) (a pgbouncer adapter takes dsn, "
             "password_env, password_file, names, timeout, recycle)");
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

BOOST_FIXTURE_TEST_CASE(a_smaller_pool_is_in_effect_once_its_server_connections_are_recycled, Bouncer) {
  asio::io_context io;
  Load load(port, 20, 30);
  const auto started = std::chrono::steady_clock::now();
  while (server_connections() < 12 && milliseconds_since(started) < 15'000) std::this_thread::sleep_for(100ms);
  BOOST_REQUIRE_MESSAGE(server_connections() >= 12, "pgbench did not fill the pool: " << server_connections());

  // SET changes SHOW CONFIG at once, but without a recycle the pool keeps its busy connections.
  auto waiting = this->options();
  waiting.recycle = PoolRecycle::wait;
  PgBouncerAdapter patient(io.get_executor(), "bouncer", {"default_pool_size"}, waiting);
  const Settings smaller{{"default_pool_size", std::int64_t{4}}};
  const auto set = apply_now(io, patient, smaller);
  BOOST_TEST(static_cast<bool>(set), set.message);
  BOOST_TEST(config("default_pool_size") == "4");
  std::this_thread::sleep_for(1500ms); // the janitor's rounds close only idle connections
  const auto [asked, found] = in_effect_now(io, patient, smaller);
  BOOST_TEST(static_cast<bool>(asked), asked.message);
  BOOST_TEST(!found.in_effect);
  BOOST_TEST(contains(found.detail, "pool postgres/"), found.detail);
  BOOST_TEST(contains(found.detail, " server connections, over pool_size 4 + reserve_pool 0"), found.detail);
  BOOST_TEST_MESSAGE("recycle: wait, 1.5 s after the SET: " << found.detail);

  // With recycle: reconnect the apply RECONNECTs the database, and the pool follows its size.
  PgBouncerAdapter recycling(io.get_executor(), "bouncer", {"default_pool_size"}, this->options());
  const auto recycled_at = std::chrono::steady_clock::now();
  const auto applied = apply_now(io, recycling, smaller);
  BOOST_TEST(static_cast<bool>(applied), applied.message);
  InEffect now{false, ""};
  while (!now.in_effect && milliseconds_since(recycled_at) < 10'000) {
    std::this_thread::sleep_for(250ms);
    const auto [result, answer] = in_effect_now(io, recycling, smaller);
    BOOST_TEST(static_cast<bool>(result), result.message);
    now = answer;
  }
  BOOST_TEST(now.in_effect, now.detail);
  BOOST_TEST(server_connections() <= 4);
  BOOST_TEST_MESSAGE("recycle: reconnect: in effect after " << milliseconds_since(recycled_at) << " ms, "
                                                            << server_connections() << " server connections");
  BOOST_TEST(load.running(), "pgbench ran throughout");

  // A larger pool is in effect at once: connections grow as clients need them.
  const Settings larger{{"default_pool_size", std::int64_t{12}}};
  const auto grown = apply_now(io, recycling, larger);
  BOOST_TEST(static_cast<bool>(grown), grown.message);
  const auto [grew, bigger] = in_effect_now(io, recycling, larger);
  BOOST_TEST(static_cast<bool>(grew), grew.message);
  BOOST_TEST(bigger.in_effect, bigger.detail);
}

BOOST_FIXTURE_TEST_CASE(settings_that_size_no_pool_are_in_effect_once_read_back, Bouncer) {
  asio::io_context io;
  PgBouncerAdapter adapter(io.get_executor(), "bouncer", {"query_timeout"}, options());
  const auto [result, found] = in_effect_now(io, adapter, {{"query_timeout", 2.0}});
  BOOST_TEST(static_cast<bool>(result), result.message);
  BOOST_TEST(found.in_effect);
  BOOST_TEST(found.detail.empty());
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
