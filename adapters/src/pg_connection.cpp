#include "pg_connection.hpp"

#include <poll.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <trimtab/adapters/adapter_error.hpp>

#include "resolve_with_deadline.hpp"

namespace trimtab::pg {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using namespace asio::experimental::awaitable_operators;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

void drop_notice(void*, const char*) {}

[[nodiscard]] error_code timed_out() { return make_error_code(boost::system::errc::timed_out); }

// Whether the socket is ready now. Asio's epoll reactor is edge-triggered: readiness that arrived
// while no wait was pending (data libpq did not read in full, say) raises no new edge, so every
// wait first asks poll(2), which never blocks with a zero timeout.
[[nodiscard]] bool ready_now(int fd, short events) {
  pollfd entry{fd, events, 0};
  return ::poll(&entry, 1, 0) > 0 && entry.revents != 0;
}

[[nodiscard]] std::vector<std::string> split_commas(std::string_view text) {
  std::vector<std::string> parts;
  if (text.empty()) return parts;
  std::size_t start = 0;
  for (;;) {
    const auto comma = text.find(',', start);
    parts.emplace_back(text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) return parts;
    start = comma + 1;
  }
}

[[nodiscard]] std::string join_commas(const std::vector<std::string>& parts) {
  std::string text;
  for (std::size_t i = 0; i < parts.size(); ++i) text += (i ? "," : "") + parts[i];
  return text;
}

[[nodiscard]] std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

// libpq's reasons for refusing a connection string quote pieces of it ("missing "=" after
// "hunter2""), which may be a password: every quoted piece but punctuation becomes "…".
[[nodiscard]] std::string unquote_pieces(const std::string& text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto open = text.find('"', i);
    if (open == std::string::npos) break;
    const auto close = text.find('"', open + 1);
    if (close == std::string::npos) break;
    const auto piece = std::string_view(text).substr(open + 1, close - open - 1);
    const bool punctuation = std::all_of(piece.begin(), piece.end(), [](char c) {
      return std::string_view("=[]:/@?&,").find(c) != std::string_view::npos;
    });
    out.append(text, i, open - i);
    out += punctuation ? "\"" + std::string(piece) + "\"" : "\"…\"";
    i = close + 1;
  }
  out.append(text, std::min(i, text.size()));
  return out;
}

// A host that names no machine to look up: a socket directory, an abstract socket, or the default.
[[nodiscard]] bool is_socket(const std::string& host) { return host.empty() || host[0] == '/' || host[0] == '@'; }

[[nodiscard]] bool is_address(const std::string& host) {
  error_code ec;
  (void)asio::ip::make_address(host, ec);
  return !ec;
}

// Each address once, in the resolver's order, so that libpq never tries one address twice.
[[nodiscard]] std::vector<std::string> distinct_addresses(const std::vector<asio::ip::tcp::endpoint>& endpoints) {
  std::vector<std::string> addresses;
  for (const auto& endpoint : endpoints) {
    auto address = endpoint.address().to_string();
    if (std::find(addresses.begin(), addresses.end(), address) == addresses.end()) addresses.push_back(std::move(address));
  }
  return addresses;
}

} // namespace

// --- Result ---------------------------------------------------------------------------------------

std::optional<std::size_t> Result::column(const char* name) const noexcept {
  const int index = libpq().fnumber(result_.get(), name);
  if (index < 0) return std::nullopt;
  return static_cast<std::size_t>(index);
}

bool Result::is_null(std::size_t row, std::size_t column) const noexcept {
  return libpq().getisnull(result_.get(), static_cast<int>(row), static_cast<int>(column)) != 0;
}

std::string_view Result::text(std::size_t row, std::size_t column) const noexcept {
  const auto r = static_cast<int>(row);
  const auto c = static_cast<int>(column);
  return {libpq().getvalue(result_.get(), r, c), static_cast<std::size_t>(libpq().getlength(result_.get(), r, c))};
}

// --- Connection -----------------------------------------------------------------------------------

Connection::Connection(asio::any_io_executor executor)
    : executor_(std::move(executor)), socket_(executor_), timer_(executor_) {}

Connection::~Connection() { close(); }

bool Connection::connected() const noexcept { return connected_; }

void Connection::set_secrets(std::vector<std::string> secrets) { secrets_ = std::move(secrets); }

void Connection::close() noexcept {
  // Asio forgets the socket without closing it; PQfinish closes it.
  if (socket_.is_open()) (void)socket_.release();
  if (conn_) libpq().finish(conn_);
  conn_ = nullptr;
  connected_ = false;
}

std::string Connection::clean(std::string text) const { return redact(one_line(text), secrets_); }

Outcome Connection::fail(error_code error, std::string message) {
  close();
  return {error, clean(std::move(message))};
}

error_code Connection::watch_socket() {
  if (socket_.is_open()) (void)socket_.release();
  const int fd = libpq().socket(conn_);
  if (fd < 0) return asio::error::bad_descriptor;
  error_code ec;
  socket_.assign(fd, ec);
  return ec;
}

asio::awaitable<error_code> Connection::wait(Want want, Clock::time_point deadline) {
  using wait_type = asio::posix::stream_descriptor::wait_type;
  const short events = want == Want::read ? POLLIN : want == Want::write ? POLLOUT : POLLIN | POLLOUT;
  if (Clock::now() >= deadline) co_return timed_out();
  if (ready_now(socket_.native_handle(), events)) co_return error_code{};
  timer_.expires_at(deadline);
  if (want == Want::read_or_write) {
    auto readable = socket_.async_wait(wait_type::wait_read, use_tuple);
    auto writable = socket_.async_wait(wait_type::wait_write, use_tuple);
    auto expired = timer_.async_wait(use_tuple);
    auto either = std::move(readable) || std::move(writable);
    auto any = std::move(either) || std::move(expired);
    auto first = co_await std::move(any);
    if (first.index() == 2) co_return timed_out();
    co_return std::visit([](const auto& result) { return std::get<0>(result); }, first);
  }
  auto ready = socket_.async_wait(want == Want::read ? wait_type::wait_read : wait_type::wait_write, use_tuple);
  auto expired = timer_.async_wait(use_tuple);
  auto either = std::move(ready) || std::move(expired);
  auto first = co_await std::move(either);
  if (first.index() == 1) co_return timed_out();
  co_return std::get<0>(std::get<0>(first));
}

namespace {

// Why libpq cannot be loaded, or "" once it is. (Outside the coroutine: g++ 12 misreads a try block
// inside one.)
std::string why_libpq_is_missing() {
  try {
    (void)libpq();
    return {};
  } catch (const std::exception& e) {
    return e.what();
  }
}

} // namespace

asio::awaitable<Outcome> Connection::connect(const ConnectParams& params, Clock::time_point deadline) {
  close();
  if (auto missing = why_libpq_is_missing(); !missing.empty()) co_return fail(AdapterError::connection_failed, std::move(missing));
  std::vector<const char*> keywords;
  std::vector<const char*> values;
  for (const auto& [keyword, value] : params) {
    keywords.push_back(keyword.c_str());
    values.push_back(value.c_str());
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  conn_ = libpq().connect_start_params(keywords.data(), values.data(), 1);
  if (!conn_) co_return fail(make_error_code(boost::system::errc::not_enough_memory), "libpq is out of memory");
  libpq().set_notice_processor(conn_, drop_notice, nullptr);
  if (libpq().status(conn_) == CONNECTION_BAD) co_return fail(AdapterError::connection_failed, libpq().error_message(conn_));

  // As libpq asks: behave as if PQconnectPoll last answered "writing".
  auto status = PGRES_POLLING_WRITING;
  while (status != PGRES_POLLING_OK) {
    if (status == PGRES_POLLING_FAILED) co_return fail(AdapterError::connection_failed, libpq().error_message(conn_));
    if (const auto ec = watch_socket())
      co_return fail(AdapterError::connection_failed, "cannot watch libpq's socket: " + ec.message());
    const auto ec = co_await wait(status == PGRES_POLLING_READING ? Want::read : Want::write, deadline);
    if (ec == timed_out()) co_return fail(ec, "timed out while connecting");
    if (ec) co_return fail(AdapterError::connection_failed, "waiting to connect: " + ec.message());
    status = libpq().connect_poll(conn_);
  }
  if (libpq().set_nonblocking(conn_, 1) != 0) co_return fail(AdapterError::connection_failed, libpq().error_message(conn_));
  if (const auto ec = watch_socket())
    co_return fail(AdapterError::connection_failed, "cannot watch libpq's socket: " + ec.message());
  connected_ = true;
  co_return Outcome{};
}

asio::awaitable<Answer> Connection::query(const std::string& sql, Clock::time_point deadline) {
  Answer answer;
  if (!connected_) {
    answer.outcome = {AdapterError::connection_failed, "not connected"};
    co_return answer;
  }
  const auto lost = [&](const char* during) {
    return fail(AdapterError::connection_failed, std::string(during) + ": " + libpq().error_message(conn_));
  };
  const auto waited = [&](const error_code& ec, const char* during) {
    if (ec == timed_out()) return fail(ec, std::string("timed out while ") + during);
    return fail(AdapterError::connection_failed, std::string(during) + ": " + ec.message());
  };

  if (!libpq().send_query(conn_, sql.c_str())) {
    answer.outcome = lost("sending the query");
    co_return answer;
  }
  // A non-blocking send may leave bytes in libpq's buffer: flush them as the socket takes them,
  // reading what the server sends meanwhile so neither side waits on the other.
  for (int flushed = libpq().flush(conn_); flushed != 0; flushed = libpq().flush(conn_)) {
    if (flushed < 0) {
      answer.outcome = lost("sending the query");
      co_return answer;
    }
    if (const auto ec = co_await wait(Want::read_or_write, deadline)) {
      answer.outcome = waited(ec, "sending the query");
      co_return answer;
    }
    if (!libpq().consume_input(conn_)) {
      answer.outcome = lost("sending the query");
      co_return answer;
    }
  }

  std::optional<Outcome> server_error;
  for (;;) {
    if (!libpq().consume_input(conn_)) {
      answer.outcome = lost("reading the answer");
      co_return answer;
    }
    while (!libpq().is_busy(conn_)) {
      PGresult* raw = libpq().get_result(conn_);
      if (!raw) { // every result is in
        if (libpq().status(conn_) == CONNECTION_BAD) {
          answer.outcome = server_error ? fail(server_error->error, server_error->message) : lost("reading the answer");
          co_return answer;
        }
        if (server_error) answer.outcome = std::move(*server_error);
        co_return answer;
      }
      Result result(raw);
      switch (result.status()) {
      case PGRES_FATAL_ERROR:
      case PGRES_NONFATAL_ERROR:
        if (!server_error) {
          std::string message;
          for (const int field : {PG_DIAG_MESSAGE_PRIMARY, PG_DIAG_MESSAGE_DETAIL, PG_DIAG_MESSAGE_HINT})
            if (const char* text = libpq().result_error_field(raw, field))
              message += (message.empty() ? "" : "; ") + std::string(text);
          if (message.empty()) message = libpq().result_error_message(raw);
          server_error = Outcome{AdapterError::server_error, clean(std::move(message))};
        }
        break;
      case PGRES_COPY_IN:
      case PGRES_COPY_OUT:
      case PGRES_COPY_BOTH:
        answer.outcome = fail(AdapterError::bad_response, "the server started a COPY");
        co_return answer;
      default: answer.results.push_back(std::move(result));
      }
    }
    if (const auto ec = co_await wait(Want::read, deadline)) {
      answer.outcome = waited(ec, "waiting for the answer");
      co_return answer;
    }
  }
}

namespace {

// `text` quoted by one of libpq's escape functions, which allocate what they return.
[[nodiscard]] std::optional<std::string> escaped(PGconn* conn, decltype(&::PQescapeLiteral) escape,
                                                 std::string_view text) {
  if (!conn) return std::nullopt;
  char* quoted = escape(conn, text.data(), text.size());
  if (!quoted) return std::nullopt;
  std::string result(quoted);
  libpq().freemem(quoted);
  return result;
}

} // namespace

std::optional<std::string> Connection::literal(std::string_view text) const {
  return escaped(conn_, libpq().escape_literal, text);
}

std::optional<std::string> Connection::identifier(std::string_view text) const {
  return escaped(conn_, libpq().escape_identifier, text);
}

// --- Target ---------------------------------------------------------------------------------------

Target make_target(std::string dsn, std::string password, std::string dbname) {
  (void)libpq(); // loaded now: without it the config is refused at start, not each connection later
  Target target;
  std::string host, hostaddr, port;
  if (!dsn.empty()) {
    char* error = nullptr;
    PQconninfoOption* options = libpq().conninfo_parse(dsn.c_str(), &error);
    if (!options) {
      const std::string reason = error ? one_line(error) : "libpq is out of memory";
      libpq().freemem(error);
      throw std::invalid_argument("option 'dsn' is not a libpq connection string or URI: " + unquote_pieces(reason));
    }
    for (const auto* option = options; option->keyword; ++option) {
      if (!option->val) continue;
      const std::string_view keyword = option->keyword;
      if (keyword == "host") host = option->val;
      else if (keyword == "hostaddr") hostaddr = option->val;
      else if (keyword == "port") port = option->val;
      else if (keyword == "dbname") target.dsn_dbname = option->val;
      else if (keyword == "password" && *option->val) target.secrets.emplace_back(option->val);
    }
    libpq().conninfo_free(options);
  }
  // What libpq takes from the environment when the dsn says nothing.
  if (host.empty()) host = environment("PGHOST");
  if (hostaddr.empty()) hostaddr = environment("PGHOSTADDR");
  if (port.empty()) port = environment("PGPORT");
  if (auto from_environment = environment("PGPASSWORD"); !from_environment.empty())
    target.secrets.push_back(std::move(from_environment));
  if (!password.empty()) target.secrets.push_back(password);

  target.dsn = std::move(dsn);
  target.password = std::move(password);
  target.dbname = std::move(dbname);
  target.hosts = split_commas(host);
  target.ports = split_commas(port);
  target.has_hostaddr = !hostaddr.empty();
  return target;
}

asio::awaitable<Outcome> open(Connection& connection, const Target& target, Clock::time_point deadline) {
  connection.set_secrets(target.secrets);
  ConnectParams params;
  if (!target.dsn.empty()) params.emplace_back("dbname", target.dsn);

  const bool any_name = std::any_of(target.hosts.begin(), target.hosts.end(),
                                    [](const std::string& host) { return !is_socket(host) && !is_address(host); });
  // A port list that does not match the hosts is libpq's to refuse.
  const bool ports_fit = target.ports.size() <= 1 || target.ports.size() == target.hosts.size();
  if (!target.has_hostaddr && any_name && ports_fit) {
    const auto executor = co_await asio::this_coro::executor;
    std::vector<std::string> hosts, addresses, ports;
    std::string failures;
    for (std::size_t i = 0; i < target.hosts.size(); ++i) {
      const auto& host = target.hosts[i];
      const std::string port = target.ports.empty() ? "" : target.ports[target.ports.size() == 1 ? 0 : i];
      if (is_socket(host) || is_address(host)) {
        hosts.push_back(host);
        addresses.push_back(is_socket(host) ? "" : host);
        ports.push_back(port);
        continue;
      }
      // The port is libpq's to pass on: the lookup is for the addresses alone.
      const auto resolved = co_await detail::resolve_with_deadline(executor, host, 0, deadline);
      if (resolved.timed_out) co_return Outcome{timed_out(), "timed out while looking up host \"" + host + "\""};
      const auto found = distinct_addresses(resolved.endpoints);
      if (resolved.error || found.empty()) {
        failures += (failures.empty() ? "" : "; ") + ("could not look up host \"" + host + "\": " +
                                                      (resolved.error ? resolved.error.message() : "no address"));
        continue;
      }
      for (const auto& address : found) {
        hosts.push_back(host); // still the host: for TLS checks and .pgpass
        addresses.push_back(address);
        ports.push_back(port);
      }
    }
    if (hosts.empty()) co_return Outcome{AdapterError::connection_failed, failures};
    params.emplace_back("host", join_commas(hosts));
    params.emplace_back("hostaddr", join_commas(addresses));
    if (!target.ports.empty()) params.emplace_back("port", join_commas(ports));
  }
  if (!target.password.empty()) params.emplace_back("password", target.password);
  if (!target.dbname.empty()) params.emplace_back("dbname", target.dbname);
  params.emplace_back("fallback_application_name", "trimtab");
  auto outcome = co_await connection.connect(params, deadline);
  co_return outcome;
}

// --- text -----------------------------------------------------------------------------------------

std::string one_line(std::string_view text) {
  std::string line;
  bool space = false;
  for (const char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = !line.empty();
      continue;
    }
    if (space) line += ' ';
    space = false;
    line += c;
  }
  return line;
}

std::string redact(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& secret : secrets) {
    if (secret.empty()) continue;
    for (auto at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 3)) text.replace(at, secret.size(), "***");
  }
  return text;
}

} // namespace trimtab::pg
