#include <boost/test/unit_test.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>

#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>

#include <trimtab/adapters/http_adapter.hpp>
#include <trimtab/adapters/http_client.hpp>

#include "adapter_test_support.hpp"
#include "test_http_server.hpp"

using namespace trimtab;
using namespace std::chrono_literals;
using test::TestHttpServer;
namespace asio = boost::asio;

namespace {

HttpAdapter make_adapter(asio::io_context& io, const std::string& url, HttpAdapterOptions options = {}) {
  options.url = url;
  return HttpAdapter(io.get_executor(), "app", {"pool_size", "timeout_ms", "policy"}, std::move(options));
}

const Settings settings{{"pool_size", std::int64_t{20}}, {"timeout_ms", 1200.5}, {"policy", std::string("lru")}};

std::string options_error(const std::map<std::string, std::string>& options) {
  try {
    (void)HttpAdapter::from_options("app", options);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}

long long milliseconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

} // namespace

BOOST_AUTO_TEST_SUITE(http_adapter)

BOOST_AUTO_TEST_CASE(apply_sends_the_settings_as_one_json_object) {
  asio::io_context io;
  TestHttpServer server(io);
  auto adapter = make_adapter(io, server.url());
  // In any order: the adapter sends its parameters in params() order.
  const auto result = test::apply_now(io, adapter, {settings[2], settings[0], settings[1]});
  BOOST_TEST(static_cast<bool>(result), result.message);
  BOOST_TEST(result.message.empty());
  BOOST_REQUIRE(server.requests.size() == 1u);
  const auto& request = server.requests[0];
  BOOST_TEST(request.method_string() == "PUT");
  BOOST_TEST(request.target() == "/admin/config");
  BOOST_TEST(request[test::http::field::content_type] == "application/json");
  BOOST_TEST(request.body() == R"({"pool_size":20,"timeout_ms":1.2005E3,"policy":"lru"})");
  const auto json = boost::json::parse(request.body()).as_object();
  BOOST_TEST(json.at("pool_size").is_int64()); // ints as integers, not 2E1
  BOOST_TEST(json.at("timeout_ms").as_double() == 1200.5);
  BOOST_TEST(json.at("policy").as_string() == "lru");
}

BOOST_AUTO_TEST_CASE(apply_uses_the_configured_method) {
  asio::io_context io;
  TestHttpServer server(io);
  auto adapter = make_adapter(io, server.url(), {.method = "PATCH"});
  BOOST_TEST(static_cast<bool>(test::apply_now(io, adapter, settings)));
  BOOST_REQUIRE(server.requests.size() == 1u);
  BOOST_TEST(server.requests[0].method_string() == "PATCH");
}

BOOST_AUTO_TEST_CASE(current_reads_back_what_was_applied) {
  asio::io_context io;
  TestHttpServer server(io);
  server.config = {{"pool_size", 8}, {"timeout_ms", 900}, {"policy", "lfu"}, {"unrelated", true}};
  auto adapter = make_adapter(io, server.url());
  BOOST_TEST(static_cast<bool>(test::apply_now(io, adapter, settings)));
  const auto [result, values] = test::current_now(io, adapter);
  BOOST_TEST(static_cast<bool>(result), result.message);
  BOOST_REQUIRE(server.requests.size() == 2u);
  BOOST_TEST(server.requests[1].method_string() == "GET");
  BOOST_REQUIRE(values.size() == 3u);
  BOOST_TEST(values[0].first == "pool_size");
  BOOST_TEST(std::get<std::int64_t>(values[0].second) == 20);
  BOOST_TEST(values[1].first == "timeout_ms");
  BOOST_TEST(std::get<double>(values[1].second) == 1200.5);
  BOOST_TEST(values[2].first == "policy");
  BOOST_TEST(std::get<std::string>(values[2].second) == "lru");
}

BOOST_AUTO_TEST_CASE(current_reads_from_current_url_in_params_order) {
  asio::io_context io;
  TestHttpServer server(io);
  server.handler = [](const TestHttpServer::Request& request) {
    TestHttpServer::Response response{test::http::status::ok, 11};
    response.body() = request.target() == "/state" ? R"({"policy":"random","timeout_ms":250,"pool_size":12.0})" : "{}";
    return response;
  };
  auto adapter = make_adapter(io, server.url(), {.current_url = server.url("/state")});
  const auto [result, values] = test::current_now(io, adapter);
  BOOST_TEST(static_cast<bool>(result), result.message);
  BOOST_REQUIRE(values.size() == 3u);
  BOOST_TEST(std::get<double>(values[0].second) == 12.0); // the caller converts 12.0 for an int param
  BOOST_TEST(std::get<std::int64_t>(values[1].second) == 250);
  BOOST_TEST(std::get<std::string>(values[2].second) == "random");
}

BOOST_AUTO_TEST_CASE(a_refusal_carries_the_status_and_the_body) {
  asio::io_context io;
  TestHttpServer server(io);
  auto adapter = make_adapter(io, server.url());
  auto too_big = settings;
  too_big[0].second = std::int64_t{100};
  const auto result = test::apply_now(io, adapter, too_big);
  BOOST_TEST(!result);
  BOOST_TEST(result.error == make_error_code(AdapterError::http_status));
  BOOST_TEST(result.message == "adapter 'app': PUT " + server.url() + ": HTTP 400: pool_size must be <= 64");
  BOOST_TEST(server.config.empty()); // nothing applied
}

BOOST_AUTO_TEST_CASE(a_long_error_body_is_cut_to_200_characters) {
  asio::io_context io;
  TestHttpServer server(io);
  server.handler = [](const TestHttpServer::Request&) {
    TestHttpServer::Response response{test::http::status::internal_server_error, 11};
    response.body() = "line one\n" + std::string(1000, 'x');
    return response;
  };
  auto adapter = make_adapter(io, server.url());
  const auto result = test::apply_now(io, adapter, settings);
  BOOST_TEST(!result);
  const std::string prefix = "adapter 'app': PUT " + server.url() + ": HTTP 500: line one ";
  BOOST_TEST(result.message.substr(0, prefix.size()) == prefix);
  BOOST_TEST(result.message.size() == prefix.size() - 9 + 200 + std::string("…").size());

  server.handler = [](const TestHttpServer::Request&) {
    return TestHttpServer::Response{test::http::status::service_unavailable, 11};
  };
  BOOST_TEST(test::apply_now(io, adapter, settings).message == "adapter 'app': PUT " + server.url() + ": HTTP 503 Service Unavailable");
}

BOOST_AUTO_TEST_CASE(connection_refused_fails_at_once) {
  asio::io_context io;
  const auto url = "http://127.0.0.1:" + std::to_string(test::closed_port(io)) + "/admin/config";
  auto adapter = make_adapter(io, url);
  const auto start = std::chrono::steady_clock::now();
  const auto result = test::apply_now(io, adapter, settings);
  BOOST_TEST(milliseconds_since(start) < 2000);
  BOOST_TEST(!result);
  BOOST_TEST(result.error == boost::asio::error::connection_refused);
  BOOST_TEST(result.message == "adapter 'app': PUT " + url + ": connect: Connection refused");
  const auto [read, values] = test::current_now(io, adapter);
  BOOST_TEST(read.message == "adapter 'app': GET " + url + ": connect: Connection refused");
  BOOST_TEST(values.empty());
}

BOOST_AUTO_TEST_CASE(a_server_that_never_answers_times_out) {
  asio::io_context io;
  TestHttpServer server(io);
  server.silent = true;
  auto adapter = make_adapter(io, server.url(), {.timeout = 300ms});
  const auto start = std::chrono::steady_clock::now();
  const auto result = test::apply_now(io, adapter, settings);
  const auto elapsed = milliseconds_since(start);
  BOOST_TEST(elapsed >= 300);
  BOOST_TEST(elapsed < 2000);
  BOOST_TEST(result.error == make_error_code(HttpError::timed_out));
  BOOST_TEST(result.message ==
             "adapter 'app': PUT " + server.url() + ": timed out after 300 ms while reading the response");
  BOOST_TEST(server.requests.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_missing_param_fails_naming_it) {
  asio::io_context io;
  TestHttpServer server(io);
  server.config = {{"pool_size", 8}, {"policy", "lfu"}};
  auto adapter = make_adapter(io, server.url());
  const auto [result, values] = test::current_now(io, adapter);
  BOOST_TEST(!result);
  BOOST_TEST(result.error == make_error_code(AdapterError::missing_param));
  BOOST_TEST(result.message == "adapter 'app': GET " + server.url() + ": the response has no 'timeout_ms'");
  BOOST_TEST(values.empty());
}

BOOST_AUTO_TEST_CASE(an_unreadable_answer_fails) {
  asio::io_context io;
  TestHttpServer server(io);
  std::string body = "[1, 2]";
  server.handler = [&](const TestHttpServer::Request&) {
    TestHttpServer::Response response{test::http::status::ok, 11};
    response.body() = body;
    return response;
  };
  auto adapter = make_adapter(io, server.url());
  BOOST_TEST(test::current_now(io, adapter).first.message ==
             "adapter 'app': GET " + server.url() + ": expected a JSON object, got an array");
  body = "<html>";
  const auto not_json = test::current_now(io, adapter).first;
  BOOST_TEST(not_json.error == make_error_code(AdapterError::bad_response));
  BOOST_TEST(contains(not_json.message, "the response is not JSON"), not_json.message);
  body = R"({"pool_size": true, "timeout_ms": 1, "policy": "lru"})";
  BOOST_TEST(test::current_now(io, adapter).first.message ==
             "adapter 'app': GET " + server.url() + ": 'pool_size' is a boolean, not a number or a string");
}

BOOST_AUTO_TEST_CASE(settings_must_match_the_params) {
  asio::io_context io;
  TestHttpServer server(io);
  auto adapter = make_adapter(io, server.url());
  auto missing = settings;
  missing.pop_back();
  auto result = test::apply_now(io, adapter, missing);
  BOOST_TEST(result.error == make_error_code(AdapterError::bad_settings));
  BOOST_TEST(result.message == "adapter 'app': no value for parameter 'policy'");
  auto foreign = settings;
  foreign.emplace_back("batch", 8.0);
  BOOST_TEST(test::apply_now(io, adapter, foreign).message == "adapter 'app': parameter 'batch' is not one of its own");
  BOOST_TEST(server.requests.empty());
}

BOOST_AUTO_TEST_CASE(extra_headers_are_sent) {
  asio::io_context io;
  TestHttpServer server(io);
  auto adapter = make_adapter(io, server.url(), {.headers = {{"Authorization", "Bearer s3cret"}}});
  BOOST_TEST(static_cast<bool>(test::apply_now(io, adapter, settings)));
  BOOST_REQUIRE(server.requests.size() == 1u);
  BOOST_TEST(server.requests[0]["Authorization"] == "Bearer s3cret");
}

BOOST_AUTO_TEST_CASE(never_completes_inline) {
  asio::io_context io;
  auto adapter = make_adapter(io, "http://127.0.0.1:1/admin/config");
  bool done = false;
  adapter.async_apply({}, [&](AdapterResult) { done = true; });
  BOOST_TEST(!done);
  test::run_until(io, done);

  // Nor when called from a handler running on the executor, where co_spawn starts the coroutine.
  bool returned = false, completed_after_return = false;
  done = false;
  asio::post(io, [&] {
    adapter.async_apply({}, [&](AdapterResult) {
      completed_after_return = returned;
      done = true;
    });
    returned = true;
  });
  test::run_until(io, done);
  BOOST_TEST(completed_after_return);
}

BOOST_AUTO_TEST_CASE(from_options_reads_the_config_keys) {
  const auto options = HttpAdapter::from_options(
      "app", {{"url", "http://127.0.0.1:8080/admin/config"}, {"method", "post"}, {"timeout", "1500ms"}});
  BOOST_TEST(options.url == "http://127.0.0.1:8080/admin/config");
  BOOST_TEST(options.method == "POST");
  BOOST_TEST(options.current_url == options.url);
  BOOST_TEST(options.timeout.count() == 1500);

  const auto defaults = HttpAdapter::from_options(
      "app", {{"url", "http://svc:8080/admin/config"}, {"current_url", "http://svc:8080/admin/state"}});
  BOOST_TEST(defaults.method == "PUT");
  BOOST_TEST(defaults.current_url == "http://svc:8080/admin/state");
  BOOST_TEST(defaults.timeout.count() == 5000);
}

BOOST_AUTO_TEST_CASE(from_options_names_the_adapter_and_the_key) {
  const std::string url = "http://127.0.0.1:8080/admin/config";
  BOOST_TEST(options_error({{"url", url}, {"methd", "PUT"}}) ==
             "adapter 'app': unknown option 'methd' (did you mean 'method'?) "
             "(an http adapter takes url, method, current_url and timeout)");
  BOOST_TEST(options_error({{"url", url}, {"method", "GET"}}) ==
             "adapter 'app': option 'method': method 'GET' is not PUT, POST or PATCH");
  BOOST_TEST(options_error({{"method", "PUT"}}) == "adapter 'app': option 'url' is required (http://host:port/path)");
  BOOST_TEST(options_error({{"url", "https://example.com/admin"}}) ==
             "adapter 'app': url 'https://example.com/admin': https is not supported "
             "(put a local TLS proxy in front, or use http)");
  BOOST_TEST(options_error({{"url", "http://127.0.0.1:99999/x"}}) ==
             "adapter 'app': url 'http://127.0.0.1:99999/x': the port must be a number from 1 to 65535");
  BOOST_TEST(options_error({{"url", url}, {"current_url", "127.0.0.1/state"}}) ==
             "adapter 'app': current_url '127.0.0.1/state': expected http://host[:port]/path");
  BOOST_TEST(contains(options_error({{"url", url}, {"timeout", "5"}}), "adapter 'app': option 'timeout': '5' has no unit"));
  BOOST_TEST(options_error({{"url", url}, {"timeout", "0s"}}) == "adapter 'app': option 'timeout': must be longer than 0 ms");
}

BOOST_AUTO_TEST_CASE(the_constructor_checks_its_options) {
  asio::io_context io;
  const auto error = [&](HttpAdapterOptions options) -> std::string {
    try {
      HttpAdapter(io.get_executor(), "app", {"pool_size"}, std::move(options));
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "accepted";
  };
  BOOST_TEST(error({}) == "adapter 'app': no url");
  BOOST_TEST(error({.url = "http://h/x", .method = "DELETE"}) == "adapter 'app': method 'DELETE' is not PUT, POST or PATCH");
  BOOST_TEST(error({.url = "http://h/x", .timeout = 0ms}) == "adapter 'app': the timeout must be positive");
  BOOST_TEST(error({.url = "http://h/x"}) == "accepted");
  HttpAdapter adapter(io.get_executor(), "app", {"pool_size"}, {.url = "http://h/x"});
  BOOST_TEST(adapter.options().current_url == "http://h/x");
  BOOST_TEST(adapter.timeout().count() == 5000);
  BOOST_TEST(adapter.name() == "app");
  BOOST_TEST(adapter.params().size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
