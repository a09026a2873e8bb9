#include <trimtab/adapters/pgbouncer_adapter.hpp>

#include <algorithm>
#include <cmath>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <variant>

#include <boost/asio/co_spawn.hpp>

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

// The admin console's own quoting: a string in single quotes, each quote doubled (it knows no E'').
[[nodiscard]] std::string quoted(const std::string& text) {
  std::string out = "'";
  for (const char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

[[nodiscard]] Value value_of(const std::string& text) {
  if (auto integer = pg::to_int(text)) return *integer;
  if (auto real = pg::to_double(text)) return *real;
  return text;
}

// Whether `shown` (SHOW CONFIG's text) is what was asked: numbers as numbers, words without
// regard to case; a number against a word ("1" for "yes") is PgBouncer's call, taken as it is.
[[nodiscard]] bool reads_as(const std::string& shown, const std::string& asked) {
  const auto a = pg::to_double(shown);
  const auto b = pg::to_double(asked);
  if (a && b) return std::abs(*a - *b) <= 1e-9 * std::max(std::abs(*a), std::abs(*b)) + 1e-12;
  if (a || b) return true;
  return ascii::lower(shown) == ascii::lower(asked);
}

// One row of SHOW CONFIG.
struct Entry {
  std::string value;
  bool changeable = false;
};

} // namespace

// Its settings are PgBouncer's, in lower case.
struct detail::PgBouncerAdapterState : pg::AdapterState {
  PgBouncerAdapterOptions options;
  bool owns_pool_setting = false; // one of them sizes the pools: in effect is checked on them
};

namespace {

using State = detail::PgBouncerAdapterState;
using Config = std::map<std::string, Entry>;

asio::awaitable<std::variant<Config, AdapterResult>> show_config(pg::Connection& connection, const State& state,
                                                                  Clock::time_point deadline) {
  const std::string sql = "SHOW CONFIG";
  const auto answer = co_await connection.query(sql, deadline);
  if (!answer) co_return state.failure(answer.outcome, "SHOW CONFIG");
  if (answer.results.empty()) co_return state.failure(AdapterError::bad_response, "SHOW CONFIG: no result");
  const auto& result = answer.results.back();
  const auto key = result.column("key"), value = result.column("value"), changeable = result.column("changeable");
  if (!key || !value || !changeable)
    co_return state.failure(AdapterError::bad_response, "SHOW CONFIG: no key, value and changeable columns");
  Config config;
  for (std::size_t row = 0; row < result.rows(); ++row)
    config[ascii::lower(std::string(result.text(row, *key)))] =
        Entry{std::string(result.text(row, *value)), ascii::lower(std::string(result.text(row, *changeable))) == "yes"};
  co_return config;
}

// Connects, reads SHOW CONFIG and returns each setting's current value in params() order,
// refusing a setting PgBouncer lacks or cannot change while it runs.
asio::awaitable<std::variant<std::vector<std::string>, AdapterResult>> look_up(pg::Connection& connection,
                                                                              const State& state,
                                                                              Clock::time_point deadline) {
  const auto opened = co_await pg::open(connection, state.target, deadline);
  if (!opened) co_return state.failure(opened, "connect");
  auto shown = co_await show_config(connection, state, deadline);
  if (auto* failed = std::get_if<AdapterResult>(&shown)) co_return std::move(*failed);
  const auto& config = std::get<Config>(shown);
  std::vector<std::string> values;
  for (std::size_t i = 0; i < state.settings.size(); ++i) {
    const auto entry = config.find(state.settings[i]);
    if (entry == config.end())
      co_return state.failure(AdapterError::refused, "PgBouncer has no setting '" + state.describe(i) + "'");
    if (!entry->second.changeable)
      co_return state.failure(AdapterError::refused,
                              state.describe(i) +
                                  " cannot be changed while PgBouncer runs (SHOW CONFIG says changeable: no); "
                                  "trimtab only changes settings SET applies");
    values.push_back(entry->second.value);
  }
  co_return values;
}

// SETs each of `names` back to its value in `previous`; returns what could not be, or "".
asio::awaitable<std::string> restore(pg::Connection& connection, const State& state,
                                     const std::vector<std::size_t>& changed, const std::vector<std::string>& previous,
                                     Clock::time_point deadline) {
  if (!connection.connected()) {
    const auto opened = co_await pg::open(connection, state.target, deadline);
    if (!opened) co_return "could not connect to put them back: " + opened.message;
  }
  std::string stuck;
  for (const auto i : changed) {
    const std::string sql = "SET " + state.settings[i] + " = " + quoted(previous[i]);
    const auto answer = co_await connection.query(sql, deadline);
    if (!answer) stuck += (stuck.empty() ? "" : "; ") + state.settings[i] + " (" + answer.outcome.message + ")";
  }
  co_return stuck;
}

// `failed` with what SETting back the changed settings did. The rollback gets a fresh timeout.
asio::awaitable<AdapterResult> rolled_back(pg::Connection& connection, const State& state,
                                           const std::vector<std::size_t>& changed,
                                           const std::vector<std::string>& previous, const AdapterResult& failed) {
  AdapterResult result = failed;
  if (changed.empty()) {
    result.message += "; nothing was changed";
    co_return result;
  }
  const auto deadline = Clock::now() + state.options.timeout;
  const auto stuck = co_await restore(connection, state, changed, previous, deadline);
  std::string names;
  for (const auto i : changed) names += (names.empty() ? "" : ", ") + state.settings[i] + " = " + previous[i];
  co_return pg::after_rollback(std::move(result), stuck, names);
}

// A database or pool with more server connections than its configuration allows.
struct Excess {
  std::string database;
  std::string detail;
};

// The settings that size PgBouncer's pools: after a change to one, the pools are compared with it.
[[nodiscard]] bool sizes_pools(const std::string& setting) {
  return setting == "default_pool_size" || setting == "reserve_pool_size" || setting == "max_db_connections";
}

// A column of the console's answer as a number (0 when absent or not a number).
[[nodiscard]] std::int64_t count_at(const pg::Result& result, std::size_t row, const char* name) {
  const auto column = result.column(name);
  if (!column) return 0;
  return pg::to_int(result.text(row, *column)).value_or(0);
}

// What SHOW DATABASES and SHOW POOLS show over their sizes: each pool's server connections against
// its database's pool_size + reserve_pool, each database's against its max_connections (0: none).
asio::awaitable<std::variant<std::vector<Excess>, AdapterResult>> pools_over_size(pg::Connection& connection,
                                                                                   const State& state,
                                                                                   Clock::time_point deadline) {
  // One command a query: the console takes no lists of statements.
  const std::string show_databases = "SHOW DATABASES", show_pools = "SHOW POOLS";
  const auto databases_answer = co_await connection.query(show_databases, deadline);
  if (!databases_answer) co_return state.failure(databases_answer.outcome, show_databases);
  const auto pools_answer = co_await connection.query(show_pools, deadline);
  if (!pools_answer) co_return state.failure(pools_answer.outcome, show_pools);
  if (databases_answer.results.empty() || !databases_answer.results.back().column("name") ||
      !databases_answer.results.back().column("pool_size"))
    co_return state.failure(AdapterError::bad_response, "SHOW DATABASES: no name and pool_size columns");
  if (pools_answer.results.empty() || !pools_answer.results.back().column("database"))
    co_return state.failure(AdapterError::bad_response, "SHOW POOLS: no database column");
  const auto& databases = databases_answer.results.back();
  const auto& pools = pools_answer.results.back();
  struct Size {
    std::int64_t pool = 0, reserve = 0;
  };
  std::map<std::string, Size, std::less<>> sizes;
  std::vector<Excess> excess;
  const auto name = *databases.column("name");
  for (std::size_t row = 0; row < databases.rows(); ++row) {
    const std::string database(databases.text(row, name));
    if (database == "pgbouncer") continue; // the console's own, not a pool of the service
    sizes[database] = {count_at(databases, row, "pool_size"), count_at(databases, row, "reserve_pool")};
    const auto connections = count_at(databases, row, "current_connections");
    const auto most = count_at(databases, row, "max_connections");
    if (most > 0 && connections > most)
      excess.push_back({database, "database " + database + ": " + std::to_string(connections) +
                                      " server connections, over max_db_connections " + std::to_string(most)});
  }
  const auto database_column = *pools.column("database");
  const auto user_column = pools.column("user");
  for (std::size_t row = 0; row < pools.rows(); ++row) {
    const std::string database(pools.text(row, database_column));
    const auto size = sizes.find(database);
    if (size == sizes.end()) continue;
    std::int64_t servers = 0;
    for (const char* state_column : {"sv_active", "sv_active_cancel", "sv_being_canceled", "sv_idle", "sv_used",
                                     "sv_tested", "sv_login"})
      servers += count_at(pools, row, state_column);
    const auto allowed = size->second.pool + size->second.reserve;
    if (servers <= allowed) continue;
    const std::string user = user_column ? "/" + std::string(pools.text(row, *user_column)) : std::string();
    excess.push_back({database, "pool " + database + user + ": " + std::to_string(servers) +
                                    " server connections, over pool_size " + std::to_string(size->second.pool) +
                                    " + reserve_pool " + std::to_string(size->second.reserve)});
  }
  co_return excess;
}

// The admin console's quoting of a name: in double quotes, each double quote doubled.
[[nodiscard]] std::string quoted_name(const std::string& name) {
  std::string out = "\"";
  for (const char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// RECONNECTs each database with a pool over its size: its server connections close as they are
// released, and the pool refills within its new size. Returns the failure, or nothing.
asio::awaitable<std::optional<AdapterResult>> recycle_pools(pg::Connection& connection, const State& state,
                                                            Clock::time_point deadline) {
  auto found = co_await pools_over_size(connection, state, deadline);
  if (auto* failed = std::get_if<AdapterResult>(&found)) co_return std::move(*failed);
  std::vector<std::string> recycled;
  for (const auto& excess : std::get<std::vector<Excess>>(found)) {
    if (std::find(recycled.begin(), recycled.end(), excess.database) != recycled.end()) continue;
    recycled.push_back(excess.database);
    const std::string sql = "RECONNECT " + quoted_name(excess.database);
    const auto answer = co_await connection.query(sql, deadline);
    if (!answer)
      co_return state.failure(answer.outcome, sql + " (to close the server connections over the new size; "
                                                    "PgBouncer 1.15 and later have RECONNECT, or set recycle: wait)");
  }
  co_return std::nullopt;
}

asio::awaitable<AdapterResult> apply(asio::any_io_executor executor, std::shared_ptr<const State> state,
                                     Settings settings, Clock::time_point deadline) {
  if (auto checked = check_settings(state->name, state->params, settings); !checked) co_return checked;
  const auto lane = state->lane;
  const auto turn = co_await lane->enter();
  std::vector<std::string> wanted;
  for (const auto& param : state->params)
    for (const auto& [name, value] : settings)
      if (name == param) wanted.push_back(pg::value_text(value));

  pg::Connection connection(executor);
  auto looked_up = co_await look_up(connection, *state, deadline);
  if (auto* failed = std::get_if<AdapterResult>(&looked_up)) co_return std::move(*failed);
  const auto previous = std::get<std::vector<std::string>>(std::move(looked_up));

  std::vector<std::size_t> changed;
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    const std::string sql = "SET " + state->settings[i] + " = " + quoted(wanted[i]);
    const auto answer = co_await connection.query(sql, deadline);
    // A SET PgBouncer refused changed nothing; one cut short may still have run.
    if (answer || answer.outcome.error != AdapterError::server_error) changed.push_back(i);
    if (!answer) {
      const auto failed = state->failure(answer.outcome, "SET " + state->settings[i] + " = " + quoted(wanted[i]));
      co_return co_await rolled_back(connection, *state, changed, previous, failed);
    }
  }

  auto shown = co_await show_config(connection, *state, deadline);
  if (auto* failed = std::get_if<AdapterResult>(&shown)) {
    const auto copy = *failed;
    co_return co_await rolled_back(connection, *state, changed, previous, copy);
  }
  const auto& config = std::get<Config>(shown);
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    const auto entry = config.find(state->settings[i]);
    if (entry != config.end() && reads_as(entry->second.value, wanted[i])) continue;
    const auto failed = state->failure(AdapterError::bad_response,
                                       state->describe(i) + " reads back as " +
                                           (entry == config.end() ? std::string("nothing") : "'" + entry->second.value + "'") +
                                           ", not '" + wanted[i] + "'");
    co_return co_await rolled_back(connection, *state, changed, previous, failed);
  }
  if (state->owns_pool_setting && state->options.recycle == PoolRecycle::reconnect)
    if (auto failed = co_await recycle_pools(connection, *state, deadline)) {
      const auto copy = *failed;
      co_return co_await rolled_back(connection, *state, changed, previous, copy);
    }
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
  const auto& texts = std::get<std::vector<std::string>>(looked_up);
  Settings values;
  for (std::size_t i = 0; i < texts.size(); ++i) values.emplace_back(state->params[i], value_of(texts[i]));
  co_return Outcome{AdapterResult{}, std::move(values)};
}

asio::awaitable<adapter_detail::InEffectOutcome> check_in_effect(asio::any_io_executor executor,
                                                                 std::shared_ptr<const State> state,
                                                                 Clock::time_point deadline) {
  if (!state->owns_pool_setting) co_return adapter_detail::InEffectOutcome{};
  const auto lane = state->lane;
  const auto turn = co_await lane->enter();
  pg::Connection connection(executor);
  const auto opened = co_await pg::open(connection, state->target, deadline);
  if (!opened) co_return adapter_detail::InEffectOutcome{state->failure(opened, "connect"), {}};
  auto found = co_await pools_over_size(connection, *state, deadline);
  if (auto* failed = std::get_if<AdapterResult>(&found)) co_return adapter_detail::InEffectOutcome{std::move(*failed), {}};
  InEffect in_effect;
  for (const auto& excess : std::get<std::vector<Excess>>(found)) {
    in_effect.in_effect = false;
    in_effect.detail += (in_effect.detail.empty() ? "" : "; ") + excess.detail;
  }
  co_return adapter_detail::InEffectOutcome{AdapterResult{}, std::move(in_effect)};
}

} // namespace

PgBouncerAdapter::PgBouncerAdapter(asio::any_io_executor executor, std::string name, std::vector<std::string> params,
                                   PgBouncerAdapterOptions options)
    : AdapterBase(std::move(executor), name, params, options.timeout, "a pgbouncer adapter") {
  const auto fail = [&](const std::string& what) { adapter_detail::throw_invalid(name, what); };
  if (params.empty()) fail("no params");
  if (options.timeout.count() <= 0) fail("the timeout must be positive");
  try {
    pg::check_param_keys(options.names, "names", params);
  } catch (const std::invalid_argument& e) {
    fail(e.what());
  }
  State state{{{name, params}, options.timeout, {}, {}}, options, false};
  for (const auto& param : params) {
    const auto named = options.names.find(param);
    auto setting = ascii::lower(named == options.names.end() ? param : named->second);
    const bool word = !setting.empty() &&
                      std::all_of(setting.begin(), setting.end(), [](char c) { return ascii::is_alnum(c) || c == '_'; });
    if (!word)
      fail((named == options.names.end() ? "param '" + param + "'" : "option 'names." + param + "'") + ": '" + setting +
           "' is not a PgBouncer setting name (letters, digits and _)");
    state.owns_pool_setting = state.owns_pool_setting || sizes_pools(setting);
    state.settings.push_back(std::move(setting));
  }
  try {
    auto password = pg::read_password(options.password_env, options.password_file);
    state.target = pg::make_target(options.dsn, std::move(password), "pgbouncer");
  } catch (const std::exception& e) { // a bad dsn, an unreadable password, no libpq
    fail(e.what());
  }
  if (!state.target.dsn_dbname.empty() && state.target.dsn_dbname != "pgbouncer")
    fail("option 'dsn' names the database '" + state.target.dsn_dbname +
         "'; PgBouncer's admin console is the database pgbouncer");
  state_ = std::make_shared<const State>(std::move(state));
}

PgBouncerAdapterOptions PgBouncerAdapter::from_options(const std::string& name, const std::map<std::string, std::string>& options) {
  auto common = pg::parse_options(name, "pgbouncer", options, false, {"recycle"});
  auto own = std::move(common.own);
  auto result = pg::to_adapter_options<PgBouncerAdapterOptions>(std::move(common));
  if (const auto recycle = own.find("recycle"); recycle != own.end()) {
    if (recycle->second == "reconnect") result.recycle = PoolRecycle::reconnect;
    else if (recycle->second == "wait") result.recycle = PoolRecycle::wait;
    else
      adapter_detail::throw_invalid(name, "option 'recycle': '" + recycle->second +
                                              "' is neither reconnect (RECONNECT a pool over its new size) nor wait "
                                              "(let its connections age out)");
  }
  return result;
}

const PgBouncerAdapterOptions& PgBouncerAdapter::options() const noexcept { return state_->options; }

void PgBouncerAdapter::async_apply(Settings settings, apply_handler handler) {
  const auto deadline = pg::deadline_after(state_->options.timeout);
  adapter_detail::spawn_apply(get_executor(), apply(get_executor(), state_, std::move(settings), deadline),
                              std::move(handler));
}

void PgBouncerAdapter::async_current(current_handler handler) {
  const auto deadline = pg::deadline_after(state_->options.timeout);
  adapter_detail::spawn_current(get_executor(), read_current(get_executor(), state_, deadline), std::move(handler));
}

void PgBouncerAdapter::async_in_effect(Settings, in_effect_handler handler) {
  const auto deadline = pg::deadline_after(state_->options.timeout);
  adapter_detail::spawn_in_effect(get_executor(), check_in_effect(get_executor(), state_, deadline),
                                  std::move(handler));
}

} // namespace trimtab
