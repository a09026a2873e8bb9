#pragma once

// One connection to Redis over RESP2 for one operation, under one deadline: what the redis adapter
// and the redis metrics source share (the address, the password and AUTH, replies read whole and
// bounded). Internal to trimtab_adapters.

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <trimtab/adapters/adapter.hpp>
#include <trimtab/adapters/resp.hpp>

namespace trimtab::redis {

using Clock = std::chrono::steady_clock;

constexpr std::uint16_t default_port = 6379;

struct Endpoint {
  std::string host; // without brackets for IPv6
  std::uint16_t port = default_port;
};

/// host[:port], [IPv6][:port]; or why not.
[[nodiscard]] std::variant<Endpoint, std::string> parse_address(std::string_view address);

/// The password `password_env` or `password_file` in `options` point at, read now; "" when neither
/// is given. Throws std::invalid_argument as "WHO: option 'password_env': …", never quoting the
/// password.
[[nodiscard]] std::string read_password(const std::string& who, const std::map<std::string, std::string>& options);

/// `text` as one line of at most 200 bytes, without `secret`.
[[nodiscard]] std::string quote(std::string_view text, const std::string& secret);

/// Where a connection goes and who it is for.
struct Server {
  /// Starts every message: "adapter 'cache'", "metrics source 'redis'".
  std::string who;
  std::string address; ///< as written, for messages
  Endpoint endpoint;
  std::string username; ///< empty: the default user
  std::string password; ///< empty: no AUTH; never shown
  std::chrono::milliseconds timeout{5000};

  [[nodiscard]] AdapterResult failure(boost::system::error_code error, const std::string& what) const {
    return {error, who + ": " + what};
  }
  /// Text that came from Redis, made safe to show.
  [[nodiscard]] std::string quote(std::string_view text) const { return redis::quote(text, password); }
};

/// One connection, whose deadline starts when it is made (the server's timeout from now).
class Connection {
public:
  Connection(boost::asio::any_io_executor executor, const Server& server);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  /// Resolves, connects and AUTHs (waiting for its answer: nothing else is sent before it succeeds).
  [[nodiscard]] boost::asio::awaitable<AdapterResult> open();
  /// Writes `bytes` (one or more commands); `what` names them in a failure.
  [[nodiscard]] boost::asio::awaitable<AdapterResult> send(const std::string& bytes, const std::string& what);
  /// Reads the next reply into `reply`; `what` names the command it answers in a failure.
  [[nodiscard]] boost::asio::awaitable<AdapterResult> receive(resp::Reply& reply, const std::string& what);
  /// A reply as one line for a message, safe to show.
  [[nodiscard]] std::string describe(const resp::Reply& reply) const;

private:
  [[nodiscard]] AdapterResult timed_out(const std::string& during) const;

  boost::asio::any_io_executor executor_;
  const Server& server_;
  boost::beast::tcp_stream stream_;
  Clock::time_point deadline_;
  std::string buffer_;           // bytes received and not yet parsed
  std::array<char, 4096> chunk_; // what one read brings
};

} // namespace trimtab::redis
