#pragma once

// Coroutines here take their arguments by reference: they are awaited, never spawned, so what the
// caller names outlives them (and GCC 12 mishandles temporaries in an awaited full-expression).
//
// One libpq connection driven by Asio: the postgres and pgbouncer adapters' way to talk to a server
// without ever blocking the reactor. Internal to trimtab_adapters.

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>

#include "libpq_library.hpp"

namespace trimtab::pg {

using Clock = std::chrono::steady_clock;

/// How a step ended: an empty error on success; else the error (errc::timed_out,
/// AdapterError::connection_failed, AdapterError::server_error…) and a one-line message for people,
/// which never holds a password.
struct Outcome {
  boost::system::error_code error{};
  std::string message{};

  explicit operator bool() const noexcept { return !error; }
};

/// A PGresult that clears itself.
class Result {
public:
  explicit Result(PGresult* result) noexcept : result_(result) {}

  [[nodiscard]] ExecStatusType status() const noexcept { return libpq().result_status(result_.get()); }
  [[nodiscard]] std::size_t rows() const noexcept { return static_cast<std::size_t>(libpq().ntuples(result_.get())); }
  [[nodiscard]] std::size_t columns() const noexcept { return static_cast<std::size_t>(libpq().nfields(result_.get())); }
  /// The column's index by name, or nothing.
  [[nodiscard]] std::optional<std::size_t> column(const char* name) const noexcept;
  [[nodiscard]] bool is_null(std::size_t row, std::size_t column) const noexcept;
  /// The text of one field ("" for NULL).
  [[nodiscard]] std::string_view text(std::size_t row, std::size_t column) const noexcept;

private:
  struct Clear {
    void operator()(PGresult* result) const noexcept { libpq().clear(result); }
  };
  std::unique_ptr<PGresult, Clear> result_;
};

/// What a query answered: one Result per statement that returns rows or a command tag.
struct Answer {
  Outcome outcome;
  std::vector<Result> results;

  explicit operator bool() const noexcept { return static_cast<bool>(outcome); }
};

/// libpq's connection keywords and values, in order; a later keyword overrides an earlier one, and
/// the first `dbname` may hold a whole connection string or URI.
using ConnectParams = std::vector<std::pair<std::string, std::string>>;

/// One libpq connection in non-blocking mode, whose socket Asio watches for readiness.
///
/// Each operation takes a deadline and completes by it; after a failed or timed-out operation the
/// connection is closed (a statement the server already runs may still finish there). Notices are
/// dropped (libpq never prints to stderr), and no message holds a password. Asio only ever watches
/// libpq's socket, never closes it: libpq owns it from start to PQfinish.
///
/// Not thread-safe: use it from the coroutines of one single-threaded executor, one at a time.
class Connection {
public:
  explicit Connection(boost::asio::any_io_executor executor);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Connects with PQconnectStartParams and PQconnectPoll. libpq looks up a host name itself,
  /// blocking: give it addresses (hostaddr, or a host that is an IP literal or a socket directory).
  [[nodiscard]] boost::asio::awaitable<Outcome> connect(const ConnectParams& params, Clock::time_point deadline);

  /// Sends `sql` over the simple query protocol (several statements run in one implicit
  /// transaction) and reads every result. An error the server reports fails with
  /// AdapterError::server_error and its message, detail and hint on one line; the connection then
  /// stays usable.
  [[nodiscard]] boost::asio::awaitable<Answer> query(const std::string& sql, Clock::time_point deadline);

  /// True between a successful connect and a failure that closed the connection.
  [[nodiscard]] bool connected() const noexcept;

  /// `text` as an SQL string literal or a quoted identifier, with the connection's escaping rules
  /// (PQescapeLiteral, PQescapeIdentifier); nothing without a connection or for text libpq cannot
  /// quote (not valid in the connection's encoding).
  [[nodiscard]] std::optional<std::string> literal(std::string_view text) const;
  [[nodiscard]] std::optional<std::string> identifier(std::string_view text) const;

  /// Words that never appear in messages: each is replaced with "***" (the password).
  void set_secrets(std::vector<std::string> secrets);

private:
  enum class Want { read, write, read_or_write };

  // Points the descriptor at libpq's socket anew (libpq may close one and open another while it
  // connects, even under the same number).
  boost::system::error_code watch_socket();
  // Waits until the socket is ready for `want`, or the deadline passes (errc::timed_out).
  boost::asio::awaitable<boost::system::error_code> wait(Want want, Clock::time_point deadline);
  // Fails the connection: closes it, and returns the outcome with `error` and a cleaned `message`.
  Outcome fail(boost::system::error_code error, std::string message);
  void close() noexcept;
  [[nodiscard]] std::string clean(std::string text) const;

  boost::asio::any_io_executor executor_;
  boost::asio::posix::stream_descriptor socket_;
  boost::asio::steady_timer timer_;
  PGconn* conn_ = nullptr;
  bool connected_ = false;
  std::vector<std::string> secrets_;
};

/// Where an adapter connects, read once when it is built: the connection string and what of it
/// decides whether host names need a lookup before libpq sees them.
struct Target {
  /// A libpq connection string or URI, as configured; empty: libpq's PG* variables and defaults.
  std::string dsn;
  /// Sent as libpq's password parameter, never inside the dsn; empty: none (a .pgpass file or
  /// PGPASSWORD may still give one).
  std::string password;
  /// A database name that overrides the dsn's and PGDATABASE ("pgbouncer" for its console).
  std::string dbname;
  /// The hosts and ports in effect (from the dsn, else PGHOST and PGPORT), split at commas.
  std::vector<std::string> hosts;
  std::vector<std::string> ports;
  /// The dsn or PGHOSTADDR gives addresses already: libpq looks nothing up.
  bool has_hostaddr = false;
  /// The database the dsn names, or "" when it names none.
  std::string dsn_dbname;
  /// The passwords this target may carry (its own, the dsn's, PGPASSWORD), never shown.
  std::vector<std::string> secrets;
};

/// Reads a dsn into a Target. Throws std::invalid_argument when libpq cannot parse it, with a
/// reason that quotes none of the dsn's text (it may hold a password).
[[nodiscard]] Target make_target(std::string dsn, std::string password, std::string dbname);

/// Connects `connection` to `target`: host names are looked up with Asio's resolver first (a lookup
/// that outlives the deadline is left to finish on its own) and handed to libpq as hostaddr, host
/// by host and address by address, so libpq never blocks on DNS; then libpq connects.
[[nodiscard]] boost::asio::awaitable<Outcome> open(Connection& connection, const Target& target,
                                                   Clock::time_point deadline);

/// libpq's error text as one line: whitespace runs (libpq's newlines and tabs) become one space,
/// and the trailing newline goes.
[[nodiscard]] std::string one_line(std::string_view text);

/// `text` with every occurrence of each non-empty secret replaced with "***".
[[nodiscard]] std::string redact(std::string text, const std::vector<std::string>& secrets);

} // namespace trimtab::pg
