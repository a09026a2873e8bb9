#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>

#include <unistd.h>

#include <trimtab/agent/metrics_fetcher.hpp>
#include <trimtab/agent/metrics_sources.hpp>

using namespace trimtab;
using namespace std::chrono_literals;

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// What the test server does with its one connection.
struct Script {
  /// Written as is after the request's headers arrive; empty: never answer, wait for the client
  /// to hang up.
  std::string response;
};

// A one-connection HTTP server on 127.0.0.1, port 0, on the test's io_context. It keeps the
// request it read for the test to check.
class TestServer {
public:
  TestServer(asio::io_context& io, Script script) : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(io, serve(std::move(script)), asio::detached);
  }

  [[nodiscard]] std::string url(const std::string& path = "/metrics") const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + path;
  }

  [[nodiscard]] const std::string& request() const noexcept { return request_; }
  [[nodiscard]] bool client_hung_up() const noexcept { return client_hung_up_; }

private:
  asio::awaitable<void> serve(Script script) {
    auto [accept_ec, socket] = co_await acceptor_.async_accept(use_tuple);
    if (accept_ec) co_return;
    acceptor_.close();
    auto [read_ec, n] = co_await asio::async_read_until(socket, asio::dynamic_buffer(request_), "\r\n\r\n", use_tuple);
    if (read_ec) co_return;
    if (!script.response.empty()) {
      (void)co_await asio::async_write(socket, asio::buffer(script.response), use_tuple);
      boost::system::error_code ignored;
      socket.shutdown(tcp::socket::shutdown_send, ignored);
    }
    // Until the client closes its end (after the response, or when it gives up).
    char sink[256];
    for (;;) {
      auto [ec, got] = co_await socket.async_read_some(asio::buffer(sink), use_tuple);
      if (ec) break;
    }
    client_hung_up_ = true;
  }

  tcp::acceptor acceptor_;
  std::string request_;
  bool client_hung_up_ = false;
};

std::string http_response(const std::string& status, const std::string& content_type, const std::string& body) {
  return "HTTP/1.1 " + status + "\r\nContent-Type: " + content_type + "\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Runs one fetch (and whatever servers were set up) to completion on `io`.
FetchResult run_fetch(asio::io_context& io, const std::string& url, FetchOptions options = {}) {
  std::optional<FetchResult> result;
  asio::co_spawn(io, fetch_metrics(io.get_executor(), url, std::move(options)),
                 [&](std::exception_ptr error, FetchResult fetched) {
                   if (error) std::rethrow_exception(error);
                   result = std::move(fetched);
                 });
  io.run();
  BOOST_REQUIRE(result.has_value());
  if (result->ok()) BOOST_CHECK(result->message.empty());
  else BOOST_CHECK(!result->message.empty());
  return std::move(*result);
}

const std::string exposition = "# TYPE http_requests_total counter\nhttp_requests_total{code=\"200\"} 1027\n";

} // namespace

BOOST_AUTO_TEST_SUITE(metrics_fetcher)

BOOST_AUTO_TEST_CASE(serves_body_and_content_type) {
  asio::io_context io;
  TestServer server(io, {http_response("200 OK", "text/plain; version=0.0.4", exposition)});
  const auto result = run_fetch(io, server.url("/metrics?x=1"));
  BOOST_REQUIRE_MESSAGE(result.ok(), result.message);
  BOOST_CHECK_EQUAL(result.body, exposition);
  BOOST_CHECK_EQUAL(result.content_type, "text/plain; version=0.0.4");
  BOOST_CHECK(result.elapsed > 0us);
  BOOST_CHECK(server.client_hung_up()); // one connection per fetch, closed after
  // The request line, Host and Accept as sent.
  BOOST_CHECK(server.request().starts_with("GET /metrics?x=1 HTTP/1.1\r\n"));
  BOOST_CHECK(server.request().find("Host: 127.0.0.1:") != std::string::npos);
  BOOST_CHECK(server.request().find("Accept: " + FetchOptions{}.accept + "\r\n") != std::string::npos);
}

// The scrape reads a body in the grammar its Content-Type names, as probe does: a target that answers
// the Accept header's first choice with OpenMetrics (an exemplar, which Prometheus text has no room
// for) is read as OpenMetrics though the source's format is the default, prometheus.
BOOST_AUTO_TEST_CASE(a_scrape_reads_a_body_in_the_grammar_its_content_type_names) {
  asio::io_context io;
  const std::string openmetrics = "# TYPE requests counter\nrequests_total 5 # {trace_id=\"a\"} 1\n# EOF\n";
  TestServer server(io, {http_response("200 OK", "application/openmetrics-text; version=1.0.0; charset=utf-8", openmetrics)});
  TargetConfig target;
  target.sources.emplace_back().url = server.url();
  MetricsSources sources(target, {SignalSpec::rate("rps", "requests_total")});
  std::optional<SourcesScrape> scraped;
  asio::co_spawn(io, sources.scrape(io.get_executor(), [] { return 1.0; }), [&](std::exception_ptr error, SourcesScrape got) {
    if (error) std::rethrow_exception(error);
    scraped = std::move(got);
  });
  io.run();
  BOOST_REQUIRE(scraped.has_value());
  BOOST_TEST(scraped->malformed == 0u, scraped->error);
  BOOST_TEST(scraped->scrape.has_value());
}

BOOST_AUTO_TEST_CASE(chunked_and_close_delimited_bodies) {
  {
    asio::io_context io;
    TestServer server(io, {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"});
    const auto result = run_fetch(io, server.url());
    BOOST_REQUIRE_MESSAGE(result.ok(), result.message);
    BOOST_CHECK_EQUAL(result.body, "hello world");
    BOOST_CHECK_EQUAL(result.content_type, "");
  }
  {
    asio::io_context io;
    TestServer server(io, {"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"a\": 1}"});
    const auto result = run_fetch(io, server.url());
    BOOST_REQUIRE_MESSAGE(result.ok(), result.message);
    BOOST_CHECK_EQUAL(result.body, "{\"a\": 1}");
    BOOST_CHECK_EQUAL(result.content_type, "application/json");
  }
}

BOOST_AUTO_TEST_CASE(custom_accept_header) {
  asio::io_context io;
  TestServer server(io, {http_response("200 OK", "application/json", "{}")});
  FetchOptions options;
  options.accept = "application/json";
  const auto result = run_fetch(io, server.url(), options);
  BOOST_REQUIRE_MESSAGE(result.ok(), result.message);
  BOOST_CHECK(server.request().find("Accept: application/json\r\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(non_2xx_is_an_error) {
  asio::io_context io;
  TestServer server(io, {http_response("503 Service Unavailable", "text/plain", "overloaded")});
  const auto url = server.url();
  const auto result = run_fetch(io, url);
  BOOST_CHECK(result.error == FetchError::http_status);
  BOOST_CHECK_EQUAL(result.message, "GET " + url + ": HTTP 503 Service Unavailable");
  BOOST_CHECK(result.body.empty());
}

BOOST_AUTO_TEST_CASE(a_redirect_is_not_followed) {
  asio::io_context io;
  TestServer server(io, {"HTTP/1.1 302 \r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n"});
  const auto url = server.url();
  const auto result = run_fetch(io, url);
  BOOST_CHECK(result.error == FetchError::http_status);
  // No reason phrase from the server: the standard one.
  BOOST_CHECK_EQUAL(result.message, "GET " + url + ": HTTP 302 Found");
}

BOOST_AUTO_TEST_CASE(a_server_that_never_answers_times_out) {
  asio::io_context io;
  TestServer server(io, {""});
  FetchOptions options;
  options.timeout = 300ms;
  const auto url = server.url();
  const auto before = std::chrono::steady_clock::now();
  const auto result = run_fetch(io, url, options);
  const auto took = std::chrono::steady_clock::now() - before;
  BOOST_CHECK(result.error == FetchError::timed_out);
  BOOST_CHECK_EQUAL(result.message, "GET " + url + ": timed out after 300 ms while reading the response");
  BOOST_CHECK(took >= 290ms);
  BOOST_CHECK(took < 2s);
  BOOST_CHECK(result.elapsed >= 290ms);
  BOOST_CHECK(server.client_hung_up());
}

BOOST_AUTO_TEST_CASE(a_timeout_that_is_not_positive_times_out_at_once) {
  // http_request() refuses such a timeout; the fetch reports it as the timeout it always was.
  asio::io_context io;
  const std::string url = "http://localhost:9/metrics";
  FetchOptions options;
  options.timeout = 0ms;
  const auto result = run_fetch(io, url, options);
  BOOST_CHECK(result.error == FetchError::timed_out);
  BOOST_CHECK_EQUAL(result.message, "GET " + url + ": timed out after 0 ms before starting");
}

BOOST_AUTO_TEST_CASE(a_closed_port_refuses_the_connection) {
  asio::io_context io;
  unsigned short port = 0;
  {
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = acceptor.local_endpoint().port();
  }
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/metrics";
  const auto result = run_fetch(io, url);
  BOOST_CHECK(result.error == asio::error::connection_refused);
  BOOST_CHECK_EQUAL(result.message, "GET " + url + ": connect: Connection refused");
}

BOOST_AUTO_TEST_CASE(a_host_name_is_resolved) {
  asio::io_context io;
  TestServer server(io, {http_response("200 OK", "text/plain", "up 1\n")});
  std::string url = server.url();
  url.replace(url.find("127.0.0.1"), 9, "localhost");
  const auto result = run_fetch(io, url);
  // localhost may resolve to ::1 first; the IPv4 address is tried next.
  BOOST_REQUIRE_MESSAGE(result.ok(), result.message);
  BOOST_CHECK_EQUAL(result.body, "up 1\n");
}

BOOST_AUTO_TEST_CASE(a_body_over_the_limit_is_an_error) {
  const std::string big(1000, 'x');
  {
    asio::io_context io;
    TestServer server(io, {http_response("200 OK", "text/plain", big)});
    FetchOptions options;
    options.max_body_bytes = 999;
    const auto url = server.url();
    const auto result = run_fetch(io, url, options);
    BOOST_CHECK(result.error == FetchError::body_too_large);
    BOOST_CHECK_EQUAL(result.message, "GET " + url + ": body larger than 999 bytes");
    BOOST_CHECK(result.body.empty());
  }
  { // Without a Content-Length the limit is found while reading.
    asio::io_context io;
    TestServer server(io, {"HTTP/1.0 200 OK\r\n\r\n" + big});
    FetchOptions options;
    options.max_body_bytes = 100;
    const auto result = run_fetch(io, server.url(), options);
    BOOST_CHECK(result.error == FetchError::body_too_large);
  }
  { // Exactly the limit is fine.
    asio::io_context io;
    TestServer server(io, {http_response("200 OK", "text/plain", big)});
    FetchOptions options;
    options.max_body_bytes = 1000;
    const auto result = run_fetch(io, server.url(), options);
    BOOST_REQUIRE_MESSAGE(result.ok(), result.message);
    BOOST_CHECK_EQUAL(result.body.size(), 1000U);
  }
}

BOOST_AUTO_TEST_CASE(a_malformed_response_is_an_error) {
  asio::io_context io;
  TestServer server(io, {"SSH-2.0-OpenSSH_9.2\r\n\r\n"});
  const auto url = server.url();
  const auto result = run_fetch(io, url);
  BOOST_CHECK(!result.ok());
  BOOST_CHECK(result.message.starts_with("GET " + url + ": read: "));
}

BOOST_AUTO_TEST_CASE(file_urls) {
  const auto dir = std::filesystem::temp_directory_path() / ("trimtab_fetch_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / "a metrics file.prom";
  std::ofstream(path, std::ios::binary) << exposition;
  const std::string url = "file://" + (dir / "a%20metrics%20file.prom").string();

  {
    asio::io_context io;
    const auto result = run_fetch(io, url);
    BOOST_REQUIRE_MESSAGE(result.ok(), result.message);
    BOOST_CHECK_EQUAL(result.body, exposition);
    BOOST_CHECK_EQUAL(result.content_type, "");
  }
  {
    asio::io_context io;
    FetchOptions options;
    options.max_body_bytes = 10;
    const auto result = run_fetch(io, url, options);
    BOOST_CHECK(result.error == FetchError::body_too_large);
    BOOST_CHECK_EQUAL(result.message, "read " + url + ": larger than 10 bytes");
  }
  {
    asio::io_context io;
    const std::string missing = "file://" + (dir / "missing.prom").string();
    const auto result = run_fetch(io, missing);
    BOOST_CHECK(result.error == boost::system::errc::no_such_file_or_directory);
    BOOST_CHECK_EQUAL(result.message, "read " + missing + ": No such file or directory");
  }
  std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(bad_urls_are_errors_not_exceptions) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"", "expected http://host[:port]/path or file:///absolute/path"},
      {"127.0.0.1:8080/metrics", "expected http://host[:port]/path or file:///absolute/path"},
      {"http://", "no host after http://"},
      {"http:///metrics", "no host after http://"},
      {"http://:8080/metrics", "no host after http://"},
      {"http://host:/metrics", "the port must be a number from 1 to 65535"},
      {"http://host:0/metrics", "the port must be a number from 1 to 65535"},
      {"http://host:65536/metrics", "the port must be a number from 1 to 65535"},
      {"http://host:99999999999999999999/", "the port must be a number from 1 to 65535"},
      {"http://host:8o/metrics", "the port must be a number from 1 to 65535"},
      {"http://user:pw@host/metrics", "credentials in the URL are not supported"},
      {"http://ho st/metrics", "0x20 cannot appear in a host name"},
      {"http://[::1/metrics", "an IPv6 address needs its closing ']'"},
      {"http://[nope]:80/metrics", "'nope' is not an IPv6 address"},
      {"http://host/me trics", "0x20 must be percent-encoded"},
      {"http://host/metrics#top", "a fragment ('#…') is never sent to a server; leave it out"},
      {"http://host/%zz", "'%' must start an escape of two hex digits"},
      {"file://relative/path", "a file URL is file:///absolute/path (three slashes, no host)"},
      {"file:///tmp/%4", "'%' must start an escape of two hex digits"},
  };
  for (const auto& [url, why] : cases) {
    asio::io_context io;
    const auto result = run_fetch(io, url);
    BOOST_TEST_CONTEXT(url) {
      BOOST_CHECK(result.error == FetchError::bad_url);
      BOOST_CHECK_EQUAL(result.message, "bad URL '" + url + "': " + why);
    }
  }
}

BOOST_AUTO_TEST_CASE(unsupported_schemes) {
  {
    asio::io_context io;
    const auto result = run_fetch(io, "https://127.0.0.1:8443/metrics");
    BOOST_CHECK(result.error == FetchError::unsupported_scheme);
    BOOST_CHECK_EQUAL(result.message,
                      "GET https://127.0.0.1:8443/metrics: https is not supported; put a local proxy or use http");
  }
  {
    asio::io_context io;
    const auto result = run_fetch(io, "ftp://host/metrics");
    BOOST_CHECK(result.error == FetchError::unsupported_scheme);
    BOOST_CHECK_EQUAL(result.message, "'ftp://host/metrics': unsupported scheme 'ftp' (http:// or file:///path)");
  }
}

BOOST_AUTO_TEST_CASE(ipv6_literal_and_default_port_parse) {
  // Port 80 on ::1 is normally closed (or IPv6 is off): either way the URL was understood, so the
  // error is the system's, not a bad URL.
  asio::io_context io;
  const auto result = run_fetch(io, "http://[::1]/metrics", FetchOptions{.timeout = 500ms});
  if (!result.ok()) {
    BOOST_CHECK(result.error != FetchError::bad_url);
    BOOST_CHECK(result.message.starts_with("GET http://[::1]/metrics: "));
  }
}

BOOST_AUTO_TEST_CASE(error_category_names_its_errors) {
  const boost::system::error_code ec = FetchError::timed_out;
  BOOST_CHECK_EQUAL(ec.category().name(), std::string("trimtab.fetch"));
  BOOST_CHECK_EQUAL(ec.message(), "timed out");
  BOOST_CHECK(ec == make_error_code(FetchError::timed_out));
  BOOST_CHECK(ec != FetchError::bad_url);
}

BOOST_AUTO_TEST_SUITE_END()
