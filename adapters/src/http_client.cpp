#include <trimtab/adapters/http_client.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <trimtab/core/ascii.hpp>
#include "host_and_port.hpp"
#include "resolve_with_deadline.hpp"

namespace trimtab {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

class HttpCategory final : public boost::system::error_category {
public:
  const char* name() const noexcept override { return "trimtab.http"; }

  std::string message(int value) const override {
    switch (static_cast<HttpError>(value)) {
    case HttpError::bad_url: return "bad URL";
    case HttpError::unsupported_scheme: return "unsupported URL scheme";
    case HttpError::bad_request: return "bad request";
    case HttpError::timed_out: return "timed out";
    case HttpError::body_too_large: return "body too large";
    case HttpError::http_status: return "HTTP status outside 2xx";
    }
    return "unknown HTTP error";
  }
};

struct Url {
  std::string host;      // without brackets for IPv6
  std::uint16_t port = 80;
  std::string authority; // as written, for the Host header
  std::string target;    // path and query, starting with '/'
};

struct UrlProblem {
  HttpError error;
  std::string message; // why, without the URL
};

[[nodiscard]] bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) { return ascii::lower(b) == a; });
}

[[nodiscard]] bool is_hex(char c) { return ascii::is_digit(c) || (ascii::lower(c) >= 'a' && ascii::lower(c) <= 'f'); }

// RFC 9110 token characters, for methods and header names.
[[nodiscard]] bool is_token(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return ascii::is_alnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

[[nodiscard]] std::string describe_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u > 0x20 && u < 0x7f) return std::string("'") + c + "'";
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "0x%02x", u);
  return buffer;
}

// The first character a URL's path and query may not hold literally: controls, space, non-ASCII,
// and the characters RFC 3986 never allows unescaped.
[[nodiscard]] std::optional<char> bad_target_char(std::string_view text) {
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || std::string_view("\"<>\\^`{|}").find(c) != std::string_view::npos) return c;
  }
  return std::nullopt;
}

[[nodiscard]] bool escapes_are_valid(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i)
    if (text[i] == '%') {
      if (i + 2 >= text.size() || !is_hex(text[i + 1]) || !is_hex(text[i + 2])) return false;
      i += 2;
    }
  return true;
}

[[nodiscard]] std::variant<Url, UrlProblem> parse_url(std::string_view url) {
  const auto bad = [](std::string why) { return UrlProblem{HttpError::bad_url, std::move(why)}; };
  if (!starts_with_nocase(url, "http://")) {
    if (starts_with_nocase(url, "https://"))
      return UrlProblem{HttpError::unsupported_scheme,
                        "https is not supported (put a local TLS proxy in front, or use http)"};
    const std::size_t colon = url.find("://");
    if (colon != std::string_view::npos && colon > 0)
      return UrlProblem{HttpError::unsupported_scheme,
                        "unsupported scheme '" + std::string(url.substr(0, colon)) + "' (only http://)"};
    return bad("expected http://host[:port]/path");
  }
  const std::string_view rest = url.substr(7);
  const std::size_t authority_end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, authority_end);
  const std::string_view target = authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (authority.empty()) return bad("no host after http://");
  if (authority.find('@') != std::string_view::npos) return bad("credentials in the URL are not supported");

  auto split = detail::split_host_and_port(authority);
  if (auto* problem = std::get_if<std::string>(&split)) return bad(std::move(*problem));
  auto& [host, bracketed, port] = std::get<detail::HostAndPort>(split);
  if (!bracketed) {
    if (host.empty()) return bad("no host after http://");
    for (const char c : host)
      if (!ascii::is_alnum(c) && c != '-' && c != '.' && c != '_') return bad(describe_char(c) + " cannot appear in a host name");
  }
  Url parsed;
  parsed.host = std::move(host);
  parsed.authority = std::string(authority);
  if (port) {
    auto number = detail::parse_port(*port);
    if (auto* problem = std::get_if<std::string>(&number)) return bad(std::move(*problem));
    parsed.port = std::get<std::uint16_t>(number);
  }

  if (target.find('#') != std::string_view::npos) return bad("a fragment ('#…') is never sent to a server; leave it out");
  if (const auto c = bad_target_char(target)) return bad(describe_char(*c) + " must be percent-encoded");
  if (!escapes_are_valid(target)) return bad("'%' must start an escape of two hex digits");
  if (target.empty())
    parsed.target = "/";
  else if (target.front() == '?')
    parsed.target = "/" + std::string(target);
  else
    parsed.target = std::string(target);
  return parsed;
}

// What is wrong with the method, headers or timeout, if anything.
[[nodiscard]] std::optional<std::string> request_problem(const HttpRequest& request) {
  if (!is_token(request.method)) return "'" + request.method + "' is not an HTTP method";
  const auto bad_value = [](std::string_view value) {
    return std::any_of(value.begin(), value.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
  };
  if (bad_value(request.content_type)) return std::string("the content type holds a line break or NUL");
  for (const auto& [name, value] : request.headers) {
    if (!is_token(name)) return "'" + name + "' is not a header name";
    if (bad_value(value)) return "header '" + name + "' holds a line break or NUL";
  }
  if (request.timeout.count() <= 0) return "the timeout must be positive, not " + std::to_string(request.timeout.count()) + " ms";
  return std::nullopt;
}

// "HTTP 503 Service Unavailable"; the standard reason phrase when the server sent none.
[[nodiscard]] std::string status_line(const http::response_header<>& header) {
  std::string reason(header.reason());
  if (reason.empty()) reason = std::string(http::obsolete_reason(header.result()));
  return "HTTP " + std::to_string(header.result_int()) + (reason.empty() ? "" : " " + reason);
}

asio::awaitable<void> exchange(asio::any_io_executor executor, const HttpRequest& request, const Url& url,
                               HttpResponse& response) {
  const Clock::time_point deadline = Clock::now() + request.timeout;
  const auto fail = [&](error_code ec, const std::string& what) {
    response.error = ec;
    response.message = request.method + " " + request.url + ": " + what;
    response.body.clear();
  };
  const auto timed_out = [&](const char* during) {
    fail(HttpError::timed_out, "timed out after " + std::to_string(request.timeout.count()) + " ms while " + during);
  };

  const auto resolved = co_await detail::resolve_with_deadline(executor, url.host, url.port, deadline);
  if (resolved.timed_out) co_return timed_out("resolving the host");
  if (resolved.error) co_return fail(resolved.error, "resolve " + url.host + ": " + resolved.error.message());
  if (resolved.endpoints.empty()) co_return fail(asio::error::host_not_found, "resolve " + url.host + ": no address");

  // Connect, write and read under one deadline.
  beast::tcp_stream stream(executor);
  stream.expires_at(deadline);
  if (auto [connect_ec, endpoint] = co_await stream.async_connect(resolved.endpoints, use_tuple); connect_ec) {
    if (connect_ec == beast::error::timeout) co_return timed_out("connecting");
    co_return fail(connect_ec, "connect: " + connect_ec.message());
  }

  http::request<http::string_body> message;
  message.method_string(request.method);
  message.target(url.target);
  message.version(11);
  message.set(http::field::host, url.authority);
  message.set(http::field::user_agent, "trimtab");
  if (!request.content_type.empty()) message.set(http::field::content_type, request.content_type);
  for (const auto& [name, value] : request.headers) message.insert(name, value);
  message.set(http::field::connection, "close");
  message.body() = request.body;
  message.prepare_payload(); // Content-Length, when there is a body or the method expects one
  if (auto [write_ec, written] = co_await http::async_write(stream, message, use_tuple); write_ec) {
    if (write_ec == beast::error::timeout) co_return timed_out("sending the request");
    co_return fail(write_ec, "write: " + write_ec.message());
  }

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(request.max_body_bytes);
  if (message.method() == http::verb::head) parser.skip(true);
  const auto read_failed = [&](error_code read_ec) {
    if (parser.is_header_done()) response.status = parser.get().result_int();
    if (read_ec == beast::error::timeout) return timed_out("reading the response");
    if (read_ec == http::error::body_limit)
      return fail(HttpError::body_too_large,
                  "response body larger than " + std::to_string(request.max_body_bytes) + " bytes");
    fail(read_ec, "read: " + read_ec.message());
  };
  if (request.only_2xx) { // judge the status before reading a body that would be thrown away
    if (auto [read_ec, n] = co_await http::async_read_header(stream, buffer, parser, use_tuple); read_ec)
      co_return read_failed(read_ec);
    if (parser.get().result_int() / 100 != 2) {
      response.status = parser.get().result_int();
      co_return fail(HttpError::http_status, status_line(parser.get()));
    }
  }
  if (auto [read_ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple); read_ec)
    co_return read_failed(read_ec);
  response.status = parser.get().result_int();
  response.content_type = std::string(parser.get()[http::field::content_type]);
  response.body = parser.release().body();
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream.close();
}

} // namespace

const boost::system::error_category& http_category() noexcept {
  static const HttpCategory category;
  return category;
}

boost::system::error_code make_error_code(HttpError error) noexcept { return {static_cast<int>(error), http_category()}; }

std::optional<std::string> check_http_url(std::string_view url) {
  auto parsed = parse_url(url);
  if (auto* problem = std::get_if<UrlProblem>(&parsed)) return std::move(problem->message);
  return std::nullopt;
}

asio::awaitable<HttpResponse> http_request(asio::any_io_executor executor, HttpRequest request) {
  HttpResponse response;
  const auto parsed = parse_url(request.url);
  if (const auto* problem = std::get_if<UrlProblem>(&parsed)) {
    response.error = problem->error;
    response.message = request.method + " " + request.url + ": " + problem->message;
  } else if (auto problem = request_problem(request)) {
    response.error = HttpError::bad_request;
    response.message = request.method + " " + request.url + ": " + *problem;
  } else {
    co_await exchange(executor, request, std::get<Url>(parsed), response);
  }
  co_return response;
}

} // namespace trimtab
