#pragma once

// One HTTP/1.1 exchange over a fresh connection (Boost.Beast), for adapters that drive a service
// through its admin endpoint.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

namespace trimtab {

/// Why an HTTP exchange failed, beyond the errors the system reports itself (connection refused,
/// host not found…) and Beast's parse errors, which HttpResponse::error carries as they are.
enum class HttpError {
  bad_url = 1,        ///< not http://host[:port][/path][?query]
  unsupported_scheme, ///< https:// (trimtab has no TLS) or another scheme
  bad_request,        ///< a method or header that cannot be sent, or a timeout that is not positive
  timed_out,          ///< the exchange as a whole took longer than HttpRequest::timeout
  body_too_large,     ///< the response body is larger than HttpRequest::max_body_bytes
  http_status,        ///< a status outside 2xx, when HttpRequest::only_2xx is set
};

/// The category of HttpError ("trimtab.http").
[[nodiscard]] const boost::system::error_category& http_category() noexcept;

[[nodiscard]] boost::system::error_code make_error_code(HttpError error) noexcept;

struct HttpRequest {
  /// Any HTTP method token: GET, PUT, POST, PATCH, DELETE…
  std::string method = "GET";
  /// http://host[:port][/path][?query]; the host is an IPv4 address, a [bracketed] IPv6 address or
  /// a name (resolved with the system resolver).
  std::string url{};
  /// Sent as is, with a Content-Length; nothing is sent when empty (for GET, say).
  std::string body{};
  /// The Content-Type header; none is sent when empty.
  std::string content_type{};
  /// Further headers (an Authorization token, say), in this order.
  std::vector<std::pair<std::string, std::string>> headers{};
  /// The whole exchange: resolve, connect, write and read together, not each step.
  std::chrono::milliseconds timeout{2000};
  /// Largest response body accepted; a larger one is an error, not a truncated body.
  std::size_t max_body_bytes = std::size_t{1024} * 1024;
  /// When set, a status outside 2xx (a redirect too: none is followed) is an error,
  /// HttpError::http_status, judged on the header alone: the body of such a response is not read.
  bool only_2xx = false;
};

struct HttpResponse {
  /// The status the server answered with; 0 when no status line was read.
  unsigned status = 0;
  /// The body, whatever the status; empty on error.
  std::string body{};
  /// The Content-Type header as the server sent it; empty when absent.
  std::string content_type{};
  /// Empty when a response was read, whatever its status; else a system error, an HTTP parse
  /// error (boost::beast::http::error) or an HttpError.
  boost::system::error_code error{};
  /// Empty when a response was read; else says what failed and where:
  /// "PUT http://127.0.0.1:9/admin/config: connect: Connection refused",
  /// "GET http://127.0.0.1:8080/admin/config: timed out after 2000 ms while reading the response",
  /// "GET http://127.0.0.1:8080/metrics: HTTP 503 Service Unavailable" (with HttpRequest::only_2xx),
  /// "PUT https://example.com/admin: https is not supported (put a local TLS proxy in front, or use http)".
  std::string message{};
};

/// Says what is wrong with `url` as a URL http_request() accepts ("https is not supported…",
/// "the port must be a number from 1 to 65535"), or nothing when it is one. For checking a
/// configuration up front.
[[nodiscard]] std::optional<std::string> check_http_url(std::string_view url);

/// Sends `request` over a new connection, closed afterwards, and reads the response, with the whole
/// exchange bounded by request.timeout. Any status is a response (the caller judges it) unless
/// request.only_2xx is set; redirects are not followed. Plain http:// only.
///
/// Never throws for anything about the request, the network or the server (only std::bad_alloc):
/// every failure is an HttpResponse with `error` and `message` set. Run it on a single-threaded
/// executor (an io_context run by one thread, or a strand). The request is taken by value because
/// the coroutine may outlive the caller's copy (co_spawn starts it later).
///
/// Completes after the connection is closed. When the system resolver hangs past the timeout the
/// request still completes on time, but the abandoned lookup keeps the executor's io_context busy
/// until getaddrinfo returns.
[[nodiscard]] boost::asio::awaitable<HttpResponse> http_request(boost::asio::any_io_executor executor,
                                                                HttpRequest request);

} // namespace trimtab

template <>
struct boost::system::is_error_code_enum<trimtab::HttpError> : std::true_type {};
