#include <trimtab/agent/metrics_fetcher.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

namespace trimtab {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

class FetchCategory final : public boost::system::error_category {
public:
  const char* name() const noexcept override { return "trimtab.fetch"; }

  std::string message(int value) const override {
    switch (static_cast<FetchError>(value)) {
    case FetchError::bad_url: return "bad URL";
    case FetchError::unsupported_scheme: return "unsupported URL scheme";
    case FetchError::timed_out: return "timed out";
    case FetchError::http_status: return "HTTP status outside 2xx";
    case FetchError::body_too_large: return "body too large";
    }
    return "unknown fetch error";
  }
};

struct HttpUrl {
  std::string host;      // without brackets for IPv6
  std::string port;      // digits
  std::string authority; // as written, for the Host header
  std::string target;    // path and query, starting with '/'
};

struct FileUrl {
  std::string path;
};

struct UrlError {
  FetchError error;
  std::string message;
};

using ParsedUrl = std::variant<HttpUrl, FileUrl, UrlError>;

[[nodiscard]] bool starts_with_nocase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
           return (a >= 'A' && a <= 'Z' ? static_cast<char>(a - 'A' + 'a') : a) == b;
         });
}

[[nodiscard]] bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

[[nodiscard]] int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Characters a URL's path and query may hold literally: printable ASCII without space, '#', and
// the characters RFC 3986 never allows unescaped.
[[nodiscard]] std::optional<char> bad_path_char(std::string_view text) {
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' || c == '`' ||
        c == '{' || c == '|' || c == '}')
      return c;
  }
  return std::nullopt;
}

[[nodiscard]] std::string describe_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return std::string("'") + c + "'";
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "0x%02x", u);
  return buffer;
}

// Checks percent escapes and, when `decode`, decodes them.
[[nodiscard]] std::optional<std::string> percent_decode(std::string_view text, bool decode) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int high = hex_value(text[i + 1]), low = hex_value(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    if (decode)
      out += static_cast<char>(high * 16 + low);
    else
      out.append(text.substr(i, 3));
    i += 2;
  }
  return out;
}

[[nodiscard]] UrlError bad_url(std::string_view url, const std::string& why) {
  return UrlError{FetchError::bad_url, "bad URL '" + std::string(url) + "': " + why};
}

[[nodiscard]] ParsedUrl parse_file_url(std::string_view url) {
  const std::string_view rest = url.substr(7);
  if (rest.empty() || rest.front() != '/')
    return bad_url(url, "a file URL is file:///absolute/path (three slashes, no host)");
  if (const auto c = bad_path_char(rest)) return bad_url(url, describe_char(*c) + " must be percent-encoded");
  auto path = percent_decode(rest, true);
  if (!path) return bad_url(url, "'%' must start an escape of two hex digits");
  if (path->find('\0') != std::string::npos) return bad_url(url, "the path holds a NUL character");
  return FileUrl{std::move(*path)};
}

[[nodiscard]] ParsedUrl parse_http_url(std::string_view url) {
  const std::string_view rest = url.substr(7);
  const std::size_t authority_end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, authority_end);
  std::string_view target = authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);

  if (authority.empty()) return bad_url(url, "no host after http://");
  if (authority.find('@') != std::string_view::npos) return bad_url(url, "credentials in the URL are not supported");

  HttpUrl parsed;
  parsed.authority = std::string(authority);
  std::string_view port;
  if (authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad_url(url, "an IPv6 address needs its closing ']'");
    parsed.host = std::string(authority.substr(1, close - 1));
    error_code ec;
    (void)asio::ip::make_address_v6(parsed.host, ec);
    if (ec) return bad_url(url, "'" + parsed.host + "' is not an IPv6 address");
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return bad_url(url, "expected ':port' after ']'");
      port = after.substr(1);
      if (port.empty()) return bad_url(url, "empty port after ':'");
    }
  } else {
    const std::size_t colon = authority.find(':');
    const std::string_view host = authority.substr(0, colon);
    if (host.empty()) return bad_url(url, "no host after http://");
    for (const char c : host)
      if (!is_alnum(c) && c != '-' && c != '.' && c != '_')
        return bad_url(url, describe_char(c) + " cannot appear in a host name");
    parsed.host = std::string(host);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return bad_url(url, "empty port after ':'");
    }
  }
  if (port.empty()) {
    parsed.port = "80";
  } else {
    unsigned value = 0;
    for (const char c : port) {
      if (c < '0' || c > '9' || value > 65535) return bad_url(url, "the port must be a number from 1 to 65535");
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value == 0 || value > 65535) return bad_url(url, "the port must be a number from 1 to 65535");
    parsed.port = std::to_string(value);
  }

  if (target.find('#') != std::string_view::npos)
    return bad_url(url, "a fragment ('#…') is never sent to a server; leave it out");
  if (const auto c = bad_path_char(target)) return bad_url(url, describe_char(*c) + " must be percent-encoded");
  if (!percent_decode(target, false)) return bad_url(url, "'%' must start an escape of two hex digits");
  if (target.empty())
    parsed.target = "/";
  else if (target.front() == '?')
    parsed.target = "/" + std::string(target);
  else
    parsed.target = std::string(target);
  return parsed;
}

[[nodiscard]] ParsedUrl parse_url(std::string_view url) {
  if (starts_with_nocase(url, "http://")) return parse_http_url(url);
  if (starts_with_nocase(url, "file://")) return parse_file_url(url);
  if (starts_with_nocase(url, "https://"))
    return UrlError{FetchError::unsupported_scheme,
                    "GET " + std::string(url) + ": https is not supported; put a local proxy or use http"};
  const std::size_t colon = url.find("://");
  if (colon != std::string_view::npos && colon > 0)
    return UrlError{FetchError::unsupported_scheme, "'" + std::string(url) + "': unsupported scheme '" +
                                                        std::string(url.substr(0, colon)) +
                                                        "' (http:// or file:///path)"};
  return bad_url(url, "expected http://host[:port]/path or file:///absolute/path");
}

// Reads a whole file, refusing more than `limit` bytes. Synchronous: file:// is for local files.
void read_file(const std::string& url, const std::string& path, std::size_t limit, FetchResult& result) {
  const auto fail = [&](error_code ec, const std::string& what) {
    result.error = ec;
    result.message = "read " + url + ": " + what;
    result.body.clear();
  };
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) {
    const error_code ec(errno, boost::system::system_category());
    return fail(ec, ec.message());
  }
  char buffer[65536];
  for (;;) {
    const std::size_t n = std::fread(buffer, 1, sizeof buffer, file.get());
    if (n > 0) {
      if (result.body.size() + n > limit)
        return fail(FetchError::body_too_large, "larger than " + std::to_string(limit) + " bytes");
      result.body.append(buffer, n);
    }
    if (n < sizeof buffer) {
      if (std::ferror(file.get())) {
        const error_code ec(errno != 0 ? errno : EIO, boost::system::system_category());
        return fail(ec, ec.message());
      }
      return;
    }
  }
}

// The resolver runs getaddrinfo on a background thread that cannot be interrupted, so a lookup is
// raced against the deadline through state shared with a detached coroutine: the fetch goes on at
// the deadline, and the lookup, if it hangs, finishes later on its own.
struct Lookup {
  Lookup(const asio::any_io_executor& executor, Clock::time_point deadline)
      : resolver(executor), wake(executor, deadline) {}

  tcp::resolver resolver;
  asio::steady_timer wake; // fires at the deadline, or is cancelled when the lookup is done
  bool done = false;
  error_code error;
  tcp::resolver::results_type results;
};

asio::awaitable<void> run_lookup(std::shared_ptr<Lookup> lookup, std::string host, std::string port) {
  auto [ec, results] = co_await lookup->resolver.async_resolve(host, port, tcp::resolver::numeric_service, use_tuple);
  lookup->error = ec;
  lookup->results = std::move(results);
  lookup->done = true;
  lookup->wake.cancel();
}

std::string status_line(const http::response_parser<http::string_body>& parser) {
  const auto& header = parser.get();
  std::string reason(header.reason());
  if (reason.empty()) reason = std::string(http::obsolete_reason(header.result()));
  return "HTTP " + std::to_string(header.result_int()) + (reason.empty() ? "" : " " + reason);
}

asio::awaitable<void> http_get(asio::any_io_executor executor, const std::string& url, const HttpUrl& parsed,
                               const FetchOptions& options, Clock::time_point start, FetchResult& result) {
  const Clock::time_point deadline = start + options.timeout;
  const std::string prefix = "GET " + url + ": ";
  const auto fail = [&](error_code ec, const std::string& what) {
    result.error = ec;
    result.message = prefix + what;
    result.body.clear();
  };
  const auto timed_out = [&](const char* during) {
    fail(FetchError::timed_out,
         "timed out after " + std::to_string(options.timeout.count()) + " ms while " + during);
  };

  // Resolve, unless the host is an address already.
  std::vector<tcp::endpoint> endpoints;
  error_code ec;
  const auto address = asio::ip::make_address(parsed.host, ec);
  const auto port = static_cast<unsigned short>(std::stoul(parsed.port));
  if (!ec) {
    endpoints.emplace_back(address, port);
  } else {
    auto lookup = std::make_shared<Lookup>(executor, deadline);
    asio::co_spawn(executor, run_lookup(lookup, parsed.host, parsed.port), asio::detached);
    if (!lookup->done) (void)co_await lookup->wake.async_wait(use_tuple);
    if (!lookup->done) {
      lookup->resolver.cancel();
      co_return timed_out("resolving the host");
    }
    if (lookup->error) co_return fail(lookup->error, "resolve " + parsed.host + ": " + lookup->error.message());
    for (const auto& entry : lookup->results) endpoints.push_back(entry.endpoint());
    if (endpoints.empty()) co_return fail(asio::error::host_not_found, "resolve " + parsed.host + ": no address");
  }

  // Connect, write and read under one deadline.
  beast::tcp_stream stream(executor);
  stream.expires_at(deadline);
  if (auto [connect_ec, endpoint] = co_await stream.async_connect(endpoints, use_tuple); connect_ec) {
    if (connect_ec == beast::error::timeout) co_return timed_out("connecting");
    co_return fail(connect_ec, "connect: " + connect_ec.message());
  }

  http::request<http::empty_body> request{http::verb::get, parsed.target, 11};
  request.set(http::field::host, parsed.authority);
  request.set(http::field::user_agent, "trimtab");
  request.set(http::field::accept, options.accept);
  request.set(http::field::connection, "close");
  if (auto [write_ec, written] = co_await http::async_write(stream, request, use_tuple); write_ec) {
    if (write_ec == beast::error::timeout) co_return timed_out("sending the request");
    co_return fail(write_ec, "write: " + write_ec.message());
  }

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(options.max_body_bytes);
  const auto read_failed = [&](error_code read_ec) {
    if (read_ec == beast::error::timeout) return timed_out("reading the response");
    if (read_ec == http::error::body_limit)
      return fail(FetchError::body_too_large, "body larger than " + std::to_string(options.max_body_bytes) + " bytes");
    fail(read_ec, "read: " + read_ec.message());
  };
  if (auto [read_ec, n] = co_await http::async_read_header(stream, buffer, parser, use_tuple); read_ec)
    co_return read_failed(read_ec);
  // Judge the status before reading a body that would be thrown away.
  if (parser.get().result_int() / 100 != 2) co_return fail(FetchError::http_status, status_line(parser));
  if (auto [read_ec, n] = co_await http::async_read(stream, buffer, parser, use_tuple); read_ec)
    co_return read_failed(read_ec);

  result.content_type = std::string(parser.get()[http::field::content_type]);
  result.body = parser.release().body();
  error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream.close();
}

} // namespace

const boost::system::error_category& fetch_category() noexcept {
  static const FetchCategory category;
  return category;
}

boost::system::error_code make_error_code(FetchError error) noexcept {
  return {static_cast<int>(error), fetch_category()};
}

asio::awaitable<FetchResult> fetch_metrics(asio::any_io_executor executor, std::string url, FetchOptions options) {
  const Clock::time_point start = Clock::now();
  FetchResult result;
  const ParsedUrl parsed = parse_url(url);
  if (const auto* error = std::get_if<UrlError>(&parsed)) {
    result.error = error->error;
    result.message = error->message;
  } else if (const auto* file = std::get_if<FileUrl>(&parsed)) {
    read_file(url, file->path, options.max_body_bytes, result);
  } else {
    co_await http_get(executor, url, std::get<HttpUrl>(parsed), options, start, result);
  }
  result.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
  co_return result;
}

} // namespace trimtab
