#pragma once

// Fetching one metrics document: an HTTP GET (through trimtab/adapters/http_client.hpp) or a
// file:// read.

#include <chrono>
#include <cstddef>
#include <string>
#include <type_traits>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

namespace trimtab {

/// Why a fetch failed, beyond the errors the system reports itself (connection refused, host not
/// found, no such file…), which FetchResult::error carries as they are.
enum class FetchError {
  bad_url = 1,        ///< not http://host[:port]/path nor file:///absolute/path
  unsupported_scheme, ///< https:// (trimtab has no TLS) or another scheme
  timed_out,          ///< the request as a whole took longer than FetchOptions::timeout
  http_status,        ///< the server answered with a status outside 2xx (redirects are not followed)
  body_too_large,     ///< the body is larger than FetchOptions::max_body_bytes
};

/// The category of FetchError ("trimtab.fetch").
[[nodiscard]] const boost::system::error_category& fetch_category() noexcept;

[[nodiscard]] boost::system::error_code make_error_code(FetchError error) noexcept;

struct FetchOptions {
  /// The whole request: resolve, connect, write and read together, not each step.
  std::chrono::milliseconds timeout{2000};
  /// Largest body accepted; a larger one is an error, not a truncated document.
  std::size_t max_body_bytes = std::size_t{64} * 1024 * 1024;
  /// The Accept header sent: OpenMetrics first, Prometheus text next, anything last.
  std::string accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
};

struct FetchResult {
  /// The body, when the fetch succeeded.
  std::string body;
  /// The Content-Type header as the server sent it; empty for file:// and when absent.
  std::string content_type;
  /// Empty on success; a system error, an HTTP parse error (boost::beast::http::error) or a
  /// FetchError (HttpError::bad_request when FetchOptions::accept holds a line break or NUL).
  boost::system::error_code error;
  /// Empty on success; else says what failed and where:
  /// "GET http://127.0.0.1:9/metrics: connect: Connection refused",
  /// "GET http://127.0.0.1:8080/metrics: timed out after 2000 ms while reading the response",
  /// "GET http://127.0.0.1:8080/metrics: HTTP 503 Service Unavailable",
  /// "GET http://127.0.0.1:8080/metrics: body larger than 67108864 bytes",
  /// "read file:///tmp/m.prom: No such file or directory".
  std::string message;
  /// From the start of the fetch to its end, whatever the outcome.
  std::chrono::microseconds elapsed{0};

  [[nodiscard]] bool ok() const noexcept { return !error; }
};

/// Fetches one metrics document from `url`:
/// - `http://host[:port][/path][?query]`: a GET over a fresh connection, closed afterwards, with
///   the whole request bounded by options.timeout (http_request(), whose errors become
///   FetchErrors); a 2xx answer is a success, anything else an error whose body is not read
///   (redirects are not followed). A timeout that is not positive times out at once. The host is an IPv4 address, a [bracketed] IPv6
///   address or a name (resolved with the system resolver).
/// - `file:///absolute/path` (percent-encoded as URLs are): the file's content, for tests and
///   replays. It is read synchronously, so it is meant for local files, not network mounts.
/// - `https://…`: an error (no TLS in trimtab: put a local proxy in front, or use http).
///
/// Never throws for anything about the URL, the network, the server or the file (only
/// std::bad_alloc): every failure is a FetchResult with `error` and `message` set. Run it on a
/// single-threaded executor (an io_context run by one thread, or a strand). `url` is taken by
/// value because the coroutine may outlive the caller's string (co_spawn starts it later).
///
/// Completes after the connection is closed. When the system resolver hangs past the timeout the
/// fetch still completes on time, but the abandoned lookup keeps the executor's io_context busy
/// until getaddrinfo returns.
[[nodiscard]] boost::asio::awaitable<FetchResult> fetch_metrics(boost::asio::any_io_executor executor, std::string url,
                                                                FetchOptions options = {});

} // namespace trimtab

template <>
struct boost::system::is_error_code_enum<trimtab::FetchError> : std::true_type {};
