#include <trimtab/adapters/postgres_adapter.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <trimtab/core/ascii.hpp>
#include "pg_adapter_state.hpp"
#include "pg_common.hpp"
#include "pg_connection.hpp"

#include "adapter_operation.hpp"
#include "adapter_options.hpp"
#include "ignore_gcc_coroutine_false_positive.hpp"

namespace trimtab {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;
using pg::Clock;

// How often an apply asks whether its session has reloaded the configuration yet.
constexpr std::chrono::milliseconds reload_poll{10};

// A setting as pg_settings describes it.
struct Setting {
  std::string name;    // as the server spells it
  std::string setting; // in the base unit
  std::string unit;    // the base unit ("kB", "8kB", "ms"), or ""
  std::string context;
  std::string vartype; // bool, integer, real, string or enum
  std::string source;
};

enum class Dimension { memory, time };

struct Scale {
  Dimension dimension;
  double factor; // bytes or microseconds
};

// A PostgreSQL unit with an optional multiplier in front ("8kB", the unit of page-sized settings).
[[nodiscard]] std::optional<Scale> scale_of(std::string_view unit) {
  double multiplier = 1;
  std::size_t digits = 0;
  while (digits < unit.size() && unit[digits] >= '0' && unit[digits] <= '9') ++digits;
  if (digits > 0) {
    std::uint64_t n = 0;
    std::from_chars(unit.data(), unit.data() + digits, n);
    multiplier = static_cast<double>(n);
    unit.remove_prefix(digits);
  }
  constexpr double k = 1024;
  if (unit == "B") return Scale{Dimension::memory, multiplier};
  if (unit == "kB") return Scale{Dimension::memory, multiplier * k};
  if (unit == "MB") return Scale{Dimension::memory, multiplier * k * k};
  if (unit == "GB") return Scale{Dimension::memory, multiplier * k * k * k};
  if (unit == "TB") return Scale{Dimension::memory, multiplier * k * k * k * k};
  if (unit == "us") return Scale{Dimension::time, multiplier};
  if (unit == "ms") return Scale{Dimension::time, multiplier * 1e3};
  if (unit == "s") return Scale{Dimension::time, multiplier * 1e6};
  if (unit == "min") return Scale{Dimension::time, multiplier * 60e6};
  if (unit == "h") return Scale{Dimension::time, multiplier * 3600e6};
  if (unit == "d") return Scale{Dimension::time, multiplier * 86400e6};
  return std::nullopt;
}

// PostgreSQL's spellings of a boolean, as it reads them: "on" or "off", or nothing.
[[nodiscard]] std::optional<std::string> boolean_of(const Value& value) {
  if (const auto* integer = std::get_if<std::int64_t>(&value)) {
    if (*integer == 0 || *integer == 1) return *integer ? "on" : "off";
    return std::nullopt;
  }
  if (const auto* real = std::get_if<double>(&value)) {
    if (*real == 0 || *real == 1) return *real != 0 ? "on" : "off";
    return std::nullopt;
  }
  const auto text = ascii::lower(std::get<std::string>(value));
  if (text.empty()) return std::nullopt;
  const auto prefix_of = [&](std::string_view word) { return word.substr(0, text.size()) == text; };
  if (text == "on" || text == "1" || prefix_of("true") || prefix_of("yes")) return "on";
  if (text == "off" || text == "of" || text == "0" || prefix_of("false") || prefix_of("no")) return "off";
  return std::nullopt;
}

// What a setting's refusal says, or nothing when a reload applies it to every session.
[[nodiscard]] std::optional<std::string> context_problem(const Setting& setting) {
  const auto& context = setting.context;
  if (context == "sighup" || context == "superuser" || context == "user") return std::nullopt;
  const std::string tail = " (context " + context + "); trimtab only changes settings a reload applies to every session";
  if (context == "postmaster") return "needs a server restart" + tail;
  if (context == "internal") return "cannot be changed at all" + tail;
  if (context == "backend" || context == "superuser-backend")
    return "applies only to sessions that start after a reload" + tail +
           " (sessions open now would keep the old value, and a window would measure a mix)";
  return "has a context trimtab does not know" + tail;
}

// The value of a setting as the param reads it: in the param's unit when it has one.
[[nodiscard]] std::optional<Value> read_value(const Setting& setting, const std::string& unit) {
  if (setting.vartype == "integer") {
    const auto base = pg::to_int(setting.setting);
    if (!base) return std::nullopt;
    if (unit.empty()) return Value{*base};
    const auto from = scale_of(setting.unit);
    const auto to = scale_of(unit);
    if (!from || !to) return std::nullopt;
    const auto from_factor = static_cast<std::int64_t>(from->factor);
    const auto to_factor = static_cast<std::int64_t>(to->factor);
    std::int64_t scaled = 0;
    if (!__builtin_mul_overflow(*base, from_factor, &scaled) && to_factor > 0 && scaled % to_factor == 0)
      return Value{scaled / to_factor};
    return Value{static_cast<double>(*base) * from->factor / to->factor};
  }
  if (setting.vartype == "real") {
    const auto base = pg::to_double(setting.setting);
    if (!base) return std::nullopt;
    if (unit.empty()) return Value{*base};
    const auto from = scale_of(setting.unit);
    const auto to = scale_of(unit);
    if (!from || !to) return std::nullopt;
    return Value{*base * from->factor / to->factor};
  }
  return Value{setting.setting}; // bool ("on", "off"), enum, string
}

// Whether the setting now reads as `asked` (in `unit`), as the server rounds it.
[[nodiscard]] bool reads_as(const Setting& setting, const Value& asked, const std::string& unit) {
  if (setting.vartype == "integer" || setting.vartype == "real") {
    const auto* text = std::get_if<std::string>(&asked);
    if (text) return true; // a label such as '64MB': the server checked it, nothing to compare here
    double wanted = std::holds_alternative<std::int64_t>(asked) ? static_cast<double>(std::get<std::int64_t>(asked))
                                                                : std::get<double>(asked);
    if (!unit.empty()) {
      const auto from = scale_of(unit);
      const auto to = scale_of(setting.unit);
      if (!from || !to) return false;
      wanted = wanted * from->factor / to->factor;
    }
    const auto now = pg::to_double(setting.setting);
    if (!now) return false;
    if (setting.vartype == "integer") return std::abs(*now - wanted) <= 0.5 + 1e-9 * std::abs(wanted);
    return std::abs(*now - wanted) <= 1e-5 * std::max(std::abs(*now), std::abs(wanted)) + 1e-12; // shown with %g
  }
  if (setting.vartype == "bool") return boolean_of(asked) == setting.setting;
  const auto* text = std::get_if<std::string>(&asked);
  return ascii::lower(text ? *text : pg::value_text(asked)) == ascii::lower(setting.setting);
}

} // namespace

struct detail::PostgresAdapterState : pg::AdapterState {
  PostgresAdapterOptions options;
  std::vector<std::string> units; // the unit of each param, or ""
};

namespace {

using State = detail::PostgresAdapterState;

// SQL that reads what pg_settings holds for the adapter's settings, after `head` columns.
[[nodiscard]] std::optional<std::string> settings_sql(const pg::Connection& connection, const State& state,
                                                      const std::string& head) {
  std::string list;
  for (const auto& name : state.settings) {
    const auto quoted = connection.literal(ascii::lower(name));
    if (!quoted) return std::nullopt;
    list += (list.empty() ? "" : ", ") + *quoted;
  }
  return "SELECT " + head + "name, setting, coalesce(unit, '') AS unit, context, vartype, source FROM pg_settings "
         "WHERE lower(name) IN (" + list + ")";
}

// The settings in params() order, from a result of settings_sql; a setting the server lacks fails.
[[nodiscard]] std::variant<std::vector<Setting>, AdapterResult> parse_settings(const State& state,
                                                                                const pg::Result& result) {
  const auto column = [&](const char* name) { return result.column(name).value_or(0); };
  const auto name = column("name"), setting = column("setting"), unit = column("unit"), context = column("context"),
             vartype = column("vartype"), source = column("source");
  std::vector<Setting> found;
  for (std::size_t i = 0; i < state.settings.size(); ++i) {
    const auto wanted = ascii::lower(state.settings[i]);
    std::optional<Setting> match;
    for (std::size_t row = 0; row < result.rows() && !match; ++row)
      if (ascii::lower(std::string(result.text(row, name))) == wanted)
        match = Setting{std::string(result.text(row, name)), std::string(result.text(row, setting)),
                        std::string(result.text(row, unit)), std::string(result.text(row, context)),
                        std::string(result.text(row, vartype)), std::string(result.text(row, source))};
    if (!match)
      return state.failure(AdapterError::refused, "the server has no setting '" + state.settings[i] + "'" +
                                                      (state.settings[i] == state.params[i] ? "" : " (param " + state.params[i] + ")"));
    found.push_back(std::move(*match));
  }
  return found;
}

// Refuses what an apply cannot change for every session, and units that do not fit.
[[nodiscard]] std::optional<AdapterResult> refusal(const State& state, const std::vector<Setting>& settings) {
  for (std::size_t i = 0; i < settings.size(); ++i) {
    const auto& setting = settings[i];
    if (auto problem = context_problem(setting))
      return state.failure(AdapterError::refused, state.describe(i) + " " + *problem);
    const auto& unit = state.units[i];
    if (unit.empty()) continue;
    const auto option = "units." + state.params[i] + " is " + unit + ", but " + setting.name;
    if (setting.vartype != "integer" && setting.vartype != "real")
      return state.failure(AdapterError::refused, option + " is not a number (" + setting.vartype + ")");
    const auto theirs = scale_of(setting.unit);
    if (!theirs) return state.failure(AdapterError::refused, option + " has no unit");
    if (theirs->dimension != scale_of(unit)->dimension)
      return state.failure(AdapterError::refused, option + " is measured in " + setting.unit);
  }
  return std::nullopt;
}

// Connects and reads the adapter's settings, refusing what cannot be applied.
asio::awaitable<std::variant<std::vector<Setting>, AdapterResult>> look_up(pg::Connection& connection,
                                                                          const State& state,
                                                                          Clock::time_point deadline) {
  const auto opened = co_await pg::open(connection, state.target, deadline);
  if (!opened) co_return state.failure(opened, "connect");
  const auto sql = settings_sql(connection, state, "");
  if (!sql) co_return state.failure(AdapterError::bad_settings, "a setting name cannot be quoted");
  const auto answer = co_await connection.query(*sql, deadline);
  if (!answer) co_return state.failure(answer.outcome, "read pg_settings");
  if (answer.results.empty()) co_return state.failure(AdapterError::bad_response, "read pg_settings: no rows");
  auto parsed = parse_settings(state, answer.results.back());
  if (auto* settings = std::get_if<std::vector<Setting>>(&parsed))
    if (auto refused = refusal(state, *settings)) co_return std::move(*refused);
  co_return parsed;
}

// What to put back for one setting: its postgresql.auto.conf entry, or its absence.
struct Prior {
  std::string name;
  bool known = false;                   // pg_file_settings was readable
  std::optional<std::string> auto_conf; // the entry, when there is one
  std::string running;                  // the value in force, in the base unit (when not known)
};

asio::awaitable<std::vector<Prior>> read_priors(pg::Connection& connection, const std::vector<Setting>& settings,
                                                Clock::time_point deadline) {
  std::vector<Prior> priors;
  for (const auto& setting : settings) priors.push_back(Prior{setting.name, false, std::nullopt, setting.setting});
  std::string list;
  for (const auto& setting : settings) {
    const auto quoted = connection.literal(ascii::lower(setting.name));
    if (!quoted) co_return priors;
    list += (list.empty() ? "" : ", ") + *quoted;
  }
  const std::string sql = "SELECT lower(name) AS name, setting FROM pg_file_settings WHERE sourcefile LIKE "
                          "'%postgresql.auto.conf' AND lower(name) IN (" + list + ") ORDER BY seqno";
  const auto answer = co_await connection.query(sql, deadline);
  if (!answer || answer.results.empty()) co_return priors; // not readable: put back the running values
  const auto& result = answer.results.back();
  for (auto& prior : priors) {
    prior.known = true;
    for (std::size_t row = 0; row < result.rows(); ++row) // the last entry wins, as in the server
      if (result.text(row, 0) == ascii::lower(prior.name)) prior.auto_conf = std::string(result.text(row, 1));
  }
  co_return priors;
}

// Puts back the priors (a fresh connection when the one at hand was lost), then reloads when
// `reload`. Returns what could not be put back, or "" when everything was.
asio::awaitable<std::string> restore(pg::Connection& connection, const State& state, const std::vector<Prior>& priors,
                                     bool reload, Clock::time_point deadline) {
  if (!connection.connected()) {
    const auto opened = co_await pg::open(connection, state.target, deadline);
    if (!opened) co_return "could not connect to put them back: " + opened.message;
  }
  std::string stuck;
  for (const auto& prior : priors) {
    const auto identifier = connection.identifier(prior.name);
    const auto value = prior.known ? prior.auto_conf : std::optional<std::string>(prior.running);
    const auto literal = value ? connection.literal(*value) : std::optional<std::string>("");
    if (!identifier || !literal) {
      stuck += (stuck.empty() ? "" : "; ") + prior.name + " (cannot quote it)";
      continue;
    }
    const std::string sql = value ? "ALTER SYSTEM SET " + *identifier + " = " + *literal
                                  : "ALTER SYSTEM RESET " + *identifier;
    const auto answer = co_await connection.query(sql, deadline);
    if (!answer) stuck += (stuck.empty() ? "" : "; ") + prior.name + " (" + answer.outcome.message + ")";
  }
  if (reload) {
    const std::string sql = "SELECT pg_reload_conf()";
    const auto answer = co_await connection.query(sql, deadline);
    if (!answer) stuck += (stuck.empty() ? "" : "; ") + std::string("the reload (") + answer.outcome.message + ")";
  }
  co_return stuck;
}

// `failed` with what putting back the altered settings did ("; put back the previous value of
// work_mem"), reloading again when `reload`. The rollback gets a fresh timeout: the operation's
// own may be spent by the time it fails.
asio::awaitable<AdapterResult> rolled_back(pg::Connection& connection, const State& state,
                                           const std::vector<Prior>& altered, bool reload, const AdapterResult& failed) {
  AdapterResult result = failed;
  if (altered.empty()) {
    result.message += "; nothing was changed";
    co_return result;
  }
  const auto deadline = Clock::now() + state.options.timeout;
  const auto stuck = co_await restore(connection, state, altered, reload, deadline);
  std::string names;
  for (const auto& prior : altered) names += (names.empty() ? "" : ", ") + prior.name;
  co_return pg::after_rollback(std::move(result), stuck,
                               "the previous " + std::string(altered.size() == 1 ? "value of " : "values of ") + names);
}

// Signals the server to reload its configuration and waits until this session has read the files
// again (a backend does so between two statements); returns the settings as they read then.
asio::awaitable<std::variant<std::vector<Setting>, AdapterResult>> reload(asio::any_io_executor executor,
                                                                         pg::Connection& connection, const State& state,
                                                                         Clock::time_point deadline) {
  // pg_reload_conf() only signals the server: the load time tells when this session has reloaded.
  const std::string reload_sql = "SELECT pg_conf_load_time()::text; SELECT pg_reload_conf()";
  const auto reloaded = co_await connection.query(reload_sql, deadline);
  const bool signalled = reloaded && reloaded.results.size() == 2 && reloaded.results[0].rows() == 1 &&
                        reloaded.results[1].rows() == 1 && reloaded.results[1].text(0, 0) == "t";
  if (!signalled)
    co_return reloaded ? state.failure(AdapterError::server_error, "pg_reload_conf() could not signal the server")
                       : state.failure(reloaded.outcome, "pg_reload_conf()");
  const std::string loaded_before(reloaded.results[0].text(0, 0));
  const auto poll_sql = settings_sql(connection, state, "pg_conf_load_time()::text AS loaded, ");
  asio::steady_timer pause(executor);
  for (;;) {
    const auto answer = co_await connection.query(*poll_sql, deadline);
    if (!answer || answer.results.empty())
      co_return answer ? state.failure(AdapterError::bad_response, "read pg_settings: no result")
                       : state.failure(answer.outcome, "read pg_settings after the reload");
    const auto& result = answer.results.back();
    if (result.rows() > 0 && result.text(0, 0) != loaded_before) co_return parse_settings(state, result);
    if (Clock::now() + reload_poll >= deadline)
      co_return state.failure(make_error_code(boost::system::errc::timed_out),
                              "the server did not reload its configuration within the timeout (" +
                                  std::to_string(state.options.timeout.count()) + " ms)");
    pause.expires_after(reload_poll);
    (void)co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

// Why a setting does not read back after the reload as it was asked, or nothing.
[[nodiscard]] std::optional<AdapterResult> mismatch(const State& state, const std::vector<Setting>& after,
                                                    const std::vector<Value>& values) {
  for (std::size_t i = 0; i < after.size(); ++i) {
    if (reads_as(after[i], values[i], state.units[i])) continue;
    std::string what = state.describe(i) + " reads back as " + after[i].setting + after[i].unit +
                       " after the reload, not " + pg::value_text(values[i], state.units[i]);
    if (after[i].source != "configuration file")
      what += " (its value comes from the " + after[i].source + ", which outranks postgresql.auto.conf)";
    return state.failure(AdapterError::bad_response, what);
  }
  return std::nullopt;
}

asio::awaitable<AdapterResult> apply(asio::any_io_executor executor, std::shared_ptr<const State> state,
                                     Settings settings, Clock::time_point deadline) {
  if (auto checked = check_settings(state->name, state->params, settings); !checked) co_return checked;
  const auto lane = state->lane;
  const auto turn = co_await lane->enter();
  std::vector<Value> values;
  for (const auto& param : state->params)
    for (const auto& [name, value] : settings)
      if (name == param) values.push_back(value);

  pg::Connection connection(executor);
  auto looked_up = co_await look_up(connection, *state, deadline);
  if (auto* failed = std::get_if<AdapterResult>(&looked_up)) co_return std::move(*failed);
  const auto current = std::get<std::vector<Setting>>(std::move(looked_up));
  const auto priors = co_await read_priors(connection, current, deadline);

  // One statement each: ALTER SYSTEM cannot run inside a transaction block.
  std::vector<Prior> altered;
  for (std::size_t i = 0; i < current.size(); ++i) {
    const auto text = pg::value_text(values[i], state->units[i]);
    const auto identifier = connection.identifier(current[i].name);
    const auto literal = connection.literal(text);
    if (!identifier || !literal) {
      const auto failed = state->failure(AdapterError::bad_settings, "the value of " + state->describe(i) + " cannot be quoted");
      co_return co_await rolled_back(connection, *state, altered, false, failed);
    }
    const std::string sql = "ALTER SYSTEM SET " + *identifier + " = " + *literal;
    const auto answer = co_await connection.query(sql, deadline);
    // A statement the server refused changed nothing; one cut short may still have run.
    if (answer || answer.outcome.error != AdapterError::server_error) altered.push_back(priors[i]);
    if (!answer) {
      const auto failed = state->failure(answer.outcome, "ALTER SYSTEM SET " + current[i].name + " = '" + text + "'");
      co_return co_await rolled_back(connection, *state, altered, false, failed);
    }
  }

  auto reloaded = co_await reload(executor, connection, *state, deadline);
  std::optional<AdapterResult> failed;
  if (auto* problem = std::get_if<AdapterResult>(&reloaded))
    failed = std::move(*problem);
  else
    failed = mismatch(*state, std::get<std::vector<Setting>>(reloaded), values);
  if (failed) co_return co_await rolled_back(connection, *state, altered, true, *failed);
  co_return AdapterResult{};
}

using Outcome = adapter_detail::CurrentOutcome;

asio::awaitable<Outcome> read_current(asio::any_io_executor executor, std::shared_ptr<const State> state,
                                      Clock::time_point deadline) {
  const auto lane = state->lane;
  const auto turn = co_await lane->enter();
  pg::Connection connection(executor);
  auto looked_up = co_await look_up(connection, *state, deadline);
  if (auto* failed = std::get_if<AdapterResult>(&looked_up)) co_return Outcome{std::move(*failed), {}};
  const auto& current = std::get<std::vector<Setting>>(looked_up);
  Settings values;
  for (std::size_t i = 0; i < current.size(); ++i) {
    auto value = read_value(current[i], state->units[i]);
    if (!value)
      co_return Outcome{state->failure(AdapterError::bad_response, state->describe(i) + " has a value trimtab cannot read: '" +
                                                                      current[i].setting + "'"),
                        {}};
    values.emplace_back(state->params[i], std::move(*value));
  }
  co_return Outcome{AdapterResult{}, std::move(values)};
}

} // namespace

PostgresAdapter::PostgresAdapter(asio::any_io_executor executor, std::string name, std::vector<std::string> params,
                                 PostgresAdapterOptions options)
    : AdapterBase(std::move(executor), name, params, options.timeout, "a postgres adapter") {
  const auto fail = [&](const std::string& what) { adapter_detail::throw_invalid(name, what); };
  if (params.empty()) fail("no params");
  if (options.timeout.count() <= 0) fail("the timeout must be positive");
  try {
    pg::check_param_keys(options.names, "names", params);
    pg::check_param_keys(options.units, "units", params);
  } catch (const std::invalid_argument& e) {
    fail(e.what());
  }
  State state{{{name, params}, options.timeout, {}, {}}, options, {}};
  for (const auto& param : params) {
    const auto setting = options.names.find(param);
    if (setting != options.names.end() && setting->second.empty()) fail("option 'names." + param + "' is empty");
    state.settings.push_back(setting == options.names.end() ? param : setting->second);
    const auto unit = options.units.find(param);
    if (unit != options.units.end() && !pg::is_unit(unit->second))
      fail("option 'units." + param + "': '" + unit->second +
           "' is not a PostgreSQL unit (B, kB, MB, GB, TB, us, ms, s, min, h or d, in that case)");
    state.units.push_back(unit == options.units.end() ? "" : unit->second);
  }
  try {
    auto password = pg::read_password(options.password_env, options.password_file);
    state.target = pg::make_target(options.dsn, std::move(password), "");
  } catch (const std::exception& e) { // a bad dsn, an unreadable password, no libpq
    fail(e.what());
  }
  state_ = std::make_shared<const State>(std::move(state));
}

PostgresAdapterOptions PostgresAdapter::from_options(const std::string& name, const std::map<std::string, std::string>& options) {
  return pg::to_adapter_options<PostgresAdapterOptions>(pg::parse_options(name, "postgres", options, true));
}

const PostgresAdapterOptions& PostgresAdapter::options() const noexcept { return state_->options; }

void PostgresAdapter::async_apply(Settings settings, apply_handler handler) {
  const auto deadline = pg::deadline_after(state_->options.timeout);
  adapter_detail::spawn_apply(get_executor(), apply(get_executor(), state_, std::move(settings), deadline),
                              std::move(handler));
}

void PostgresAdapter::async_current(current_handler handler) {
  const auto deadline = pg::deadline_after(state_->options.timeout);
  adapter_detail::spawn_current(get_executor(), read_current(get_executor(), state_, deadline), std::move(handler));
}

} // namespace trimtab
