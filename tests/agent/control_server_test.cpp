#include <boost/test/unit_test.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <trimtab/agent/control_server.hpp>

using namespace trimtab;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

namespace {

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

constexpr auto use_awaitable = asio::use_awaitable;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
const std::string token = "c0ffee-and-a-long-enough-secret";

Request make_request(http::verb method, std::string target, std::optional<std::string> authorization = {},
                     std::string body = {}) {
  Request req{method, target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (authorization) req.set(http::field::authorization, *authorization);
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

Request post(std::string target, std::optional<std::string> with_token = token) {
  return make_request(http::verb::post, std::move(target),
                      with_token ? std::optional<std::string>("Bearer " + *with_token) : std::nullopt);
}

Request get(std::string target) { return make_request(http::verb::get, std::move(target)); }

/// One client connection, used for one or more requests.
struct Client {
  beast::tcp_stream stream;
  beast::flat_buffer buffer;

  explicit Client(asio::any_io_executor executor) : stream(std::move(executor)) {}

  asio::awaitable<void> connect(unsigned short port) {
    co_await stream.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), use_awaitable);
  }

  asio::awaitable<Response> send(Request req) {
    stream.expires_after(5s);
    co_await http::async_write(stream, req, use_awaitable);
    Response res;
    co_await http::async_read(stream, buffer, res, use_awaitable);
    co_return res;
  }

  /// What reading once more gives: an error (the server closed) or the bytes read.
  asio::awaitable<boost::system::error_code> next_read_error(std::chrono::milliseconds timeout = 5s) {
    stream.expires_after(timeout);
    std::array<char, 64> data{};
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(data), use_tuple);
    co_return ec;
  }
};

/// Connects, sends one request, returns the response.
asio::awaitable<Response> fetch(unsigned short port, Request req) {
  Client client(co_await asio::this_coro::executor);
  co_await client.connect(port);
  co_return co_await client.send(std::move(req));
}

/// Whether a read error says the server closed the connection (and did not time out or reset it).
bool closed(const boost::system::error_code& ec) {
  if (ec != asio::error::eof) BOOST_TEST_MESSAGE("read ended with: " << ec.message());
  return ec == asio::error::eof;
}

json::value body_json(const Response& res) { return json::parse(res.body()); }

/// A server on 127.0.0.1:0 with handlers that record the commands they get.
struct Harness {
  asio::io_context io;
  ControlServerOptions options;
  ControlHandlers handlers;
  std::vector<std::string> commands;

  Harness() {
    options.listen = "127.0.0.1:0";
    options.token = token;
    handlers.metrics = [] { return std::string("trimtab_up 1\n"); };
    handlers.status = [] { return json::value{{"state", "observing"}, {"step", 3}}; };
    handlers.page = [] { return std::string("<!doctype html><title>trimtab</title>"); };
    handlers.command = [this](std::string_view action) {
      commands.emplace_back(action);
      if (action == "rollback") return CommandResult{false, "nothing to roll back"};
      return CommandResult{true, std::string(action) + "d"};
    };
  }

  /// Starts the server, runs `client(server)` as a coroutine, stops the server when it ends, and
  /// checks that io.run() then returns by itself (the server leaves no work behind).
  template <class Client>
  void run(Client client) {
    ControlServer server(io.get_executor(), options, handlers);
    server.start();
    BOOST_TEST_REQUIRE(server.port() != 0);
    std::exception_ptr failure;
    bool finished = false;
    asio::co_spawn(io, client(server), [&](std::exception_ptr e) {
      failure = e;
      finished = true;
      server.stop();
    });
    io.run_for(20s);
    BOOST_TEST(finished);
    BOOST_TEST(io.stopped()); // run() ran out of work: nothing left behind by the server
    if (failure) std::rethrow_exception(failure);
  }
};

} // namespace

BOOST_AUTO_TEST_SUITE(control_server)

BOOST_AUTO_TEST_CASE(serves_metrics_status_and_page) {
  Harness h;
  h.run([](ControlServer& server) -> asio::awaitable<void> {
    const auto metrics = co_await fetch(server.port(), get("/metrics"));
    BOOST_TEST(metrics.result_int() == 200u);
    BOOST_TEST(metrics[http::field::content_type] == "text/plain; version=0.0.4; charset=utf-8");
    BOOST_TEST(metrics.body() == "trimtab_up 1\n");

    const auto status = co_await fetch(server.port(), get("/status"));
    BOOST_TEST(status.result_int() == 200u);
    BOOST_TEST(status[http::field::content_type] == "application/json");
    BOOST_TEST(body_json(status) == (json::value{{"state", "observing"}, {"step", 3}}));

    const auto page = co_await fetch(server.port(), get("/"));
    BOOST_TEST(page.result_int() == 200u);
    BOOST_TEST(page[http::field::content_type] == "text/html; charset=utf-8");
    BOOST_TEST(page.body() == "<!doctype html><title>trimtab</title>");

    const auto query = co_await fetch(server.port(), get("/metrics?name[]=trimtab_up"));
    BOOST_TEST(query.result_int() == 200u);
  });
}

BOOST_AUTO_TEST_CASE(head_answers_headers_only) {
  Harness h;
  h.run([](ControlServer& server) -> asio::awaitable<void> {
    Client client(co_await asio::this_coro::executor);
    co_await client.connect(server.port());
    auto req = make_request(http::verb::head, "/metrics");
    co_await http::async_write(client.stream, req, use_awaitable);
    http::response_parser<http::string_body> parser;
    parser.skip(true); // the answer to HEAD has no body
    co_await http::async_read(client.stream, client.buffer, parser, use_awaitable);
    BOOST_TEST(parser.get().result_int() == 200u);
    BOOST_TEST(parser.get()[http::field::content_length] == "13");
    // The connection is still in step: the next request gets its own answer.
    const auto next = co_await client.send(get("/metrics"));
    BOOST_TEST(next.body() == "trimtab_up 1\n");
  });
}

BOOST_AUTO_TEST_CASE(commands_with_the_token_reach_the_handler) {
  Harness h;
  h.run([](ControlServer& server) -> asio::awaitable<void> {
    const auto pause = co_await fetch(server.port(), post("/pause"));
    BOOST_TEST(pause.result_int() == 200u);
    BOOST_TEST(pause[http::field::content_type] == "application/json");
    BOOST_TEST(body_json(pause) == (json::value{{"ok", true}, {"message", "paused"}}));

    const auto resume = co_await fetch(server.port(), post("/resume"));
    BOOST_TEST(body_json(resume) == (json::value{{"ok", true}, {"message", "resumed"}}));

    const auto rollback = co_await fetch(server.port(), post("/rollback"));
    BOOST_TEST(rollback.result_int() == 409u);
    BOOST_TEST(body_json(rollback) == (json::value{{"ok", false}, {"message", "nothing to roll back"}}));

    // The scheme is case-insensitive; spaces around the token do not count.
    const auto lower = co_await fetch(server.port(),
                                      make_request(http::verb::post, "/pause", "bearer   " + token + "  "));
    BOOST_TEST(lower.result_int() == 200u);

    const auto stats = server.stats();
    BOOST_TEST((stats.requests.at({"/pause", 200})) == 2u);
    BOOST_TEST((stats.requests.at({"/rollback", 409})) == 1u);
    BOOST_TEST(stats.auth_failures == 0u);
  });
  BOOST_TEST(h.commands == (std::vector<std::string>{"pause", "resume", "rollback", "pause"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_missing_or_wrong_token_is_401) {
  Harness h;
  h.run([](ControlServer& server) -> asio::awaitable<void> {
    const std::vector<Request> attempts{
        post("/pause", std::nullopt),                                           // no Authorization
        post("/pause", "wrong"),                                                // wrong token
        post("/pause", token.substr(0, token.size() - 1)),                      // a prefix
        post("/pause", token + "x"),                                            // longer
        post("/pause", std::string(token.size(), 'a')),                         // same length
        make_request(http::verb::post, "/pause", "Basic " + token),             // another scheme
        make_request(http::verb::post, "/pause", "Bearer"),                     // no token
        make_request(http::verb::post, "/pause", "Bearer" + token),             // no space
    };
    for (const auto& attempt : attempts) {
      const auto res = co_await fetch(server.port(), attempt);
      BOOST_TEST(res.result_int() == 401u);
      BOOST_TEST(std::string(res[http::field::www_authenticate]).starts_with("Bearer"));
      BOOST_TEST(body_json(res).at("ok") == false);
    }
    BOOST_TEST(server.stats().auth_failures == attempts.size());
    BOOST_TEST((server.stats().requests.at({"/pause", 401})) == attempts.size());
  });
  BOOST_TEST(h.commands.empty());
}

BOOST_AUTO_TEST_CASE(without_a_configured_token_every_post_is_403) {
  Harness h;
  h.options.token.reset();
  h.run([](ControlServer& server) -> asio::awaitable<void> {
    for (const auto* target : {"/pause", "/resume", "/rollback"}) {
      const auto res = co_await fetch(server.port(), post(target, "anything"));
      BOOST_TEST(res.result_int() == 403u);
      BOOST_TEST(body_json(res) == (json::value{{"ok", false}, {"message", "no token configured; set control.token_file"}}));
    }
    const auto metrics = co_await fetch(server.port(), get("/metrics")); // reading needs no token
    BOOST_TEST(metrics.result_int() == 200u);
  });
  BOOST_TEST(h.commands.empty());
}

BOOST_AUTO_TEST_CASE(unknown_routes_are_404_and_wrong_methods_405) {
  Harness h;
  h.run([](ControlServer& server) -> asio::awaitable<void> {
    const auto missing = co_await fetch(server.port(), get("/nope"));
    BOOST_TEST(missing.result_int() == 404u);
    const auto missing_post = co_await fetch(server.port(), post("/shutdown"));
    BOOST_TEST(missing_post.result_int() == 404u);

    const auto post_metrics = co_await fetch(server.port(), post("/metrics"));
    BOOST_TEST(post_metrics.result_int() == 405u);
    BOOST_TEST(post_metrics[http::field::allow] == "GET, HEAD");
    const auto delete_status = co_await fetch(server.port(), make_request(http::verb::delete_, "/status"));
    BOOST_TEST(delete_status.result_int() == 405u);

    const auto get_pause = co_await fetch(server.port(), get("/pause"));
    BOOST_TEST(get_pause.result_int() == 405u);
    BOOST_TEST(get_pause[http::field::allow] == "POST");

    const auto stats = server.stats();
    BOOST_TEST((stats.requests.at({"other", 404})) == 2u);
    BOOST_TEST((stats.requests.at({"/pause", 405})) == 1u);
  });
  BOOST_TEST(h.commands.empty());
}

BOOST_AUTO_TEST_CASE(an_oversized_body_is_413_and_oversized_headers_400) {
  Harness h;
  h.run([](ControlServer& server) -> asio::awaitable<void> {
    Client client(co_await asio::this_coro::executor);
    co_await client.connect(server.port());
    const auto big = co_await client.send(make_request(http::verb::post, "/pause", "Bearer " + token,
                                                       std::string(9000, 'x')));
    BOOST_TEST(big.result_int() == 413u);
    BOOST_TEST(body_json(big).at("ok") == false);
    BOOST_TEST(closed(co_await client.next_read_error())); // then closed

    auto fat = get("/metrics");
    fat.set("X-Padding", std::string(10'000, 'p'));
    const auto fat_answer = co_await fetch(server.port(), fat);
    BOOST_TEST(fat_answer.result_int() == 400u);

    auto garbage = Client(co_await asio::this_coro::executor);
    co_await garbage.connect(server.port());
    co_await asio::async_write(garbage.stream, asio::buffer(std::string_view("NOT HTTP AT ALL\r\n\r\n")), use_awaitable);
    Response garbage_answer;
    co_await http::async_read(garbage.stream, garbage.buffer, garbage_answer, use_awaitable);
    BOOST_TEST(garbage_answer.result_int() == 400u);

    const auto stats = server.stats();
    BOOST_TEST((stats.requests.at({"/pause", 413})) == 1u);
    BOOST_TEST((stats.requests.at({"/metrics", 400})) == 1u); // the request line was read
    BOOST_TEST((stats.requests.at({"other", 400})) == 1u);
  });
  BOOST_TEST(h.commands.empty());
}

BOOST_AUTO_TEST_CASE(commands_beyond_the_burst_are_429) {
  Harness h;
  h.options.command_burst = 3;
  h.options.commands_per_second = 0.01; // no refill within the test
  h.run([](ControlServer& server) -> asio::awaitable<void> {
    Client client(co_await asio::this_coro::executor);
    co_await client.connect(server.port());
    BOOST_TEST((co_await client.send(post("/pause"))).result_int() == 200u);
    BOOST_TEST((co_await client.send(post("/pause", "a guess"))).result_int() == 401u); // guesses count too
    BOOST_TEST((co_await client.send(post("/resume"))).result_int() == 200u);
    const auto limited = co_await client.send(post("/pause"));
    BOOST_TEST(limited.result_int() == 429u);
    BOOST_TEST(std::stoi(std::string(limited[http::field::retry_after])) >= 1);
    BOOST_TEST((co_await client.send(post("/pause"))).result_int() == 429u);
    BOOST_TEST((co_await client.send(get("/status"))).result_int() == 200u); // reading is not limited
    BOOST_TEST(server.stats().rate_limited == 2u);
  });
  BOOST_TEST(h.commands == (std::vector<std::string>{"pause", "resume"}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(keep_alive_serves_several_requests_on_one_connection) {
  Harness h;
  h.run([](ControlServer& server) -> asio::awaitable<void> {
    Client client(co_await asio::this_coro::executor);
    co_await client.connect(server.port());
    const auto first = co_await client.send(get("/metrics"));
    BOOST_TEST(first.result_int() == 200u);
    BOOST_TEST(first.keep_alive());
    const auto second = co_await client.send(post("/pause"));
    BOOST_TEST(second.result_int() == 200u);
    const auto stats = server.stats();
    BOOST_TEST(stats.connections_accepted == 1u);
    BOOST_TEST(stats.connections_open == 1u);

    auto last = get("/status");
    last.keep_alive(false);
    const auto closing = co_await client.send(last);
    BOOST_TEST(closing.result_int() == 200u);
    BOOST_TEST(!closing.keep_alive());
    BOOST_TEST(closed(co_await client.next_read_error()));
  });
}

BOOST_AUTO_TEST_CASE(a_slow_or_idle_client_is_closed_after_the_read_timeout) {
  Harness h;
  h.options.read_timeout = 200ms;
  h.run([](ControlServer& server) -> asio::awaitable<void> {
    Client idle(co_await asio::this_coro::executor);
    co_await idle.connect(server.port());
    Client slow(co_await asio::this_coro::executor);
    co_await slow.connect(server.port());
    co_await asio::async_write(slow.stream, asio::buffer(std::string_view("GET /metrics HTTP/1.1\r\nHost: x\r\n")),
                               use_awaitable);
    const auto started = std::chrono::steady_clock::now();
    BOOST_TEST(closed(co_await idle.next_read_error()));
    BOOST_TEST(closed(co_await slow.next_read_error()));
    BOOST_TEST((std::chrono::steady_clock::now() - started < 3s));
    BOOST_TEST(server.stats().connections_open == 0u);
  });
}

BOOST_AUTO_TEST_CASE(connections_beyond_the_limit_are_closed) {
  Harness h;
  h.options.max_connections = 2;
  h.run([](ControlServer& server) -> asio::awaitable<void> {
    const auto executor = co_await asio::this_coro::executor;
    Client first(executor), second(executor), third(executor);
    co_await first.connect(server.port());
    co_await second.connect(server.port());
    co_await third.connect(server.port());
    BOOST_TEST(closed(co_await third.next_read_error()));
    BOOST_TEST((co_await first.send(get("/metrics"))).result_int() == 200u);
    BOOST_TEST((co_await second.send(get("/metrics"))).result_int() == 200u);
    const auto stats = server.stats();
    BOOST_TEST(stats.connections_refused == 1u);
    BOOST_TEST(stats.connections_accepted == 2u);
    BOOST_TEST(to_prometheus(stats).find("trimtab_control_connections_refused_total 1\n") != std::string::npos);
  });
}

BOOST_AUTO_TEST_CASE(a_throwing_handler_answers_500_and_the_server_goes_on) {
  Harness h;
  h.handlers.status = []() -> json::value { throw std::runtime_error("solver exploded"); };
  h.handlers.page = nullptr;
  h.run([](ControlServer& server) -> asio::awaitable<void> {
    Client client(co_await asio::this_coro::executor);
    co_await client.connect(server.port());
    const auto broken = co_await client.send(get("/status"));
    BOOST_TEST(broken.result_int() == 500u);
    BOOST_TEST(body_json(broken).at("message") == "internal error: solver exploded");
    BOOST_TEST((co_await client.send(get("/"))).result_int() == 501u);
    BOOST_TEST((co_await client.send(get("/metrics"))).result_int() == 200u);
  });
}

BOOST_AUTO_TEST_CASE(stop_closes_open_connections_and_run_returns) {
  asio::io_context io;
  ControlServerOptions options;
  options.listen = "127.0.0.1:0";
  ControlHandlers handlers;
  handlers.metrics = [] { return std::string("x 1\n"); };
  ControlServer server(io.get_executor(), options, handlers); // read_timeout stays 10 s
  server.start();

  boost::system::error_code client_error;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        Client client(co_await asio::this_coro::executor);
        co_await client.connect(server.port());
        BOOST_TEST((co_await client.send(get("/metrics"))).result_int() == 200u);
        client_error = co_await client.next_read_error(30s); // idle on a keep-alive connection
      },
      asio::detached);
  asio::steady_timer stopper(io, 300ms);
  stopper.async_wait([&](boost::system::error_code) {
    BOOST_TEST(server.stats().connections_open == 1u);
    server.stop();
  });

  const auto started = std::chrono::steady_clock::now();
  io.run_for(20s);
  BOOST_TEST(io.stopped());
  BOOST_TEST((std::chrono::steady_clock::now() - started < 5s));
  BOOST_TEST(closed(client_error));
  BOOST_TEST(server.stats().connections_open == 0u);
  server.stop(); // idempotent
}

BOOST_AUTO_TEST_CASE(destroying_the_server_while_connections_are_open_stops_it) {
  asio::io_context io;
  ControlServerOptions options;
  options.listen = "127.0.0.1:0";
  ControlHandlers handlers;
  handlers.metrics = [] { return std::string("x 1\n"); };
  auto server = std::make_unique<ControlServer>(io.get_executor(), options, handlers);
  server->start();
  const auto port = server->port();

  boost::system::error_code client_error;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        Client client(co_await asio::this_coro::executor);
        co_await client.connect(port);
        BOOST_TEST((co_await client.send(get("/metrics"))).result_int() == 200u);
        server.reset(); // the connection's coroutine is still waiting for the next request
        client_error = co_await client.next_read_error(30s);
      },
      asio::detached);
  io.run_for(20s);
  BOOST_TEST(io.stopped());
  BOOST_TEST(closed(client_error));
}

BOOST_AUTO_TEST_CASE(listen_strings_and_ports) {
  asio::io_context io;
  const auto server_on = [&](std::string listen) {
    ControlServerOptions options;
    options.listen = std::move(listen);
    return ControlServer(io.get_executor(), options, {});
  };
  for (const auto* bad : {"9464", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:http", ":9464",
                          "::1:9464", "example.com:9464"}) {
    auto server = server_on(bad);
    BOOST_CHECK_THROW(server.start(), std::invalid_argument);
  }
  auto first = server_on("localhost:0");
  first.start();
  BOOST_TEST(first.port() != 0);
  BOOST_CHECK_THROW(first.start(), std::logic_error);
  auto taken = server_on("127.0.0.1:" + std::to_string(first.port()));
  try {
    taken.start();
    BOOST_FAIL("a taken port was bound twice");
  } catch (const std::runtime_error& e) {
    BOOST_TEST(std::string(e.what()).starts_with("control server cannot listen on 127.0.0.1:"));
  }
  first.stop();
  io.run();
}

BOOST_AUTO_TEST_SUITE_END()
