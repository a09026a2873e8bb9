#include <trimtab/adapters/http_adapter.hpp>

#include <algorithm>
#include <array>
#include <exception>
#include <string_view>
#include <variant>

#include <boost/asio/co_spawn.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <trimtab/adapters/http_client.hpp>
#include <trimtab/core/did_you_mean.hpp>
#include <trimtab/core/point_json.hpp>

#include <trimtab/core/ascii.hpp>
#include "adapter_operation.hpp"
#include "adapter_options.hpp"
#include "text_formats.hpp"

namespace trimtab {
namespace {

namespace asio = boost::asio;

// How much of an error response's body a failure message quotes.
constexpr std::size_t quoted_body_chars = 200;

constexpr std::array<std::string_view, 4> option_keys{"url", "method", "current_url", "timeout"};

// Why `method` cannot send settings, or nothing.
[[nodiscard]] std::optional<std::string> method_problem(const std::string& method) {
  if (method == "PUT" || method == "POST" || method == "PATCH") return std::nullopt;
  return "method '" + method + "' is not PUT, POST or PATCH";
}

// The body as one line of at most quoted_body_chars bytes, cut on a UTF-8 character boundary.
[[nodiscard]] std::string quote_body(std::string_view body) {
  while (!body.empty() && std::string_view(" \t\r\n").find(body.back()) != std::string_view::npos) body.remove_suffix(1);
  while (!body.empty() && std::string_view(" \t\r\n").find(body.front()) != std::string_view::npos) body.remove_prefix(1);
  std::string text;
  detail::append_line_head(text, body, quoted_body_chars);
  return text;
}

[[nodiscard]] std::string describe_status(const HttpResponse& response) {
  std::string text = "HTTP " + std::to_string(response.status);
  if (auto body = quote_body(response.body); !body.empty()) return text + ": " + body;
  const auto reason = boost::beast::http::obsolete_reason(boost::beast::http::int_to_status(response.status));
  return reason == "<unknown-status>" ? text : text + " " + std::string(reason);
}

[[nodiscard]] std::string kind_of(const boost::json::value& json) {
  switch (json.kind()) {
  case boost::json::kind::null: return "null";
  case boost::json::kind::bool_: return "a boolean";
  case boost::json::kind::array: return "an array";
  case boost::json::kind::object: return "an object";
  default: return "a number or a string";
  }
}

} // namespace

struct HttpAdapter::State : adapter_detail::AdapterIdentity {
  HttpAdapterOptions options;

  [[nodiscard]] HttpRequest request(std::string method, std::string url) const {
    HttpRequest request;
    request.method = std::move(method);
    request.url = std::move(url);
    request.headers.emplace_back("Accept", "application/json");
    request.headers.insert(request.headers.end(), options.headers.begin(), options.headers.end());
    request.timeout = options.timeout;
    return request;
  }

  // A failed exchange or a status outside 2xx as a failure, or a success.
  [[nodiscard]] AdapterResult judge(const HttpRequest& request, const HttpResponse& response) const {
    if (response.error) return failure(response.error, response.message);
    if (response.status / 100 != 2)
      return failure(AdapterError::http_status, request.method + " " + request.url + ": " + describe_status(response));
    return {};
  }
};

HttpAdapter::HttpAdapter(asio::any_io_executor executor, std::string name, std::vector<std::string> params,
                         HttpAdapterOptions options)
    : AdapterBase(std::move(executor), name, params, options.timeout, "an http adapter") {
  const auto fail = [&](const std::string& what) { adapter_detail::throw_invalid(name, what); };
  if (options.url.empty()) fail("no url");
  if (options.current_url.empty()) options.current_url = options.url;
  if (auto problem = check_http_url(options.url)) fail("url '" + options.url + "': " + *problem);
  if (auto problem = check_http_url(options.current_url)) fail("current_url '" + options.current_url + "': " + *problem);
  if (auto problem = method_problem(options.method)) fail(*problem);
  if (options.timeout.count() <= 0) fail("the timeout must be positive");
  state_ = std::make_shared<const State>(State{{std::move(name), std::move(params)}, std::move(options)});
}

HttpAdapterOptions HttpAdapter::from_options(const std::string& name, const std::map<std::string, std::string>& options) {
  const auto fail = [&](const std::string& what) { adapter_detail::throw_invalid(name, what); };
  for (const auto& [key, value] : options)
    if (std::find(option_keys.begin(), option_keys.end(), key) == option_keys.end())
      fail("unknown option '" + key + "'" + did_you_mean(key, option_keys) +
           " (an http adapter takes url, method, current_url and timeout)");

  HttpAdapterOptions result;
  const auto url = options.find("url");
  if (url == options.end() || url->second.empty()) fail("option 'url' is required (http://host:port/path)");
  result.url = url->second;
  if (auto problem = check_http_url(result.url)) fail("url '" + result.url + "': " + *problem);
  if (const auto method = options.find("method"); method != options.end()) {
    result.method = ascii::upper(method->second);
    if (auto problem = method_problem(result.method)) fail("option 'method': " + *problem);
  }
  if (const auto current = options.find("current_url"); current != options.end()) {
    result.current_url = current->second;
    if (auto problem = check_http_url(result.current_url))
      fail("current_url '" + result.current_url + "': " + *problem);
  } else {
    result.current_url = result.url;
  }
  if (auto problem = adapter_detail::read_timeout_option(options, result.timeout)) fail(*problem);
  return result;
}

const HttpAdapterOptions& HttpAdapter::options() const noexcept { return state_->options; }

void HttpAdapter::async_apply(Settings settings, apply_handler handler) {
  auto run = [](asio::any_io_executor executor, std::shared_ptr<const State> state,
                Settings settings) -> asio::awaitable<AdapterResult> {
    if (auto checked = check_settings(state->name, state->params, settings); !checked) co_return checked;
    boost::json::object body;
    for (const auto& param : state->params)
      for (const auto& [name, value] : settings)
        if (name == param) body[name] = value_to_json(value);
    auto request = state->request(state->options.method, state->options.url);
    request.body = boost::json::serialize(body);
    request.content_type = "application/json";
    const auto response = co_await http_request(executor, request);
    co_return state->judge(request, response);
  };
  adapter_detail::spawn_apply(get_executor(), run(get_executor(), state_, std::move(settings)), std::move(handler));
}

void HttpAdapter::async_current(current_handler handler) {
  using Outcome = adapter_detail::CurrentOutcome;
  auto run = [](asio::any_io_executor executor, std::shared_ptr<const State> state) -> asio::awaitable<Outcome> {
    const auto request = state->request("GET", state->options.current_url);
    const auto response = co_await http_request(executor, request);
    if (auto judged = state->judge(request, response); !judged) co_return Outcome{std::move(judged), {}};
    const auto where = request.method + " " + request.url + ": ";
    const auto bad = [&](AdapterError error, const std::string& what) {
      return Outcome{state->failure(error, where + what), {}};
    };

    boost::system::error_code ec;
    const auto json = boost::json::parse(response.body, ec);
    if (ec) co_return bad(AdapterError::bad_response, "the response is not JSON (" + ec.message() + "): " +
                                                          quote_body(response.body));
    if (!json.is_object()) co_return bad(AdapterError::bad_response, "expected a JSON object, got " + kind_of(json));
    const auto& object = json.get_object();
    Settings current;
    current.reserve(state->params.size());
    for (const auto& param : state->params) {
      const auto* value = object.if_contains(param);
      if (!value) co_return bad(AdapterError::missing_param, "the response has no '" + param + "'");
      if (value->is_int64())
        current.emplace_back(param, value->get_int64());
      else if (value->is_uint64()) // beyond int64
        current.emplace_back(param, static_cast<double>(value->get_uint64()));
      else if (value->is_double())
        current.emplace_back(param, value->get_double());
      else if (value->is_string())
        current.emplace_back(param, std::string(value->get_string()));
      else
        co_return bad(AdapterError::bad_response, "'" + param + "' is " + kind_of(*value) + ", not a number or a string");
    }
    co_return Outcome{AdapterResult{}, std::move(current)};
  };
  adapter_detail::spawn_current(get_executor(), run(get_executor(), state_), std::move(handler));
}

} // namespace trimtab
