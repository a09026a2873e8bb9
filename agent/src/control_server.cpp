#include <trimtab/agent/control_server.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <unordered_map>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <trimtab/agent/control_token.hpp>
#include <trimtab/agent/token_bucket.hpp>

namespace trimtab {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

constexpr std::string_view metrics_type = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::string_view json_type = "application/json";
constexpr std::string_view html_type = "text/html; charset=utf-8";

/// After an error answer that closes the connection, how long (and how many bytes) to read and
/// discard what the client still sends, so that closing does not reset the connection before the
/// client has read the answer.
constexpr std::chrono::seconds linger_time{1};
constexpr std::size_t linger_bytes = 64 * 1024;

/// Waited after an accept error such as "too many open files", so the loop does not spin.
constexpr std::chrono::milliseconds accept_backoff{100};

enum class RouteKind { metrics, status, page, command };

struct Route {
  std::string_view path;
  RouteKind kind;
  std::string_view action; // for commands
};

constexpr std::array<Route, 8> routes{{
    {"/metrics", RouteKind::metrics, {}},
    {"/status", RouteKind::status, {}},
    {"/", RouteKind::page, {}},
    {"/pause", RouteKind::command, "pause"},
    {"/resume", RouteKind::command, "resume"},
    {"/rollback", RouteKind::command, "rollback"},
    {"/recommend", RouteKind::command, "recommend"},
    {"/apply", RouteKind::command, "apply"},
}};

const Route* find_route(std::string_view target) {
  const auto path = target.substr(0, target.find('?'));
  for (const auto& route : routes) {
    if (route.path == path) return &route;
  }
  return nullptr;
}

std::string_view route_label(std::string_view target) {
  const auto* route = find_route(target);
  return route != nullptr ? route->path : std::string_view("other");
}

Response make_response(const Request& req, http::status status, std::string_view content_type, std::string body) {
  Response res{status, req.version()};
  res.set(http::field::server, "trimtab");
  res.set(http::field::content_type, content_type);
  res.set(http::field::cache_control, "no-store");
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response json_answer(const Request& req, http::status status, bool ok, std::string_view message) {
  boost::json::object body;
  body["ok"] = ok;
  body["message"] = message;
  return make_response(req, status, json_type, boost::json::serialize(body) + "\n");
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

std::string_view trim(std::string_view text) {
  const auto space = [](char c) { return c == ' ' || c == '\t'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

/// The token of an "Authorization: Bearer <token>" field (scheme case-insensitive), if there is one.
std::optional<std::string_view> bearer_token(const Request& req) {
  const auto it = req.find(http::field::authorization);
  if (it == req.end()) return std::nullopt;
  auto value = trim(std::string_view(it->value().data(), it->value().size()));
  constexpr std::string_view scheme = "bearer";
  if (value.size() <= scheme.size() || !iequals(value.substr(0, scheme.size()), scheme) ||
      (value[scheme.size()] != ' ' && value[scheme.size()] != '\t')) {
    return std::nullopt;
  }
  value = trim(value.substr(scheme.size()));
  if (value.empty()) return std::nullopt;
  return value;
}

[[noreturn]] void bad_listen(std::string_view listen, std::string_view why) {
  throw std::invalid_argument("control.listen: \"" + std::string(listen) + "\" is not host:port (" +
                              std::string(why) + ")");
}

tcp::endpoint parse_listen(std::string_view listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string_view::npos) bad_listen(listen, "no port");
  auto host = listen.substr(0, colon);
  const auto port_text = listen.substr(colon + 1);
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535) {
    bad_listen(listen, "the port must be a number from 0 to 65535");
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    bad_listen(listen, "write an IPv6 address in brackets, as [::1]:9464");
  }
  if (host.empty()) bad_listen(listen, "no host; write 127.0.0.1 for this machine only, 0.0.0.0 for every interface");
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code address_error;
  const auto address = asio::ip::make_address(std::string(host), address_error);
  if (address_error) bad_listen(listen, "the host must be an IP address or localhost");
  return {address, static_cast<unsigned short>(port)};
}

} // namespace

// --- the server --------------------------------------------------------------------------------------

struct ControlServer::Impl : std::enable_shared_from_this<Impl> {
  Impl(asio::any_io_executor ex, ControlServerOptions opts, ControlHandlers hs)
      : executor(std::move(ex)), options(std::move(opts)), handlers(std::move(hs)), acceptor(executor),
        backoff(executor), bucket(options.commands_per_second, options.command_burst) {}

  asio::any_io_executor executor;
  ControlServerOptions options;
  ControlHandlers handlers;
  tcp::acceptor acceptor;
  asio::steady_timer backoff;
  TokenBucket bucket;
  ControlServerStats stats;
  /// The open connections, so stop() can close them. The coroutine serving one removes it.
  std::unordered_map<std::uint64_t, std::shared_ptr<beast::tcp_stream>> connections;
  std::uint64_t next_connection = 0;
  unsigned short port = 0;
  bool started = false;
  bool stopped = false;

  void count(std::string_view route, const Response& res) {
    ++stats.requests[{std::string(route), res.result_int()}];
  }

  void stop() noexcept {
    if (stopped) return;
    stopped = true;
    boost::system::error_code ignored;
    acceptor.close(ignored);
    try {
      backoff.cancel();
    } catch (...) {
    }
    for (auto& [id, stream] : connections) stream->close();
  }

  Response answer(const Request& req);
  Response answer_get(const Request& req, const Route& route);
  Response answer_command(const Request& req, const Route& route);

  static asio::awaitable<void> accept_loop(std::shared_ptr<Impl> self);
  static asio::awaitable<void> serve(std::shared_ptr<Impl> self, std::uint64_t id,
                                     std::shared_ptr<beast::tcp_stream> stream);
};

Response ControlServer::Impl::answer(const Request& req) {
  const auto target = std::string_view(req.target().data(), req.target().size());
  const auto* route = find_route(target);
  if (route == nullptr) return json_answer(req, http::status::not_found, false, "not found");
  if (route->kind == RouteKind::command) {
    if (req.method() != http::verb::post) {
      auto res = json_answer(req, http::status::method_not_allowed, false, "use POST");
      res.set(http::field::allow, "POST");
      return res;
    }
    return answer_command(req, *route);
  }
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    auto res = json_answer(req, http::status::method_not_allowed, false, "use GET");
    res.set(http::field::allow, "GET, HEAD");
    return res;
  }
  auto res = answer_get(req, *route);
  if (req.method() == http::verb::head) {
    // The headers of the GET answer, Content-Length included, without its body.
    const auto size = res.body().size();
    res.body().clear();
    res.content_length(size);
  }
  return res;
}

Response ControlServer::Impl::answer_get(const Request& req, const Route& route) {
  try {
    switch (route.kind) {
    case RouteKind::metrics:
      if (handlers.metrics) return make_response(req, http::status::ok, metrics_type, handlers.metrics());
      break;
    case RouteKind::status:
      if (handlers.status) {
        return make_response(req, http::status::ok, json_type, boost::json::serialize(handlers.status()) + "\n");
      }
      break;
    case RouteKind::page:
      if (handlers.page) return make_response(req, http::status::ok, html_type, handlers.page());
      break;
    case RouteKind::command:
      break;
    }
  } catch (const std::exception& e) {
    return json_answer(req, http::status::internal_server_error, false, std::string("internal error: ") + e.what());
  }
  return json_answer(req, http::status::not_implemented, false, "this agent does not serve " + std::string(route.path));
}

Response ControlServer::Impl::answer_command(const Request& req, const Route& route) {
  if (!options.token) {
    return json_answer(req, http::status::forbidden, false, "no token configured; set control.token_file");
  }
  const auto now = TokenBucket::clock::now();
  if (!bucket.try_take(now)) {
    ++stats.rate_limited;
    auto res = json_answer(req, http::status::too_many_requests, false, "too many commands; try again later");
    const double wait = std::clamp(std::ceil(bucket.wait_time(now).count()), 1.0, 3600.0);
    res.set(http::field::retry_after, std::to_string(static_cast<int>(wait)));
    return res;
  }
  const auto given = bearer_token(req);
  const bool authorised = given && constant_time_equal(*options.token, *given);
  if (!authorised) {
    ++stats.auth_failures;
    auto res = json_answer(req, http::status::unauthorized, false,
                           given ? "wrong token" : "missing token; send Authorization: Bearer <token>");
    res.set(http::field::www_authenticate, "Bearer realm=\"trimtab\"");
    return res;
  }
  if (!handlers.command) {
    return json_answer(req, http::status::not_implemented, false, "this agent takes no commands");
  }
  try {
    const auto result = handlers.command(route.action);
    return json_answer(req, result.ok ? http::status::ok : http::status::conflict, result.ok, result.message);
  } catch (const std::exception& e) {
    return json_answer(req, http::status::internal_server_error, false, std::string("internal error: ") + e.what());
  }
}

asio::awaitable<void> ControlServer::Impl::accept_loop(std::shared_ptr<Impl> self) {
  while (!self->stopped) {
    auto [ec, socket] = co_await self->acceptor.async_accept(use_tuple);
    if (self->stopped) break;
    if (ec) {
      if (ec == asio::error::operation_aborted) break;
      // Out of descriptors or memory, a connection reset before accept: wait a little, go on.
      self->backoff.expires_after(accept_backoff);
      co_await self->backoff.async_wait(use_tuple);
      continue;
    }
    if (self->connections.size() >= self->options.max_connections) {
      ++self->stats.connections_refused;
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    ++self->stats.connections_accepted;
    const auto id = self->next_connection++;
    auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
    self->connections.emplace(id, stream);
    asio::co_spawn(self->executor, serve(self, id, std::move(stream)), asio::detached);
  }
}

asio::awaitable<void> ControlServer::Impl::serve(std::shared_ptr<Impl> self, std::uint64_t id,
                                                 std::shared_ptr<beast::tcp_stream> stream) {
  struct Forget {
    Impl& impl;
    std::uint64_t id;
    ~Forget() { impl.connections.erase(id); }
  } forget{*self, id};

  // Shuts down our side; when the client may still be sending (an error answer), reads and
  // discards what comes for a moment first, so the close does not reset the connection under the
  // client before it has read the answer.
  const auto close = [](std::shared_ptr<beast::tcp_stream> s, bool drain) -> asio::awaitable<void> {
    boost::system::error_code ignored;
    s->socket().shutdown(tcp::socket::shutdown_send, ignored);
    if (drain) {
      s->expires_after(linger_time);
      std::array<char, 4096> junk{};
      std::size_t total = 0;
      while (total < linger_bytes) {
        auto [ec, n] = co_await s->async_read_some(asio::buffer(junk), use_tuple);
        if (ec) break;
        total += n;
      }
    }
    s->close();
  };

  beast::flat_buffer buffer;
  while (!self->stopped) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(self->options.header_limit);
    parser.body_limit(self->options.body_limit);
    stream->expires_after(self->options.read_timeout);
    auto [read_error, read_bytes] = co_await http::async_read(*stream, buffer, parser, use_tuple);
    if (self->stopped) co_return;

    std::optional<Response> res;
    std::string_view route;
    bool keep_alive = false;
    if (!read_error) {
      const auto& req = parser.get();
      route = route_label(std::string_view(req.target().data(), req.target().size()));
      res = self->answer(req);
      keep_alive = req.keep_alive();
      if (self->stopped) co_return; // a handler stopped the server
    } else if (read_error.category() == http::make_error_code(http::error::body_limit).category() &&
               read_error != http::error::end_of_stream && read_error != http::error::partial_message) {
      // A request we will not serve: answer why and close, since the rest of the stream cannot be
      // trusted to start at a message boundary.
      // What the parser got of the request line and headers before it stopped (possibly nothing).
      const Request header_only(parser.get().base());
      route = route_label(std::string_view(header_only.target().data(), header_only.target().size()));
      if (read_error == http::error::body_limit) {
        res = json_answer(header_only, http::status::payload_too_large, false,
                          "request body larger than " + std::to_string(self->options.body_limit) + " bytes");
      } else if (read_error == http::error::header_limit) {
        res = json_answer(header_only, http::status::bad_request, false,
                          "request headers larger than " + std::to_string(self->options.header_limit) + " bytes");
      } else {
        res = json_answer(header_only, http::status::bad_request, false, "malformed request: " + read_error.message());
      }
    } else {
      // The client closed, went quiet past the read timeout, or the connection failed.
      break;
    }

    res->keep_alive(keep_alive);
    self->count(route, *res);
    stream->expires_after(self->options.write_timeout);
    auto [write_error, written] = co_await http::async_write(*stream, *res, use_tuple);
    if (write_error || self->stopped) co_return;
    if (!keep_alive) {
      co_await close(stream, static_cast<bool>(read_error));
      co_return;
    }
  }
  stream->close();
}

// --- ControlServer -----------------------------------------------------------------------------------

ControlServer::ControlServer(asio::any_io_executor executor, ControlServerOptions options, ControlHandlers handlers)
    : impl_(std::make_shared<Impl>(std::move(executor), std::move(options), std::move(handlers))) {}

ControlServer::~ControlServer() { stop(); }

ControlServer::ControlServer(ControlServer&&) noexcept = default;

ControlServer& ControlServer::operator=(ControlServer&& other) noexcept {
  if (this != &other) {
    stop();
    impl_ = std::move(other.impl_);
  }
  return *this;
}

void ControlServer::start() {
  if (!impl_ || impl_->started || impl_->stopped) throw std::logic_error("ControlServer::start() called twice");
  const auto endpoint = parse_listen(impl_->options.listen);
  try {
    auto& acceptor = impl_->acceptor;
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
    impl_->port = acceptor.local_endpoint().port();
  } catch (const boost::system::system_error& e) {
    boost::system::error_code ignored;
    impl_->acceptor.close(ignored);
    throw std::runtime_error("control server cannot listen on " + impl_->options.listen + ": " + e.code().message());
  }
  impl_->started = true;
  asio::co_spawn(impl_->executor, Impl::accept_loop(impl_), asio::detached);
}

void ControlServer::stop() noexcept {
  if (impl_) impl_->stop();
}

unsigned short ControlServer::port() const noexcept { return impl_ ? impl_->port : 0; }

ControlServerStats ControlServer::stats() const {
  if (!impl_) return {};
  auto stats = impl_->stats;
  stats.connections_open = impl_->connections.size();
  return stats;
}

} // namespace trimtab
