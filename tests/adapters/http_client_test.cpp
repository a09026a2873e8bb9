#include <boost/test/unit_test.hpp>

#include <optional>
#include <string>

#include <boost/asio/co_spawn.hpp>

#include <trimtab/adapters/http_client.hpp>

#include "test_http_server.hpp"

using namespace trimtab;
using test::TestHttpServer;
namespace asio = boost::asio;

namespace {

HttpResponse send(asio::io_context& io, HttpRequest request) {
  std::optional<HttpResponse> response;
  bool done = false;
  asio::co_spawn(io, http_request(io.get_executor(), std::move(request)), [&](std::exception_ptr e, HttpResponse r) {
    if (e) std::rethrow_exception(e);
    response = std::move(r);
    done = true;
  });
  test::run_until(io, done);
  return *response;
}

} // namespace

BOOST_AUTO_TEST_SUITE(http_client)

BOOST_AUTO_TEST_CASE(any_status_is_a_response) {
  asio::io_context io;
  TestHttpServer server(io);
  server.handler = [](const TestHttpServer::Request& request) {
    TestHttpServer::Response response{test::http::status::conflict, 11};
    response.set(test::http::field::content_type, "text/plain");
    response.body() = std::string(request.method_string()) + " " + std::string(request.target()) + " " +
                      std::string(request["X-Token"]) + " " + std::string(request[test::http::field::content_type]) +
                      " " + request.body();
    return response;
  };
  const auto response = send(io, {.method = "POST",
                                  .url = server.url("/a/b?c=d"),
                                  .body = "{}",
                                  .content_type = "application/json",
                                  .headers = {{"X-Token", "t"}}});
  BOOST_TEST(!response.error);
  BOOST_TEST(response.message.empty());
  BOOST_TEST(response.status == 409u);
  BOOST_TEST(response.content_type == "text/plain");
  BOOST_TEST(response.body == "POST /a/b?c=d t application/json {}");
}

BOOST_AUTO_TEST_CASE(a_put_without_a_body_sends_a_length) {
  asio::io_context io;
  TestHttpServer server(io);
  const auto response = send(io, {.method = "PUT", .url = server.url()});
  BOOST_TEST(response.status == 400u); // the admin endpoint wants an object
  BOOST_REQUIRE(server.requests.size() == 1u);
  BOOST_TEST(server.requests[0][test::http::field::content_length] == "0");
}

BOOST_AUTO_TEST_CASE(urls_are_checked) {
  BOOST_TEST(!check_http_url("http://127.0.0.1:8080/admin/config"));
  BOOST_TEST(!check_http_url("http://[::1]:8080/x?y=1"));
  BOOST_TEST(!check_http_url("HTTP://svc"));
  BOOST_TEST(*check_http_url("https://svc/x") == "https is not supported (put a local TLS proxy in front, or use http)");
  BOOST_TEST(*check_http_url("ftp://svc/x") == "unsupported scheme 'ftp' (only http://)");
  BOOST_TEST(*check_http_url("svc:8080/x") == "expected http://host[:port]/path");
  BOOST_TEST(*check_http_url("http://") == "no host after http://");
  BOOST_TEST(*check_http_url("http://svc:0/") == "the port must be a number from 1 to 65535");
  BOOST_TEST(*check_http_url("http://svc:/") == "the port must be a number from 1 to 65535");
  BOOST_TEST(*check_http_url("http://user:pw@svc/") == "credentials in the URL are not supported");
  BOOST_TEST(*check_http_url("http://svc/a b") == "0x20 must be percent-encoded");
  BOOST_TEST(*check_http_url("http://svc/a#b") == "a fragment ('#…') is never sent to a server; leave it out");
  BOOST_TEST(*check_http_url("http://svc/%zz") == "'%' must start an escape of two hex digits");
  BOOST_TEST(*check_http_url("http://[::1/") == "an IPv6 address needs its closing ']'");
}

BOOST_AUTO_TEST_CASE(bad_requests_fail_without_a_connection) {
  asio::io_context io;
  auto response = send(io, {.method = "PUT", .url = "https://svc/admin"});
  BOOST_TEST(response.error == make_error_code(HttpError::unsupported_scheme));
  BOOST_TEST(response.message ==
             "PUT https://svc/admin: https is not supported (put a local TLS proxy in front, or use http)");
  response = send(io, {.method = "GET", .url = "http://svc/", .headers = {{"X-A", "one\r\nX-B: two"}}});
  BOOST_TEST(response.error == make_error_code(HttpError::bad_request));
  BOOST_TEST(response.message == "GET http://svc/: header 'X-A' holds a line break or NUL");
  response = send(io, {.method = "GE T", .url = "http://svc/"});
  BOOST_TEST(response.message == "GE T http://svc/: 'GE T' is not an HTTP method");
  response = send(io, {.url = "http://svc/", .timeout = std::chrono::milliseconds(0)});
  BOOST_TEST(response.message == "GET http://svc/: the timeout must be positive, not 0 ms");
}

BOOST_AUTO_TEST_CASE(a_body_over_the_limit_is_an_error) {
  asio::io_context io;
  TestHttpServer server(io);
  server.handler = [](const TestHttpServer::Request&) {
    TestHttpServer::Response response{test::http::status::ok, 11};
    response.body() = std::string(2000, 'x');
    return response;
  };
  const auto response = send(io, {.url = server.url(), .max_body_bytes = 1000});
  BOOST_TEST(response.error == make_error_code(HttpError::body_too_large));
  BOOST_TEST(response.message == "GET " + server.url() + ": response body larger than 1000 bytes");
  BOOST_TEST(response.status == 200u);
  BOOST_TEST(response.body.empty());
}

BOOST_AUTO_TEST_CASE(only_2xx_judges_the_status_before_the_body) {
  asio::io_context io;
  TestHttpServer server(io);
  server.handler = [](const TestHttpServer::Request& request) {
    TestHttpServer::Response response{request.target() == "/ok" ? test::http::status::ok
                                                                : test::http::status::service_unavailable,
                                      11};
    response.set(test::http::field::content_type, "text/plain");
    response.body() = std::string(request.target() == "/ok" ? 10 : 5000, 'x');
    return response;
  };
  // The status is the error; the 503's body is not read.
  auto response = send(io, {.url = server.url("/down"), .only_2xx = true});
  BOOST_TEST(response.error == make_error_code(HttpError::http_status));
  BOOST_TEST(response.message == "GET " + server.url("/down") + ": HTTP 503 Service Unavailable");
  BOOST_TEST(response.status == 503u);
  BOOST_TEST(response.body.empty());
  response = send(io, {.url = server.url("/ok"), .only_2xx = true});
  BOOST_TEST(!response.error);
  BOOST_TEST(response.status == 200u);
  BOOST_TEST(response.content_type == "text/plain");
  BOOST_TEST(response.body == std::string(10, 'x'));
  // Without only_2xx the same 503 is a response like any other.
  response = send(io, {.url = server.url("/down")});
  BOOST_TEST(!response.error);
  BOOST_TEST(response.status == 503u);
  BOOST_TEST(response.body.size() == 5000u);
}

BOOST_AUTO_TEST_CASE(connection_refused_and_timeouts_are_named) {
  asio::io_context io;
  const auto refused_url = "http://127.0.0.1:" + std::to_string(test::closed_port(io)) + "/";
  auto response = send(io, {.url = refused_url});
  BOOST_TEST(response.error == asio::error::connection_refused);
  BOOST_TEST(response.message == "GET " + refused_url + ": connect: Connection refused");

  TestHttpServer server(io);
  server.silent = true;
  response = send(io, {.url = server.url(), .timeout = std::chrono::milliseconds(200)});
  BOOST_TEST(response.error == make_error_code(HttpError::timed_out));
  BOOST_TEST(response.message == "GET " + server.url() + ": timed out after 200 ms while reading the response");
}

BOOST_AUTO_TEST_SUITE_END()
