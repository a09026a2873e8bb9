#include "pg_common.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <trimtab/core/did_you_mean.hpp>

#include "adapter_options.hpp"

namespace trimtab::pg {
namespace {

namespace asio = boost::asio;

constexpr std::array<std::string_view, 6> all_keys{"dsn", "password_env", "password_file", "names", "units", "timeout"};
constexpr std::array<std::string_view, 11> units{"B", "kB", "MB", "GB", "TB", "us", "ms", "s", "min", "h", "d"};

} // namespace

CommonOptions parse_options(const std::string& adapter, std::string_view kind,
                            const std::map<std::string, std::string>& options, bool with_units,
                            const std::vector<std::string_view>& own_keys) {
  const auto fail = [&](const std::string& what) { adapter_detail::throw_invalid(adapter, what); };
  std::vector<std::string_view> keys;
  std::string key_list;
  for (const auto key : all_keys) {
    if (!with_units && key == "units") continue;
    keys.push_back(key);
    key_list += (key_list.empty() ? "" : ", ") + std::string(key);
  }
  for (const auto key : own_keys) {
    keys.push_back(key);
    key_list += ", " + std::string(key);
  }

  CommonOptions result;
  for (const auto& [key, value] : options) {
    const auto dot = key.find('.');
    const std::string head = key.substr(0, dot);
    if (head == "names" || (head == "units" && with_units)) {
      const bool names = head == "names";
      if (dot == std::string::npos)
        fail("option '" + key + "' maps params to " + (names ? "server setting names" : "units") + ": write " + head +
             (names ? ": {param: setting}" : ": {param: MB}"));
      const auto param = key.substr(dot + 1);
      if (value.empty()) fail("option '" + key + "' is empty");
      if (!names && !is_unit(value))
        fail("option '" + key + "': '" + value +
             "' is not a PostgreSQL unit (B, kB, MB, GB, TB, us, ms, s, min, h or d, in that case)");
      (names ? result.names : result.units)[param] = value;
      continue;
    }
    if (head == "units")
      fail("option '" + key + "': a " + std::string(kind) +
           " adapter takes no units (PgBouncer's settings are plain numbers, durations in seconds)");
    if (dot != std::string::npos || std::find(keys.begin(), keys.end(), key) == keys.end())
      fail("unknown option '" + key + "'" + did_you_mean(key, keys) + " (a " + std::string(kind) + " adapter takes " +
           key_list + ")");
    if (key == "dsn") result.dsn = value;
    else if (key == "password_env") result.password_env = value;
    else if (key == "password_file") result.password_file = value;
    else if (std::find(own_keys.begin(), own_keys.end(), key) != own_keys.end()) result.own[key] = value;
    else if (key == "timeout") {
      if (auto problem = adapter_detail::read_timeout_option({{key, value}}, result.timeout)) fail(*problem);
    }
  }
  if (!result.password_env.empty() && !result.password_file.empty())
    fail("give password_env or password_file, not both");
  return result;
}

std::string read_password(const std::string& env, const std::string& file) {
  if (!env.empty() && !file.empty()) throw std::invalid_argument("give password_env or password_file, not both");
  if (!env.empty()) {
    const char* value = std::getenv(env.c_str());
    if (!value || !*value)
      throw std::invalid_argument("option 'password_env': the environment variable " + env + " is " +
                                  (value ? "empty" : "not set"));
    return value;
  }
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::invalid_argument("option 'password_file': cannot read " + file);
    std::ostringstream text;
    text << in.rdbuf();
    std::string password = text.str();
    if (!password.empty() && password.back() == '\n') password.pop_back();
    if (!password.empty() && password.back() == '\r') password.pop_back();
    if (password.empty()) throw std::invalid_argument("option 'password_file': " + file + " is empty");
    return password;
  }
  return {};
}

void check_param_keys(const std::map<std::string, std::string>& map, std::string_view option,
                      const std::vector<std::string>& params) {
  for (const auto& [param, value] : map)
    if (std::find(params.begin(), params.end(), param) == params.end())
      throw std::invalid_argument("option '" + std::string(option) + "." + param + "': '" + param +
                                  "' is not one of the adapter's params");
}

bool is_unit(std::string_view unit) noexcept { return std::find(units.begin(), units.end(), unit) != units.end(); }

std::string value_text(const Value& value, std::string_view unit) {
  if (const auto* text = std::get_if<std::string>(&value)) return *text;
  std::string number;
  if (const auto* integer = std::get_if<std::int64_t>(&value)) {
    number = std::to_string(*integer);
  } else {
    std::array<char, 64> buffer{};
    const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), std::get<double>(value));
    number.assign(buffer.data(), ec == std::errc{} ? end : buffer.data());
  }
  return number + std::string(unit);
}

std::optional<std::int64_t> to_int(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> to_double(const std::string& text) {
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::chrono::steady_clock::time_point deadline_after(std::chrono::milliseconds timeout) {
  return std::chrono::steady_clock::now() + timeout - std::min<std::chrono::milliseconds>(timeout / 20, std::chrono::milliseconds(100));
}

Lane::Turn::~Turn() {
  if (lane_) lane_->leave();
}

asio::awaitable<Lane::Turn> Lane::enter() {
  if (!busy_) {
    busy_ = true;
    co_return Turn(shared_from_this());
  }
  const auto executor = co_await asio::this_coro::executor;
  auto turn = std::make_shared<asio::steady_timer>(executor, asio::steady_timer::time_point::max());
  waiting_.push_back(turn);
  (void)co_await turn->async_wait(asio::as_tuple(asio::use_awaitable)); // leave() cancels it
  co_return Turn(shared_from_this()); // busy_ stayed true: the turn was handed over
}

void Lane::leave() {
  if (waiting_.empty()) {
    busy_ = false;
    return;
  }
  const auto next = waiting_.front();
  waiting_.pop_front();
  next->cancel();
}

} // namespace trimtab::pg
