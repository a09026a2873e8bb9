#include <trimtab/adapters/redis_adapter.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <trimtab/adapters/resp.hpp>
#include <trimtab/core/did_you_mean.hpp>

#include <trimtab/core/ascii.hpp>
#include "adapter_operation.hpp"
#include "adapter_options.hpp"
#include "redis_connection.hpp"
#include "ignore_gcc_coroutine_false_positive.hpp"

namespace trimtab {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

using redis::Endpoint;
using redis::parse_address;

// How much of a command or of Redis's answer a message quotes.
constexpr std::size_t quoted_chars = 200;
// Doubles beyond 2^53 are not all whole numbers that int64 can hold exactly.
constexpr double max_exact_integer = 9007199254740992.0;

constexpr std::array<std::string_view, 7> option_keys{"address", "username", "password_env", "password_file",
                                                      "timeout", "names",    "units"};

constexpr std::array<std::pair<std::string_view, std::int64_t>, 4> unit_names{{
    {"b", 1}, {"kb", 1024}, {"mb", 1024 * 1024}, {"gb", 1024 * 1024 * 1024}}};

using adapter_detail::throw_invalid;

// Why `name` cannot be a Redis setting's name for CONFIG SET and CONFIG GET, or nothing. CONFIG GET
// takes glob patterns, so a name with '*', '?' or '[' would read several settings.
[[nodiscard]] std::optional<std::string> name_problem(std::string_view name) {
  if (name.empty()) return "a Redis setting's name cannot be empty";
  for (const char c : name)
    if (!ascii::is_alnum(c) && c != '-' && c != '_' && c != '.')
      return "'" + std::string(name) + "' is not a Redis setting's name (letters, digits, '-', '_' and '.' only)";
  return std::nullopt;
}

[[nodiscard]] std::string default_redis_name(std::string name) {
  std::replace(name.begin(), name.end(), '_', '-');
  return name;
}

[[nodiscard]] std::string unit_name(std::int64_t bytes) {
  for (const auto& [name, size] : unit_names)
    if (size == bytes) return std::string(name);
  return std::to_string(bytes) + " bytes";
}

// "-?[0-9]+" that fits in int64, or nothing.
[[nodiscard]] std::optional<std::int64_t> whole_number(std::string_view text) {
  std::int64_t value = 0;
  if (text.empty() || text.front() == '+') return std::nullopt;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// A decimal number as Redis writes one: -?digits[.digits][e[+-]digits], finite; or nothing. Not
// "inf", "nan", "0x1p3" nor " 1", which from_chars alone would take or half-take.
[[nodiscard]] std::optional<double> decimal_number(std::string_view text) {
  std::size_t i = 0;
  const auto digits = [&] {
    const std::size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    return i - start;
  };
  if (i < text.size() && text[i] == '-') ++i;
  std::size_t mantissa = digits();
  if (i < text.size() && text[i] == '.') {
    ++i;
    mantissa += digits();
  }
  if (mantissa == 0) return std::nullopt;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    if (digits() == 0) return std::nullopt;
  }
  if (i != text.size()) return std::nullopt;
  double value = 0.0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

// A double as text Redis reads: whole numbers as integers (8, not 8.0 nor 8e0), others in their
// shortest exact form.
[[nodiscard]] std::string format_double(double value) {
  if (std::trunc(value) == value && std::abs(value) <= max_exact_integer)
    return std::to_string(static_cast<std::int64_t>(value));
  char buffer[64];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  return ec == std::errc{} ? std::string(buffer, end) : std::to_string(value);
}

// What the adapter and its operations in flight share. RedisAdapter::State, which the header only
// declares, derives from it, so the code here needs no access to the class's private parts.
struct Shared : adapter_detail::AdapterIdentity {
  RedisAdapterOptions options;
  Endpoint endpoint;
  // By index in params: the Redis setting and the bytes per unit (0: none).
  std::vector<std::string> redis_names;
  std::vector<std::int64_t> units;
  // Where its connections go, as "adapter 'NAME'".
  redis::Server server;

  // Text that came from Redis, made safe to show.
  [[nodiscard]] std::string quote(std::string_view text) const { return redis::quote(text, options.password); }
};

// What an operation sends, for messages: "CONFIG SET maxmemory 16777216", cut to quoted_chars.
[[nodiscard]] std::string command_text(const std::vector<std::string>& arguments, const Shared& state) {
  std::string text;
  for (const auto& argument : arguments) {
    if (!text.empty()) text += ' ';
    text += argument;
  }
  return state.quote(text);
}

// The value to send for param `index`, or why it cannot be sent.
[[nodiscard]] std::variant<std::string, AdapterResult> encode_value(const Shared& state, std::size_t index,
                                                                    const Value& value) {
  const auto& param = state.params[index];
  const std::int64_t unit = state.units[index];
  const auto bad = [&](const std::string& why) {
    return state.failure(AdapterError::bad_settings, "parameter '" + param + "': " + why);
  };
  if (const auto* label = std::get_if<std::string>(&value)) {
    if (unit != 0) return bad("'" + *label + "' is not a number of " + unit_name(unit));
    return *label;
  }
  if (const auto* integer = std::get_if<std::int64_t>(&value)) {
    if (unit == 0) return std::to_string(*integer);
    std::int64_t bytes = 0;
    if (__builtin_mul_overflow(*integer, unit, &bytes))
      return bad(std::to_string(*integer) + " " + unit_name(unit) + " is more bytes than fit in 64 bits");
    return std::to_string(bytes);
  }
  const double number = std::get<double>(value);
  if (!std::isfinite(number)) return bad(format_double(number) + " is not a finite number");
  if (unit == 0) return format_double(number);
  const double bytes = std::round(number * static_cast<double>(unit));
  if (std::abs(bytes) > max_exact_integer)
    return bad(format_double(number) + " " + unit_name(unit) + " is more bytes than the adapter sends exactly");
  return std::to_string(static_cast<std::int64_t>(bytes));
}

// Redis's text for param `index` as a Value, or why it is not one.
[[nodiscard]] std::variant<Value, AdapterResult> decode_value(const Shared& state, std::size_t index,
                                                              const std::string& text, const std::string& what) {
  const std::int64_t unit = state.units[index];
  const auto whole = whole_number(text);
  const auto decimal = whole ? std::nullopt : decimal_number(text);
  if (unit == 0) {
    if (whole) return Value{*whole};
    if (decimal) return Value{*decimal};
    return Value{text};
  }
  if (whole) {
    if (*whole % unit == 0) return Value{*whole / unit};
    return Value{static_cast<double>(*whole) / static_cast<double>(unit)};
  }
  if (decimal) return Value{*decimal / static_cast<double>(unit)};
  return state.failure(AdapterError::bad_response, what + ": '" + state.quote(text) + "' is not a number of bytes (param '" +
                                                       state.params[index] + "' is in " + unit_name(unit) + ")");
}

asio::awaitable<AdapterResult> run_apply(asio::any_io_executor executor, std::shared_ptr<const Shared> state,
                                         Settings settings) {
  if (auto checked = check_settings(state->name, state->params, settings); !checked) co_return checked;
  std::vector<std::string> command{"CONFIG", "SET"};
  for (std::size_t i = 0; i < state->params.size(); ++i)
    for (const auto& [name, value] : settings)
      if (name == state->params[i]) {
        auto encoded = encode_value(*state, i, value);
        if (auto* failed = std::get_if<AdapterResult>(&encoded)) co_return std::move(*failed);
        command.push_back(state->redis_names[i]);
        command.push_back(std::move(std::get<std::string>(encoded)));
      }
  const std::string what = command_text(command, *state);
  const std::string bytes = resp::encode_command(command);

  redis::Connection connection(executor, state->server);
  if (auto opened = co_await connection.open(); !opened) co_return opened;
  if (auto sent = co_await connection.send(bytes, what); !sent) co_return sent;
  resp::Reply reply;
  if (auto read = co_await connection.receive(reply, what); !read) co_return read;
  if (reply.is_error()) {
    std::string message = what + ": " + state->quote(reply.text);
    if (reply.text.starts_with("NOAUTH") && state->options.password.empty())
      message += " (give the adapter password_env or password_file)";
    co_return state->failure(AdapterError::server_error, message);
  }
  if (reply.type != resp::Type::simple_string || reply.text != "OK")
    co_return state->failure(AdapterError::bad_response, what + ": expected OK, got " + connection.describe(reply));
  co_return AdapterResult{};
}

using Outcome = adapter_detail::CurrentOutcome;

asio::awaitable<Outcome> run_current(asio::any_io_executor executor, std::shared_ptr<const Shared> state) {
  // One CONFIG GET per name, pipelined: each reply then answers for exactly one setting, whatever
  // name (an alias, say) Redis puts in it.
  std::string bytes;
  for (const auto& redis_name : state->redis_names) {
    const std::array<std::string, 3> command{"CONFIG", "GET", redis_name};
    bytes += resp::encode_command(command);
  }
  const std::string all = state->redis_names.size() == 1 ? "CONFIG GET " + state->redis_names[0] : "CONFIG GET";

  redis::Connection connection(executor, state->server);
  if (auto opened = co_await connection.open(); !opened) co_return Outcome{std::move(opened), {}};
  if (auto sent = co_await connection.send(bytes, all); !sent) co_return Outcome{std::move(sent), {}};
  Settings current;
  current.reserve(state->params.size());
  for (std::size_t i = 0; i < state->params.size(); ++i) {
    const std::string what = "CONFIG GET " + state->redis_names[i];
    resp::Reply reply;
    if (auto read = co_await connection.receive(reply, what); !read) co_return Outcome{std::move(read), {}};
    const auto bad = [&](AdapterError error, const std::string& why) { return Outcome{state->failure(error, what + ": " + why), {}}; };
    if (reply.is_error()) {
      std::string message = state->quote(reply.text);
      if (reply.text.starts_with("NOAUTH") && state->options.password.empty())
        message += " (give the adapter password_env or password_file)";
      co_return bad(AdapterError::server_error, message);
    }
    if (reply.type != resp::Type::array || reply.elements.size() % 2 != 0 ||
        !std::all_of(reply.elements.begin(), reply.elements.end(), [](const resp::Reply& e) { return e.is_string(); }))
      co_return bad(AdapterError::bad_response, "expected pairs of names and values, got " + connection.describe(reply));
    if (reply.elements.empty())
      co_return bad(AdapterError::missing_param, "Redis has no setting '" + state->redis_names[i] + "' (for param '" +
                                                     state->params[i] + "'; map it with names." + state->params[i] + ")");
    if (reply.elements.size() != 2)
      co_return bad(AdapterError::bad_response, "expected one setting, got " + std::to_string(reply.elements.size() / 2));
    auto decoded = decode_value(*state, i, reply.elements[1].text, what);
    if (auto* failed = std::get_if<AdapterResult>(&decoded)) co_return Outcome{std::move(*failed), {}};
    current.emplace_back(state->params[i], std::move(std::get<Value>(decoded)));
  }
  co_return Outcome{AdapterResult{}, std::move(current)};
}

} // namespace

struct RedisAdapter::State : Shared {};

RedisAdapter::RedisAdapter(asio::any_io_executor executor, std::string name, std::vector<std::string> params,
                           RedisAdapterOptions options)
    : AdapterBase(std::move(executor), name, params, options.timeout, "a redis adapter") {
  const auto fail = [adapter = name](const std::string& what) { throw_invalid(adapter, what); };
  if (params.empty()) fail("no params to set");
  auto endpoint = parse_address(options.address);
  if (const auto* problem = std::get_if<std::string>(&endpoint)) fail("address '" + options.address + "': " + *problem);
  if (options.timeout.count() <= 0) fail("the timeout must be positive");
  if (!options.username.empty() && options.password.empty())
    fail("a username needs a password (password_env or password_file)");

  std::vector<std::string_view> owned(params.begin(), params.end());
  const auto check_owned = [&](const std::string& key, const std::string& param) {
    if (std::find(params.begin(), params.end(), param) == params.end())
      fail("option '" + key + "." + param + "': '" + param + "' is not one of the adapter's params" +
           did_you_mean(param, owned));
  };
  for (const auto& [param, redis_name] : options.names) {
    check_owned("names", param);
    if (auto problem = name_problem(redis_name)) fail("option 'names." + param + "': " + *problem);
  }
  for (const auto& [param, unit] : options.units) {
    check_owned("units", param);
    if (unit <= 0) fail("option 'units." + param + "': a unit must be a positive number of bytes");
  }

  State state{{{std::move(name), std::move(params)}, std::move(options), std::get<Endpoint>(std::move(endpoint)), {}, {}, {}}};
  state.server = redis::Server{"adapter '" + state.name + "'", state.options.address, state.endpoint,
                               state.options.username, state.options.password, state.options.timeout};
  for (const auto& param : state.params) {
    const auto mapped = state.options.names.find(param);
    auto redis_name = mapped != state.options.names.end() ? mapped->second : default_redis_name(param);
    if (auto problem = name_problem(redis_name))
      fail("param '" + param + "': " + *problem + "; map it to one with names." + param);
    for (std::size_t i = 0; i < state.redis_names.size(); ++i)
      if (ascii::lower(state.redis_names[i]) == ascii::lower(redis_name))
        fail("params '" + state.params[i] + "' and '" + param + "' both map to Redis setting '" + redis_name + "'");
    state.redis_names.push_back(std::move(redis_name));
    const auto unit = state.options.units.find(param);
    state.units.push_back(unit != state.options.units.end() ? unit->second : 0);
  }
  state_ = std::make_shared<const State>(std::move(state));
}

RedisAdapterOptions RedisAdapter::from_options(const std::string& name, const std::map<std::string, std::string>& options) {
  const auto fail = [&](const std::string& what) { throw_invalid(name, what); };
  RedisAdapterOptions result;
  for (const auto& [key, value] : options) {
    const auto dot = key.find('.');
    const std::string head = key.substr(0, dot);
    if (std::find(option_keys.begin(), option_keys.end(), head) == option_keys.end())
      fail("unknown option '" + key + "'" + did_you_mean(head, option_keys) +
           " (a redis adapter takes address, username, password_env, password_file, timeout, names.<param> and "
           "units.<param>)");
    const bool is_map = head == "names" || head == "units";
    if (is_map && (dot == std::string::npos || dot + 1 == key.size()))
      fail("option '" + head + "' is a map from params to " +
           (head == "names" ? std::string("Redis settings, such as names: {cache_mb: maxmemory}")
                            : std::string("units, such as units: {cache_mb: mb}")));
    if (!is_map && dot != std::string::npos) fail("option '" + head + "' takes one value, not a map");
    if (head == "names") {
      result.names[key.substr(dot + 1)] = value;
    } else if (head == "units") {
      const auto unit = std::find_if(unit_names.begin(), unit_names.end(),
                                     [&](const auto& entry) { return entry.first == ascii::lower(value); });
      if (unit == unit_names.end()) fail("option '" + key + "': unknown unit '" + value + "' (use b, kb, mb or gb)");
      result.units[key.substr(dot + 1)] = unit->second;
    }
  }
  if (const auto address = options.find("address"); address != options.end()) {
    if (auto endpoint = parse_address(address->second); std::holds_alternative<std::string>(endpoint))
      fail("option 'address': '" + address->second + "': " + std::get<std::string>(endpoint));
    result.address = address->second;
  }
  if (const auto username = options.find("username"); username != options.end()) {
    if (username->second.empty()) fail("option 'username' is empty; leave it out for the default user");
    result.username = username->second;
  }
  result.password = redis::read_password("adapter '" + name + "'", options);
  if (!result.username.empty() && result.password.empty())
    fail("option 'username' needs a password: give password_env or password_file");
  if (auto problem = adapter_detail::read_timeout_option(options, result.timeout)) fail(*problem);
  return result;
}

const std::string& RedisAdapter::redis_name(const std::string& param) const {
  const auto at = std::find(state_->params.begin(), state_->params.end(), param);
  if (at == state_->params.end()) throw std::out_of_range("adapter '" + state_->name + "': no param '" + param + "'");
  return state_->redis_names[static_cast<std::size_t>(at - state_->params.begin())];
}

void RedisAdapter::async_apply(Settings settings, apply_handler handler) {
  adapter_detail::spawn_apply(get_executor(),
                              run_apply(get_executor(), std::shared_ptr<const Shared>(state_), std::move(settings)),
                              std::move(handler));
}

void RedisAdapter::async_current(current_handler handler) {
  adapter_detail::spawn_current(get_executor(), run_current(get_executor(), std::shared_ptr<const Shared>(state_)),
                                std::move(handler));
}

} // namespace trimtab
