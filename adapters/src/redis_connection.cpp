#include "redis_connection.hpp"

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>

#include <trimtab/core/ascii.hpp>
#include "host_and_port.hpp"
#include "resolve_with_deadline.hpp"
#include "ignore_gcc_coroutine_false_positive.hpp"

namespace trimtab::redis {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;
using boost::system::error_code;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// The most bytes of replies kept while waiting for one to complete; the parser's own limits bound
// each part of a reply, this bounds the whole.
constexpr std::size_t max_reply_bytes = std::size_t{8} << 20;
// A password file larger than this is not a password file.
constexpr std::size_t max_password_file_bytes = 4096;
// How much of a command or of Redis's answer a message quotes.
constexpr std::size_t quoted_chars = 200;

} // namespace

// host[:port], [IPv6][:port]; or why not.
std::variant<Endpoint, std::string> parse_address(std::string_view address) {
  if (address.empty()) return std::string("the address is empty (host:port, such as 127.0.0.1:6379)");
  auto split = detail::split_host_and_port(address);
  if (auto* problem = std::get_if<std::string>(&split)) return std::move(*problem);
  auto& [host, bracketed, port] = std::get<detail::HostAndPort>(split);
  if (!bracketed) {
    if (port && port->find(':') != std::string_view::npos)
      return std::string("write an IPv6 address in brackets, as in [::1]:6379");
    if (host.empty()) return std::string("no host before the port (host:port, such as 127.0.0.1:6379)");
    for (const char c : host)
      if (!ascii::is_alnum(c) && c != '-' && c != '.' && c != '_')
        return "'" + std::string(1, c) + "' cannot appear in a host name (unix sockets are not supported)";
  }
  Endpoint endpoint;
  endpoint.host = std::move(host);
  if (port) {
    auto number = detail::parse_port(*port);
    if (auto* problem = std::get_if<std::string>(&number)) return std::move(*problem);
    endpoint.port = std::get<std::uint16_t>(number);
  }
  return endpoint;
}

// `text` as one line of at most quoted_chars bytes, without `secret`.
std::string quote(std::string_view text, const std::string& secret) {
  std::string clean(text);
  if (!secret.empty())
    for (std::size_t at = clean.find(secret); at != std::string::npos; at = clean.find(secret, at + 10))
      clean.replace(at, secret.size(), "<password>");
  resp::Reply as_reply{resp::Type::simple_string, std::move(clean)};
  return resp::describe(as_reply, quoted_chars);
}

// The password the options point at, read now.
std::string read_password(const std::string& who, const std::map<std::string, std::string>& options) {
  const auto fail = [&](const std::string& what) { throw std::invalid_argument(who + ": " + what); };
  const auto env = options.find("password_env");
  const auto file = options.find("password_file");
  if (env != options.end() && file != options.end())
    fail("give password_env or password_file, not both");
  if (env != options.end()) {
    if (env->second.empty()) fail("option 'password_env': name an environment variable that holds the password");
    const char* value = std::getenv(env->second.c_str());
    if (value == nullptr) fail("option 'password_env': the environment variable '" + env->second + "' is not set");
    if (*value == '\0') fail("option 'password_env': the environment variable '" + env->second + "' is empty");
    return value;
  }
  if (file != options.end()) {
    const std::string where = "option 'password_file': '" + file->second + "' ";
    if (file->second.empty()) fail("option 'password_file': name the file that holds the password");
    std::ifstream in(file->second, std::ios::binary);
    if (!in) fail(where + "cannot be opened");
    std::string password;
    char chunk[512];
    while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
      password.append(chunk, static_cast<std::size_t>(in.gcount()));
      if (password.size() > max_password_file_bytes)
        fail(where + "is larger than " + std::to_string(max_password_file_bytes) + " bytes; is it the password file?");
    }
    if (in.bad()) fail(where + "cannot be read");
    while (!password.empty() && (password.back() == '\n' || password.back() == '\r')) password.pop_back();
    if (password.empty()) fail(where + "is empty");
    return password;
  }
  return {};
}

Connection::Connection(asio::any_io_executor executor, const Server& server)
    : executor_(executor), server_(server), stream_(executor), deadline_(Clock::now() + server.timeout) {}

Connection::~Connection() {
  error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.close();
}

asio::awaitable<AdapterResult> Connection::open() {
  const auto& endpoint = server_.endpoint;
  const auto resolved = co_await detail::resolve_with_deadline(executor_, endpoint.host, endpoint.port, deadline_);
  if (resolved.timed_out) co_return timed_out("resolving " + endpoint.host);
  if (resolved.error)
    co_return server_.failure(resolved.error, "resolve " + endpoint.host + ": " + resolved.error.message());
  if (resolved.endpoints.empty())
    co_return server_.failure(asio::error::host_not_found, "resolve " + endpoint.host + ": no address");

  stream_.expires_at(deadline_);
  if (auto [connect_ec, connected] = co_await stream_.async_connect(resolved.endpoints, use_tuple); connect_ec) {
    if (connect_ec == beast::error::timeout) co_return timed_out("connecting");
    co_return server_.failure(connect_ec, "connect " + server_.address + ": " + connect_ec.message());
  }

  if (server_.password.empty()) co_return AdapterResult{};
  std::vector<std::string> auth{"AUTH"};
  if (!server_.username.empty()) auth.push_back(server_.username);
  auth.push_back(server_.password);
  const std::string what = server_.username.empty() ? "AUTH" : "AUTH as '" + server_.username + "'";
  const std::string bytes = resp::encode_command(auth);
  resp::Reply reply;
  if (auto sent = co_await send(bytes, what); !sent) co_return sent;
  if (auto read = co_await receive(reply, what); !read) co_return read;
  if (reply.is_error()) co_return server_.failure(AdapterError::server_error, what + ": " + server_.quote(reply.text));
  if (reply.type != resp::Type::simple_string || reply.text != "OK")
    co_return server_.failure(AdapterError::bad_response, what + ": expected OK, got " + describe(reply));
  co_return AdapterResult{};
}

asio::awaitable<AdapterResult> Connection::send(const std::string& bytes, const std::string& what) {
  auto [ec, written] = co_await asio::async_write(stream_, asio::buffer(bytes), use_tuple);
  if (!ec) co_return AdapterResult{};
  if (ec == beast::error::timeout) co_return timed_out("sending " + what);
  co_return server_.failure(ec, server_.address + ": sending " + what + ": " + ec.message());
}

asio::awaitable<AdapterResult> Connection::receive(resp::Reply& reply, const std::string& what) {
  for (;;) {
    auto parsed = resp::parse(buffer_);
    if (parsed.status == resp::Status::complete) {
      buffer_.erase(0, parsed.consumed);
      reply = std::move(parsed.reply);
      co_return AdapterResult{};
    }
    if (parsed.status == resp::Status::invalid)
      co_return server_.failure(AdapterError::bad_response, server_.address + ": the reply to " + what +
                                                               " is not RESP2 (" + parsed.error + "); is it a Redis server?");
    if (buffer_.size() > max_reply_bytes)
      co_return server_.failure(AdapterError::bad_response, server_.address + ": the reply to " + what +
                                                               " is larger than " + std::to_string(max_reply_bytes) + " bytes");
    auto [ec, n] = co_await stream_.async_read_some(asio::buffer(chunk_), use_tuple);
    buffer_.append(chunk_.data(), n);
    if (!ec) continue;
    if (ec == beast::error::timeout) co_return timed_out("waiting for the reply to " + what);
    if (ec == asio::error::eof)
      co_return server_.failure(ec, server_.address + ": the connection closed before the reply to " + what);
    co_return server_.failure(ec, server_.address + ": reading the reply to " + what + ": " + ec.message());
  }
}

std::string Connection::describe(const resp::Reply& reply) const {
  return server_.quote(resp::describe(reply, quoted_chars));
}

AdapterResult Connection::timed_out(const std::string& during) const {
  return server_.failure(make_error_code(boost::system::errc::timed_out),
                        server_.address + ": timed out after " + std::to_string(server_.timeout.count()) +
                            " ms while " + during);
}

} // namespace trimtab::redis
