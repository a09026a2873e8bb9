#include <trimtab/agent/metrics_fetcher.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <trimtab/adapters/http_client.hpp>

namespace trimtab {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

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

struct HttpUrl {}; // one check_http_url() accepts; http_request() takes it as written

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
  if (auto problem = check_http_url(url)) return bad_url(url, *problem);
  return HttpUrl{};
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

// The FetchError an HttpError stands for; other errors (the system's, Beast's parse errors, an
// Accept header http_request() refuses) are passed on as they are.
[[nodiscard]] error_code fetch_error(const error_code& ec) {
  if (ec.category() != http_category()) return ec;
  switch (static_cast<HttpError>(ec.value())) {
  case HttpError::bad_url: return FetchError::bad_url;
  case HttpError::unsupported_scheme: return FetchError::unsupported_scheme;
  case HttpError::timed_out: return FetchError::timed_out;
  case HttpError::body_too_large: return FetchError::body_too_large;
  case HttpError::http_status: return FetchError::http_status;
  case HttpError::bad_request: break;
  }
  return ec;
}

// A GET through http_request(), its errors mapped to FetchErrors.
asio::awaitable<void> http_get(asio::any_io_executor executor, const std::string& url, const FetchOptions& options,
                               FetchResult& result) {
  const std::string prefix = "GET " + url + ": ";
  if (options.timeout.count() <= 0) { // http_request() refuses it; over before it starts
    result.error = FetchError::timed_out;
    result.message = prefix + "timed out after " + std::to_string(options.timeout.count()) + " ms before starting";
    co_return;
  }
  HttpRequest request{.url = url, .timeout = options.timeout, .max_body_bytes = options.max_body_bytes, .only_2xx = true};
  request.headers.emplace_back("Accept", options.accept);
  HttpResponse response = co_await http_request(executor, std::move(request));
  if (response.error) {
    result.error = fetch_error(response.error);
    result.message = result.error == FetchError::body_too_large
                         ? prefix + "body larger than " + std::to_string(options.max_body_bytes) + " bytes"
                         : std::move(response.message);
    co_return;
  }
  result.body = std::move(response.body);
  result.content_type = std::move(response.content_type);
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
    co_await http_get(executor, url, options, result);
  }
  result.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
  co_return result;
}

} // namespace trimtab
