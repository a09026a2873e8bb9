// The redis adapter against a real redis-server (started per test on a free loopback port, as a
// child that dies with this process), plus a scripted fake server for replies Redis never sends.

#include <boost/test/unit_test.hpp>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <trimtab/adapters/redis_adapter.hpp>

#include "adapter_test_support.hpp"
#include "redis_test_support.hpp"
#include "test_http_server.hpp" // closed_port

using namespace trimtab;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace fs = std::filesystem;
using asio::ip::tcp;
using redis_test::free_port;
using redis_test::RedisServer;

namespace {

/// A TCP server on 127.0.0.1 that reads what comes and answers every connection with `reply`
/// (nothing at all when `reply` is empty: it never answers), then closes it when `close_after`.
class ScriptedServer {
public:
  ScriptedServer(asio::io_context& io, std::string reply, bool close_after = false)
      : acceptor_(io, {asio::ip::make_address("127.0.0.1"), 0}), reply_(std::move(reply)), close_after_(close_after) {
    asio::co_spawn(io, accept_loop(), asio::detached);
  }

  [[nodiscard]] std::string address() const { return "127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()); }

  /// Every byte received, over all connections.
  std::string received;
  int connections = 0;

private:
  static constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
  tcp::acceptor acceptor_;
  std::string reply_;
  bool close_after_;
  std::vector<std::shared_ptr<tcp::socket>> open_; // held so the peer never sees a close

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
      if (ec) co_return;
      ++connections;
      auto held = std::make_shared<tcp::socket>(std::move(socket));
      open_.push_back(held);
      asio::co_spawn(acceptor_.get_executor(), serve(held), asio::detached);
    }
  }

  asio::awaitable<void> serve(std::shared_ptr<tcp::socket> socket) {
    std::array<char, 4096> chunk;
    auto [ec, n] = co_await socket->async_read_some(asio::buffer(chunk), use_tuple);
    if (ec) co_return;
    received.append(chunk.data(), n);
    if (reply_.empty()) co_return; // silent: the socket stays open in open_
    (void)co_await asio::async_write(*socket, asio::buffer(reply_), use_tuple);
    if (close_after_) {
      boost::system::error_code ignored;
      socket->shutdown(tcp::socket::shutdown_both, ignored);
      socket->close(ignored);
    }
  }
};

// For params cache_mb (maxmemory, in MiB) and, unless `with_policy` is false, policy.
RedisAdapterOptions cache_options(const std::string& address, bool with_policy = true) {
  RedisAdapterOptions options;
  options.address = address;
  options.names = {{"cache_mb", "maxmemory"}};
  if (with_policy) options.names["policy"] = "maxmemory-policy";
  options.units = {{"cache_mb", 1024 * 1024}};
  return options;
}

RedisAdapter make_adapter(asio::io_context& io, RedisAdapterOptions options,
                          std::vector<std::string> params = {"cache_mb", "policy"}) {
  return RedisAdapter(io.get_executor(), "cache", std::move(params), std::move(options));
}

std::string options_error(const std::map<std::string, std::string>& options) {
  try {
    (void)RedisAdapter::from_options("cache", options);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}

std::string constructor_error(RedisAdapterOptions options, std::vector<std::string> params = {"cache_mb", "policy"}) {
  asio::io_context io;
  try {
    (void)make_adapter(io, std::move(options), std::move(params));
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}

long long milliseconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

const Settings cache_64_lfu{{"cache_mb", std::int64_t{64}}, {"policy", std::string("allkeys-lfu")}};

} // namespace

BOOST_AUTO_TEST_SUITE(redis_adapter)

// --- against redis-server ---------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(apply_sets_what_another_connection_reads_and_current_reads_it_back) {
  RedisServer redis;
  asio::io_context io;
  auto adapter = make_adapter(io, cache_options(redis.address()));
  BOOST_TEST(adapter.redis_name("cache_mb") == "maxmemory");

  auto [before, baseline] = test::current_now(io, adapter);
  BOOST_TEST(static_cast<bool>(before), before.message);
  BOOST_REQUIRE(baseline.size() == 2u);
  BOOST_TEST(baseline[0].first == "cache_mb");
  BOOST_TEST(std::get<std::int64_t>(baseline[0].second) == 16); // --maxmemory 16mb
  BOOST_TEST(std::get<std::string>(baseline[1].second) == "allkeys-lru");

  // In any order: the adapter sends its params in params() order, in one CONFIG SET.
  const auto result = test::apply_now(io, adapter, {cache_64_lfu[1], cache_64_lfu[0]});
  BOOST_TEST(static_cast<bool>(result), result.message);
  BOOST_TEST(result.message.empty());
  BOOST_TEST(redis.config("maxmemory") == "67108864"); // 64 MiB in bytes
  BOOST_TEST(redis.config("maxmemory-policy") == "allkeys-lfu");

  const auto [read, values] = test::current_now(io, adapter);
  BOOST_TEST(static_cast<bool>(read), read.message);
  BOOST_REQUIRE(values.size() == 2u);
  BOOST_TEST(values[0].first == "cache_mb");
  BOOST_TEST(std::get<std::int64_t>(values[0].second) == 64);
  BOOST_TEST(values[1].first == "policy");
  BOOST_TEST(std::get<std::string>(values[1].second) == "allkeys-lfu");
}

BOOST_AUTO_TEST_CASE(values_keep_their_types_and_units_convert_both_ways) {
  RedisServer redis;
  asio::io_context io;
  RedisAdapterOptions options;
  options.address = redis.address();
  options.names = {{"memory_kb", "maxmemory"}};
  options.units = {{"memory_kb", 1024}};
  // maxmemory_samples maps to maxmemory-samples by default; save is a string with spaces.
  auto adapter = make_adapter(io, options, {"memory_kb", "maxmemory_samples", "save", "hz"});
  BOOST_TEST(adapter.redis_name("maxmemory_samples") == "maxmemory-samples");

  // A float param: 1.5 KiB is 1536 bytes; a whole float goes as an int (Redis refuses "7.0").
  const Settings settings{{"memory_kb", 1.5},
                          {"maxmemory_samples", 7.0},
                          {"save", std::string("3600 1 300 100")},
                          {"hz", std::int64_t{25}}};
  const auto result = test::apply_now(io, adapter, settings);
  BOOST_TEST(static_cast<bool>(result), result.message);
  BOOST_TEST(redis.config("maxmemory") == "1536");
  BOOST_TEST(redis.config("maxmemory-samples") == "7");
  BOOST_TEST(redis.config("save") == "3600 1 300 100");

  auto [read, values] = test::current_now(io, adapter);
  BOOST_TEST(static_cast<bool>(read), read.message);
  BOOST_REQUIRE(values.size() == 4u);
  BOOST_TEST(std::get<double>(values[0].second) == 1.5); // not a whole number of KiB: a double
  BOOST_TEST(std::get<std::int64_t>(values[1].second) == 7);
  BOOST_TEST(std::get<std::string>(values[2].second) == "3600 1 300 100");
  BOOST_TEST(std::get<std::int64_t>(values[3].second) == 25);

  (void)redis.cli("CONFIG SET maxmemory 2mb");
  std::tie(read, values) = test::current_now(io, adapter);
  BOOST_TEST(std::get<std::int64_t>(values[0].second) == 2048); // whole KiB: an int
}

BOOST_AUTO_TEST_CASE(a_refused_value_fails_the_whole_apply_and_changes_nothing) {
  RedisServer redis;
  asio::io_context io;
  auto options = cache_options(redis.address());
  options.names = {{"cache_mb", "maxmemory"}, {"samples", "maxmemory-samples"}};
  auto adapter = make_adapter(io, options, {"cache_mb", "samples"});
  const auto result = test::apply_now(io, adapter, {{"cache_mb", std::int64_t{128}}, {"samples", std::int64_t{0}}});
  BOOST_TEST(!result);
  BOOST_TEST(result.error == make_error_code(AdapterError::server_error));
  BOOST_TEST(result.message ==
             "adapter 'cache': CONFIG SET maxmemory 134217728 maxmemory-samples 0: ERR CONFIG SET failed (possibly "
             "related to argument 'maxmemory-samples') - argument must be between 1 and 2147483647 inclusive");
  // Redis applies a CONFIG SET of several settings all or nothing: maxmemory came first, and stays.
  BOOST_TEST(redis.config("maxmemory") == "16777216");
  BOOST_TEST(redis.config("maxmemory-samples") == "5");

  // And a policy Redis does not know.
  auto policy_adapter = make_adapter(io, cache_options(redis.address()));
  const auto refused = test::apply_now(io, policy_adapter, {{"cache_mb", std::int64_t{32}}, {"policy", std::string("lru")}});
  BOOST_TEST(!refused);
  BOOST_TEST(contains(refused.message, "CONFIG SET maxmemory 33554432 maxmemory-policy lru: ERR CONFIG SET failed"));
  BOOST_TEST(redis.config("maxmemory") == "16777216");
  BOOST_TEST(redis.config("maxmemory-policy") == "allkeys-lru");
}

BOOST_AUTO_TEST_CASE(a_setting_redis_does_not_know_is_named) {
  RedisServer redis;
  asio::io_context io;
  auto adapter = make_adapter(io, {.address = redis.address()}, {"cache_size"});
  const auto [read, values] = test::current_now(io, adapter);
  BOOST_TEST(!read);
  BOOST_TEST(read.error == make_error_code(AdapterError::missing_param));
  BOOST_TEST(read.message == "adapter 'cache': CONFIG GET cache-size: Redis has no setting 'cache-size' (for param "
                             "'cache_size'; map it with names.cache_size)");
  BOOST_TEST(values.empty());
  const auto result = test::apply_now(io, adapter, {{"cache_size", std::int64_t{1}}});
  BOOST_TEST(result.error == make_error_code(AdapterError::server_error));
  BOOST_TEST(result.message == "adapter 'cache': CONFIG SET cache-size 1: ERR Unknown option or number of arguments "
                               "for CONFIG SET - 'cache-size'");
}

BOOST_AUTO_TEST_CASE(auth_with_the_password_and_never_show_it) {
  const std::string password = "s3cret-pass-Zq9";
  RedisServer redis({"--requirepass", password});
  const std::string auth = "-a " + password;
  asio::io_context io;

  auto options = cache_options(redis.address());
  options.password = password;
  auto adapter = make_adapter(io, options);
  const auto result = test::apply_now(io, adapter, cache_64_lfu);
  BOOST_TEST(static_cast<bool>(result), result.message);
  BOOST_TEST(redis.config("maxmemory", auth) == "67108864");
  BOOST_TEST(static_cast<bool>(test::current_now(io, adapter).first));

  // A wrong password: the apply fails at AUTH, before CONFIG SET is sent.
  options.password = "wrong-pass-Kx7";
  auto wrong = make_adapter(io, options);
  const auto refused = test::apply_now(io, wrong, {{"cache_mb", std::int64_t{8}}, {"policy", std::string("allkeys-lru")}});
  BOOST_TEST(!refused);
  BOOST_TEST(refused.error == make_error_code(AdapterError::server_error));
  BOOST_TEST(refused.message == "adapter 'cache': AUTH: WRONGPASS invalid username-password pair or user is disabled.");
  BOOST_TEST(!contains(refused.message, "wrong-pass"));
  BOOST_TEST(!contains(refused.message, password));
  const auto [read, values] = test::current_now(io, wrong);
  BOOST_TEST(read.message == refused.message);
  BOOST_TEST(redis.config("maxmemory", auth) == "67108864");

  // No password: Redis says so, and the adapter says how to give one.
  auto none = make_adapter(io, cache_options(redis.address()));
  const auto anonymous = test::apply_now(io, none, cache_64_lfu);
  BOOST_TEST(anonymous.error == make_error_code(AdapterError::server_error));
  BOOST_TEST(anonymous.message == "adapter 'cache': CONFIG SET maxmemory 67108864 maxmemory-policy allkeys-lfu: NOAUTH "
                                  "Authentication required. (give the adapter password_env or password_file)");
}

BOOST_AUTO_TEST_CASE(auth_as_an_acl_user) {
  RedisServer redis;
  (void)redis.cli("ACL SETUSER tuner on '>tuner-pass-Hy3' '+config|get' '+config|set'");
  (void)redis.cli("ACL SETUSER reader on '>reader-pass-Hy3' '+config|get'");
  asio::io_context io;

  auto options = cache_options(redis.address());
  options.username = "tuner";
  options.password = "tuner-pass-Hy3";
  auto tuner = make_adapter(io, options);
  const auto result = test::apply_now(io, tuner, cache_64_lfu);
  BOOST_TEST(static_cast<bool>(result), result.message);
  BOOST_TEST(redis.config("maxmemory") == "67108864");

  options.username = "reader";
  options.password = "reader-pass-Hy3";
  auto reader = make_adapter(io, options);
  BOOST_TEST(static_cast<bool>(test::current_now(io, reader).first));
  const auto denied = test::apply_now(io, reader, {{"cache_mb", std::int64_t{8}}, {"policy", std::string("allkeys-lru")}});
  BOOST_TEST(denied.error == make_error_code(AdapterError::server_error));
  BOOST_TEST(contains(denied.message, "CONFIG SET maxmemory 8388608 maxmemory-policy allkeys-lru: NOPERM"), denied.message);
  BOOST_TEST(!contains(denied.message, "reader-pass"));
  BOOST_TEST(redis.config("maxmemory") == "67108864");

  options.password = "tuner-pass-Hy3"; // the other user's
  auto mixed = make_adapter(io, options);
  const auto wrong = test::apply_now(io, mixed, cache_64_lfu);
  BOOST_TEST(wrong.message ==
             "adapter 'cache': AUTH as 'reader': WRONGPASS invalid username-password pair or user is disabled.");
}

BOOST_AUTO_TEST_CASE(a_host_name_is_resolved) {
  RedisServer redis;
  asio::io_context io;
  auto adapter = make_adapter(io, cache_options("localhost:" + std::to_string(redis.port())));
  const auto result = test::apply_now(io, adapter, cache_64_lfu);
  BOOST_TEST(static_cast<bool>(result), result.message);
  BOOST_TEST(redis.config("maxmemory") == "67108864");
}

// --- failures without a Redis -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(connection_refused_fails_at_once) {
  asio::io_context io;
  const auto address = "127.0.0.1:" + std::to_string(test::closed_port(io));
  auto adapter = make_adapter(io, cache_options(address));
  const auto start = std::chrono::steady_clock::now();
  const auto result = test::apply_now(io, adapter, cache_64_lfu);
  BOOST_TEST(milliseconds_since(start) < 2000);
  BOOST_TEST(!result);
  BOOST_TEST(result.error == asio::error::connection_refused);
  BOOST_TEST(result.message == "adapter 'cache': connect " + address + ": Connection refused");
  const auto [read, values] = test::current_now(io, adapter);
  BOOST_TEST(read.message == result.message);
  BOOST_TEST(values.empty());
}

BOOST_AUTO_TEST_CASE(a_server_that_never_answers_times_out) {
  asio::io_context io;
  ScriptedServer silent(io, "");
  auto adapter = make_adapter(io, [&] {
    auto options = cache_options(silent.address());
    options.timeout = 300ms;
    return options;
  }());
  auto start = std::chrono::steady_clock::now();
  const auto result = test::apply_now(io, adapter, cache_64_lfu);
  auto elapsed = milliseconds_since(start);
  BOOST_TEST(elapsed >= 300);
  BOOST_TEST(elapsed < 1500);
  BOOST_TEST(result.error == boost::system::errc::timed_out);
  BOOST_TEST(result.message == "adapter 'cache': " + silent.address() +
                                   ": timed out after 300 ms while waiting for the reply to CONFIG SET maxmemory "
                                   "67108864 maxmemory-policy allkeys-lfu");
  BOOST_TEST(silent.received == "*6\r\n$6\r\nCONFIG\r\n$3\r\nSET\r\n$9\r\nmaxmemory\r\n$8\r\n67108864\r\n"
                                "$16\r\nmaxmemory-policy\r\n$11\r\nallkeys-lfu\r\n");

  start = std::chrono::steady_clock::now();
  const auto [read, values] = test::current_now(io, adapter);
  elapsed = milliseconds_since(start);
  BOOST_TEST(elapsed >= 300);
  BOOST_TEST(elapsed < 1500);
  BOOST_TEST(read.error == boost::system::errc::timed_out);
  BOOST_TEST(contains(read.message, "timed out after 300 ms while waiting for the reply to CONFIG GET maxmemory"));

  // With a password, the time runs out waiting for AUTH's answer; the password is not shown.
  auto options = cache_options(silent.address());
  options.timeout = 300ms;
  options.password = "silent-pass-Qw2";
  auto with_password = make_adapter(io, options);
  const auto auth = test::apply_now(io, with_password, cache_64_lfu);
  BOOST_TEST(auth.message == "adapter 'cache': " + silent.address() +
                                 ": timed out after 300 ms while waiting for the reply to AUTH");
  BOOST_TEST(silent.connections == 3);
}

BOOST_AUTO_TEST_CASE(replies_redis_would_not_send_are_refused) {
  asio::io_context io;
  {
    ScriptedServer http(io, "HTTP/1.1 400 Bad Request\r\n\r\n", true);
    auto adapter = make_adapter(io, cache_options(http.address()));
    const auto result = test::apply_now(io, adapter, cache_64_lfu);
    BOOST_TEST(result.error == make_error_code(AdapterError::bad_response));
    BOOST_TEST(result.message == "adapter 'cache': " + http.address() +
                                     ": the reply to CONFIG SET maxmemory 67108864 maxmemory-policy allkeys-lfu is not "
                                     "RESP2 (unknown type byte 'H' (0x48) at offset 0); is it a Redis server?");
  }
  {
    ScriptedServer queued(io, "+QUEUED\r\n");
    auto adapter = make_adapter(io, cache_options(queued.address()));
    const auto result = test::apply_now(io, adapter, cache_64_lfu);
    BOOST_TEST(result.error == make_error_code(AdapterError::bad_response));
    BOOST_TEST(contains(result.message, "allkeys-lfu: expected OK, got QUEUED"));
  }
  {
    ScriptedServer closing(io, "+O", true); // half a reply, then the connection closes
    auto adapter = make_adapter(io, cache_options(closing.address()));
    const auto result = test::apply_now(io, adapter, cache_64_lfu);
    BOOST_TEST(result.error == asio::error::eof);
    BOOST_TEST(contains(result.message, ": the connection closed before the reply to CONFIG SET maxmemory"));
  }
  {
    ScriptedServer many(io, "*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n");
    auto adapter = make_adapter(io, cache_options(many.address(), false), {"cache_mb"});
    const auto [read, values] = test::current_now(io, adapter);
    BOOST_TEST(read.error == make_error_code(AdapterError::bad_response));
    BOOST_TEST(read.message == "adapter 'cache': CONFIG GET maxmemory: expected one setting, got 2");
  }
  {
    ScriptedServer number(io, ":5\r\n");
    auto adapter = make_adapter(io, cache_options(number.address(), false), {"cache_mb"});
    const auto [read, values] = test::current_now(io, adapter);
    BOOST_TEST(read.message == "adapter 'cache': CONFIG GET maxmemory: expected pairs of names and values, got 5");
  }
  {
    ScriptedServer words(io, "*2\r\n$9\r\nmaxmemory\r\n$4\r\nlots\r\n");
    auto adapter = make_adapter(io, cache_options(words.address(), false), {"cache_mb"});
    const auto [read, values] = test::current_now(io, adapter);
    BOOST_TEST(read.error == make_error_code(AdapterError::bad_response));
    BOOST_TEST(read.message ==
               "adapter 'cache': CONFIG GET maxmemory: 'lots' is not a number of bytes (param 'cache_mb' is in mb)");
  }
}

BOOST_AUTO_TEST_CASE(decimals_are_doubles_and_other_text_is_a_string) {
  asio::io_context io;
  // One reply per pipelined CONFIG GET, in order; an alias name in the reply is fine.
  ScriptedServer server(io, "*2\r\n$1\r\na\r\n$3\r\n0.5\r\n*2\r\n$1\r\nb\r\n$4\r\n-2e3\r\n"
                            "*2\r\n$1\r\nc\r\n$3\r\ninf\r\n*2\r\n$1\r\nd\r\n$20\r\n18446744073709551615\r\n"
                            "*2\r\n$1\r\ne\r\n$4\r\n1.5.\r\n");
  auto adapter = make_adapter(io, {.address = server.address()}, {"a", "b", "c", "d", "e"});
  const auto [read, values] = test::current_now(io, adapter);
  BOOST_TEST(static_cast<bool>(read), read.message);
  BOOST_REQUIRE(values.size() == 5u);
  BOOST_TEST(std::get<double>(values[0].second) == 0.5);
  BOOST_TEST(std::get<double>(values[1].second) == -2000.0);
  BOOST_TEST(std::get<std::string>(values[2].second) == "inf");
  BOOST_TEST(std::get<double>(values[3].second) == 18446744073709551615.0); // beyond int64
  BOOST_TEST(std::get<std::string>(values[4].second) == "1.5.");
  BOOST_TEST(server.connections == 1);
}

BOOST_AUTO_TEST_CASE(settings_that_cannot_be_sent_fail_before_connecting) {
  asio::io_context io;
  ScriptedServer server(io, "+OK\r\n");
  auto adapter = make_adapter(io, cache_options(server.address()));

  auto result = test::apply_now(io, adapter, {{"cache_mb", std::int64_t{64}}});
  BOOST_TEST(result.error == make_error_code(AdapterError::bad_settings));
  BOOST_TEST(result.message == "adapter 'cache': no value for parameter 'policy'");

  result = test::apply_now(io, adapter, {{"cache_mb", std::string("big")}, {"policy", std::string("allkeys-lru")}});
  BOOST_TEST(result.error == make_error_code(AdapterError::bad_settings));
  BOOST_TEST(result.message == "adapter 'cache': parameter 'cache_mb': 'big' is not a number of mb");

  result = test::apply_now(io, adapter, {{"cache_mb", std::int64_t{1} << 60}, {"policy", std::string("allkeys-lru")}});
  BOOST_TEST(result.message ==
             "adapter 'cache': parameter 'cache_mb': 1152921504606846976 mb is more bytes than fit in 64 bits");
  BOOST_TEST(server.connections == 0);

  // A float in a unit is rounded to the nearest byte.
  result = test::apply_now(io, adapter, {{"cache_mb", 0.1}, {"policy", std::string("allkeys-lru")}});
  BOOST_TEST(static_cast<bool>(result), result.message);
  BOOST_TEST(contains(server.received, "$9\r\nmaxmemory\r\n$6\r\n104858\r\n"));
}

BOOST_AUTO_TEST_CASE(never_completes_inline) {
  asio::io_context io;
  auto adapter = make_adapter(io, cache_options("127.0.0.1:1"));
  bool done = false;
  adapter.async_apply(cache_64_lfu, [&](AdapterResult) { done = true; });
  BOOST_TEST(!done);
  test::run_until(io, done);

  // Nor when called from a handler running on the executor, nor when it fails before any I/O.
  bool returned = false, completed_after_return = false;
  done = false;
  asio::post(io, [&] {
    adapter.async_current([&](AdapterResult, Settings) {
      completed_after_return = returned;
      done = true;
    });
    adapter.async_apply({}, [](AdapterResult) {});
    returned = true;
  });
  test::run_until(io, done);
  BOOST_TEST(completed_after_return);
}

BOOST_AUTO_TEST_CASE(an_operation_outlives_its_adapter) {
  asio::io_context io;
  ScriptedServer server(io, "+OK\r\n");
  bool done = false;
  AdapterResult result;
  {
    auto adapter = make_adapter(io, cache_options(server.address()));
    adapter.async_apply(cache_64_lfu, [&](AdapterResult r) {
      result = std::move(r);
      done = true;
    });
  }
  test::run_until(io, done);
  BOOST_TEST(static_cast<bool>(result), result.message);
}

// --- options ----------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(from_options_reads_the_config_keys) {
  const auto defaults = RedisAdapter::from_options("cache", {});
  BOOST_TEST(defaults.address == "127.0.0.1:6379");
  BOOST_TEST(defaults.timeout.count() == 5000);
  BOOST_TEST(defaults.password.empty());
  BOOST_TEST(defaults.username.empty());

  char pattern[] = "/tmp/trimtab-redis-options-XXXXXX";
  BOOST_REQUIRE(::mkdtemp(pattern) != nullptr);
  const fs::path dir = pattern;
  const auto file = (dir / "password").string();
  std::ofstream(file) << "file-pass-Lm4\r\n";
  const auto options = RedisAdapter::from_options("cache", {{"address", "[::1]:6380"},
                                                            {"username", "tuner"},
                                                            {"password_file", file},
                                                            {"timeout", "1500ms"},
                                                            {"names.cache_mb", "maxmemory"},
                                                            {"units.cache_mb", "MB"},
                                                            {"units.small", "kb"}});
  BOOST_TEST(options.address == "[::1]:6380");
  BOOST_TEST(options.username == "tuner");
  BOOST_TEST(options.password == "file-pass-Lm4"); // the line break dropped
  BOOST_TEST(options.timeout.count() == 1500);
  BOOST_TEST(options.names.at("cache_mb") == "maxmemory");
  BOOST_TEST(options.units.at("cache_mb") == 1024 * 1024);
  BOOST_TEST(options.units.at("small") == 1024);

  ::setenv("TRIMTAB_TEST_REDIS_PASSWORD", "env-pass-Rt5", 1);
  BOOST_TEST(RedisAdapter::from_options("cache", {{"password_env", "TRIMTAB_TEST_REDIS_PASSWORD"}}).password ==
             "env-pass-Rt5");

  // Failures name the variable or the file, never what they hold.
  ::setenv("TRIMTAB_TEST_REDIS_EMPTY", "", 1);
  BOOST_TEST(options_error({{"password_env", "TRIMTAB_TEST_REDIS_UNSET"}}) ==
             "adapter 'cache': option 'password_env': the environment variable 'TRIMTAB_TEST_REDIS_UNSET' is not set");
  BOOST_TEST(options_error({{"password_env", "TRIMTAB_TEST_REDIS_EMPTY"}}) ==
             "adapter 'cache': option 'password_env': the environment variable 'TRIMTAB_TEST_REDIS_EMPTY' is empty");
  BOOST_TEST(options_error({{"password_env", "TRIMTAB_TEST_REDIS_PASSWORD"}, {"password_file", file}}) ==
             "adapter 'cache': give password_env or password_file, not both");
  BOOST_TEST(options_error({{"password_file", (dir / "missing").string()}}) ==
             "adapter 'cache': option 'password_file': '" + (dir / "missing").string() + "' cannot be opened");
  std::ofstream(dir / "empty") << "\n";
  BOOST_TEST(options_error({{"password_file", (dir / "empty").string()}}) ==
             "adapter 'cache': option 'password_file': '" + (dir / "empty").string() + "' is empty");
  BOOST_TEST(options_error({{"username", "tuner"}}) ==
             "adapter 'cache': option 'username' needs a password: give password_env or password_file");
  ::unsetenv("TRIMTAB_TEST_REDIS_PASSWORD");
  ::unsetenv("TRIMTAB_TEST_REDIS_EMPTY");
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(from_options_names_the_adapter_and_the_key) {
  BOOST_TEST(options_error({{"adress", "127.0.0.1:6379"}}) ==
             "adapter 'cache': unknown option 'adress' (did you mean 'address'?) (a redis adapter takes address, "
             "username, password_env, password_file, timeout, names.<param> and units.<param>)");
  BOOST_TEST(options_error({{"name.cache_mb", "maxmemory"}}) ==
             "adapter 'cache': unknown option 'name.cache_mb' (did you mean 'names'?) (a redis adapter takes address, "
             "username, password_env, password_file, timeout, names.<param> and units.<param>)");
  BOOST_TEST(options_error({{"names", "maxmemory"}}) ==
             "adapter 'cache': option 'names' is a map from params to Redis settings, such as names: {cache_mb: maxmemory}");
  BOOST_TEST(options_error({{"timeout.x", "1s"}}) == "adapter 'cache': option 'timeout' takes one value, not a map");
  BOOST_TEST(options_error({{"units.cache_mb", "MiB"}}) ==
             "adapter 'cache': option 'units.cache_mb': unknown unit 'MiB' (use b, kb, mb or gb)");
  BOOST_TEST(options_error({{"address", "::1"}}) ==
             "adapter 'cache': option 'address': '::1': write an IPv6 address in brackets, as in [::1]:6379");
  BOOST_TEST(options_error({{"address", "127.0.0.1:0"}}) ==
             "adapter 'cache': option 'address': '127.0.0.1:0': the port must be a number from 1 to 65535");
  BOOST_TEST(options_error({{"address", "/run/redis.sock"}}) ==
             "adapter 'cache': option 'address': '/run/redis.sock': '/' cannot appear in a host name (unix sockets are "
             "not supported)");
  BOOST_TEST(options_error({{"timeout", "5"}}) ==
             "adapter 'cache': option 'timeout': '5' has no unit: write 30s or 30ms (a bare number could mean either)");
  BOOST_TEST(options_error({{"address", "redis.internal"}}) == "accepted"); // port 6379
}

BOOST_AUTO_TEST_CASE(the_constructor_checks_names_and_units_against_the_params) {
  BOOST_TEST(constructor_error({.names = {{"cache_m", "maxmemory"}}}) ==
             "adapter 'cache': option 'names.cache_m': 'cache_m' is not one of the adapter's params (did you mean "
             "'cache_mb'?)");
  BOOST_TEST(constructor_error({.units = {{"policy_x", 1024}}}) ==
             "adapter 'cache': option 'units.policy_x': 'policy_x' is not one of the adapter's params (did you mean "
             "'policy'?)");
  BOOST_TEST(constructor_error({.names = {{"cache_mb", "maxmemory*"}}}) ==
             "adapter 'cache': option 'names.cache_mb': 'maxmemory*' is not a Redis setting's name (letters, digits, "
             "'-', '_' and '.' only)");
  BOOST_TEST(constructor_error({.names = {{"cache_mb", "maxmemory"}, {"policy", "MAXMEMORY"}}}) ==
             "adapter 'cache': params 'cache_mb' and 'policy' both map to Redis setting 'MAXMEMORY'");
  BOOST_TEST(constructor_error({.username = "tuner"}) ==
             "adapter 'cache': a username needs a password (password_env or password_file)");
  BOOST_TEST(constructor_error({.timeout = 0ms}) == "adapter 'cache': the timeout must be positive");
  BOOST_TEST(constructor_error({}, {}) == "adapter 'cache': no params to set");
  BOOST_TEST(constructor_error({.address = "[::1]:6379"}) == "accepted");
}

BOOST_AUTO_TEST_SUITE_END()
