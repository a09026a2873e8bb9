#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/value.hpp>

#include <trimtab/agent/control_server_stats.hpp>

namespace trimtab {

/// What a control command (pause, resume, rollback) answered.
struct CommandResult {
  bool ok = false;     ///< false: the command was refused in the agent's current state (409)
  std::string message; ///< said to the operator either way
};

/// How the control server answers, filled in by the agent; the server knows nothing of tuning.
/// Every function is called on the server's executor, one request at a time. An empty function
/// answers 501; a function that throws answers 500 (the server keeps running).
struct ControlHandlers {
  /// GET /metrics: a Prometheus 0.0.4 text exposition.
  std::function<std::string()> metrics;
  /// GET /status: serialised as application/json.
  std::function<boost::json::value()> status;
  /// GET /: an HTML page.
  std::function<std::string()> page;
  /// POST /pause, /resume, /rollback, once authenticated: `action` is "pause", "resume" or
  /// "rollback".
  std::function<CommandResult(std::string_view action)> command;
};

/// How the control server listens and what it accepts. The defaults suit an operator's agent.
struct ControlServerOptions {
  /// host:port; host is an IPv4 address, an IPv6 address in brackets ("[::1]:9464") or
  /// "localhost". Port 0 picks an ephemeral port (see ControlServer::port()).
  std::string listen = "127.0.0.1:9464";
  /// The bearer token POSTs must carry. None: every POST is refused with 403, so changes are never
  /// open by default. The owner reads it with read_token_file() (control_token.hpp).
  std::optional<std::string> token;
  /// How long one request (headers and body) may take to arrive, and how long a keep-alive
  /// connection may stay idle between requests, before the connection is closed.
  std::chrono::milliseconds read_timeout{10'000};
  /// How long writing one response may take before the connection is closed.
  std::chrono::milliseconds write_timeout{10'000};
  /// Connections open at once; a connection accepted beyond this is closed at once.
  std::size_t max_connections = 32;
  /// Largest request body, in bytes; larger answers 413 and closes the connection.
  std::uint64_t body_limit = 8 * 1024;
  /// Largest request line plus headers, in bytes; larger answers 400 and closes the connection.
  std::uint32_t header_limit = 8 * 1024;
  /// POSTs (authenticated or not) refill at this rate, per second...
  double commands_per_second = 5.0;
  /// ...up to this many at once; a POST finding the bucket empty answers 429.
  double command_burst = 10.0;
};

/// The agent's control and status HTTP/1.1 server: /metrics, /status and / for anyone who can
/// reach the address; /pause, /resume and /rollback for holders of the bearer token.
///
/// The server runs on the executor it is given and never owns the io_context; it is
/// single-threaded: call start(), stop(), port() and stats() on the thread that runs the executor
/// (or while nothing runs it). Each connection is a coroutine; keep-alive is supported.
///
/// POSTs are checked in this order: no token configured → 403; rate limit → 429 (so failed
/// guesses count against the bucket too); missing or wrong token → 401 with
/// `WWW-Authenticate: Bearer`; then handlers.command() → 200 {"ok":true,"message":…} or 409
/// {"ok":false,…}. Every error answer is JSON {"ok":false,"message":…}.
class ControlServer {
public:
  ControlServer(boost::asio::any_io_executor executor, ControlServerOptions options, ControlHandlers handlers);
  /// Calls stop().
  ~ControlServer();
  ControlServer(ControlServer&&) noexcept;
  ControlServer& operator=(ControlServer&&) noexcept;
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  /// Binds and listens on options.listen before returning, then launches the accept loop on the
  /// executor, which serves connections until stop(). Throws std::invalid_argument for a listen
  /// string that is not host:port, std::runtime_error (naming the address) when the address
  /// cannot be bound. Calling it twice throws std::logic_error.
  void start();

  /// Closes the acceptor and every open connection, at once. No handler is called after stop()
  /// returns, and every coroutine of the server ends within the next turns of the executor, so an
  /// io_context with nothing else to do returns from run() promptly. Idempotent; the server
  /// cannot be started again.
  void stop() noexcept;

  /// The port bound by start() (the ephemeral one when options.listen asked for port 0); 0 before
  /// start().
  [[nodiscard]] unsigned short port() const noexcept;

  /// Counters since start().
  [[nodiscard]] ControlServerStats stats() const;

private:
  struct Impl;
  std::shared_ptr<Impl> impl_; // shared with the coroutines, which may outlive this object briefly
};

} // namespace trimtab
