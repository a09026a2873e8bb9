#pragma once

// A small HTTP server for the adapters' tests, on 127.0.0.1 and an ephemeral port, run by the same
// io_context as the code under test: an admin endpoint that keeps a JSON configuration.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include "adapter_test_support.hpp"

namespace trimtab::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

/// A port on 127.0.0.1 where nothing listens (bound, then closed).
inline std::uint16_t closed_port(asio::io_context& io) {
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

class TestHttpServer {
public:
  using Request = http::request<http::string_body>;
  using Response = http::response<http::string_body>;

  /// By default, GET /admin/config answers with `config` and PUT/POST/PATCH /admin/config merges a
  /// JSON object into it, refusing pool_size > 64 with a 400; set `handler` for anything else.
  explicit TestHttpServer(asio::io_context& io) : acceptor_(io, {asio::ip::make_address("127.0.0.1"), 0}) {
    asio::co_spawn(io, accept_loop(), asio::detached);
  }

  [[nodiscard]] std::string url(const std::string& path = "/admin/config") const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + path;
  }

  boost::json::object config;
  /// Every request received, in order.
  std::vector<Request> requests;
  /// When set, answers instead of the admin endpoint.
  std::function<Response(const Request&)> handler;
  /// When true, reads requests and never answers.
  bool silent = false;

private:
  static constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(use_tuple);
      if (ec) co_return;
      asio::co_spawn(acceptor_.get_executor(), serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> serve(asio::ip::tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    Request request;
    if (auto [ec, n] = co_await http::async_read(stream, buffer, request, use_tuple); ec) co_return;
    requests.push_back(request);
    if (silent) {
      asio::steady_timer never(stream.get_executor(), std::chrono::hours(1));
      (void)co_await never.async_wait(use_tuple);
      co_return;
    }
    Response response = handler ? handler(request) : admin(request);
    response.version(11);
    response.keep_alive(false);
    response.prepare_payload();
    (void)co_await http::async_write(stream, response, use_tuple);
    boost::system::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  }

  Response admin(const Request& request) {
    Response response;
    response.set(http::field::content_type, "application/json");
    if (request.target() != "/admin/config") {
      response.result(http::status::not_found);
      response.body() = "no such endpoint\n";
      return response;
    }
    if (request.method() == http::verb::get) {
      response.result(http::status::ok);
      response.body() = boost::json::serialize(config);
      return response;
    }
    boost::system::error_code ec;
    const auto json = boost::json::parse(request.body(), ec);
    if (ec || !json.is_object()) {
      response.result(http::status::bad_request);
      response.body() = "expected a JSON object";
      return response;
    }
    if (const auto* pool = json.get_object().if_contains("pool_size"); pool && pool->is_int64() && pool->get_int64() > 64) {
      response.result(http::status::bad_request);
      response.set(http::field::content_type, "text/plain");
      response.body() = "pool_size must be <= 64\n";
      return response;
    }
    for (const auto& [key, value] : json.get_object()) config[key] = value;
    response.result(http::status::no_content);
    return response;
  }

  asio::ip::tcp::acceptor acceptor_;
};

} // namespace trimtab::test
