#include <trimtab/adapters/service_metrics.hpp>

#include <array>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string_view>

#include <trimtab/adapters/adapter_error.hpp>
#include <trimtab/core/did_you_mean.hpp>

#include "metrics_text.hpp"
#include "pg_common.hpp"
#include "pg_connection.hpp"
#include "service_metrics_redis.hpp"
#include "ignore_gcc_coroutine_false_positive.hpp"

namespace trimtab {
namespace {

namespace asio = boost::asio;
using metrics_text::Labels;
using metrics_text::Writer;

// A column of a statistics view or SHOW command and the series it becomes.
struct Column {
  std::string_view column;
  std::string_view series;
  std::string_view type;
  std::string_view help;
  double scale = 1.0;
};

// SHOW STATS, per database: totals since PgBouncer started (times in microseconds).
constexpr std::array<Column, 7> pgbouncer_stats{{
    {"total_xact_count", "pgbouncer_stats_sql_transactions_pooled_total", "counter", "Transactions pooled.", 1.0},
    {"total_query_count", "pgbouncer_stats_queries_pooled_total", "counter", "Queries pooled.", 1.0},
    {"total_received", "pgbouncer_stats_received_bytes_total", "counter", "Bytes received from clients.", 1.0},
    {"total_sent", "pgbouncer_stats_sent_bytes_total", "counter", "Bytes sent to clients.", 1.0},
    {"total_xact_time", "pgbouncer_stats_server_in_transaction_duration_seconds_total", "counter",
     "Time spent in transactions, outside idle.", 1e-6},
    {"total_query_time", "pgbouncer_stats_queries_duration_seconds_total", "counter", "Time spent running queries.", 1e-6},
    {"total_wait_time", "pgbouncer_stats_client_wait_seconds_total", "counter",
     "Time clients spent waiting for a server connection.", 1e-6},
}};

// SHOW POOLS, per database and user: the state now.
constexpr std::array<Column, 7> pgbouncer_pools{{
    {"cl_active", "pgbouncer_pools_client_active_connections", "gauge", "Clients linked to a server or idle.", 1.0},
    {"cl_waiting", "pgbouncer_pools_client_waiting_connections", "gauge", "Clients waiting for a server connection.", 1.0},
    {"sv_active", "pgbouncer_pools_server_active_connections", "gauge", "Server connections linked to a client.", 1.0},
    {"sv_idle", "pgbouncer_pools_server_idle_connections", "gauge", "Server connections idle and ready.", 1.0},
    {"sv_used", "pgbouncer_pools_server_used_connections", "gauge", "Server connections idle, to be checked.", 1.0},
    {"sv_tested", "pgbouncer_pools_server_testing_connections", "gauge", "Server connections being tested.", 1.0},
    {"sv_login", "pgbouncer_pools_server_login_connections", "gauge", "Server connections logging in.", 1.0},
}};

// pg_stat_database, per database: counters since the statistics were reset, numbackends now.
constexpr std::array<std::string_view, 16> database_columns{
    "numbackends", "xact_commit", "xact_rollback", "blks_read",  "blks_hit",   "tup_returned",  "tup_fetched",
    "tup_inserted", "tup_updated", "tup_deleted",  "conflicts",  "temp_files", "temp_bytes",    "deadlocks",
    "blk_read_time", "blk_write_time"};

// Writes the columns of `result` a table names, one sample per row, labelled by `label_columns`.
template <std::size_t N>
void write_rows(Writer& out, const pg::Result& result, const std::array<Column, N>& columns,
                std::initializer_list<const char*> label_columns) {
  std::vector<std::pair<std::string, std::size_t>> labels;
  for (const char* name : label_columns)
    if (const auto at = result.column(name)) labels.emplace_back(name, *at);
  for (std::size_t row = 0; row < result.rows(); ++row) {
    Labels row_labels;
    for (const auto& [name, at] : labels) row_labels.emplace_back(name, std::string(result.text(row, at)));
    for (const auto& column : columns) {
      const auto at = result.column(std::string(column.column).c_str());
      if (!at || result.is_null(row, *at)) continue; // a column this version does not have
      if (const auto value = metrics_text::number(result.text(row, *at)))
        out.add(column.series, column.type, column.help, row_labels, *value * column.scale);
    }
  }
}

class PgStatistics : public ServiceMetrics {
public:
  PgStatistics(MetricsFormat kind, const std::string& name, const std::map<std::string, std::string>& options,
               std::chrono::milliseconds timeout)
      : kind_(kind), who_("metrics source '" + name + "'"), timeout_(timeout) {
    const auto fail = [&](const std::string& what) { throw std::invalid_argument(who_ + ": " + what); };
    static constexpr std::array<std::string_view, 3> keys{"dsn", "password_env", "password_file"};
    std::string dsn, password_env, password_file;
    for (const auto& [key, value] : options) {
      if (key == "dsn") dsn = value;
      else if (key == "password_env") password_env = value;
      else if (key == "password_file") password_file = value;
      else fail("unknown option '" + key + "'" + did_you_mean(key, keys) + " (format " + kind_name() + " takes dsn, password_env and password_file)");
    }
    if (timeout.count() <= 0) fail("the timeout must be positive");
    try {
      target_ = pg::make_target(dsn, pg::read_password(password_env, password_file),
                                kind == MetricsFormat::pgbouncer ? "pgbouncer" : "");
    } catch (const std::exception& e) { // a bad dsn, an unreadable password, no libpq
      fail(e.what());
    }
    if (kind == MetricsFormat::pgbouncer && !target_.dsn_dbname.empty() && target_.dsn_dbname != "pgbouncer")
      fail("option 'dsn' names the database '" + target_.dsn_dbname + "'; PgBouncer's admin console is the database pgbouncer");
  }

  asio::awaitable<ServiceMetricsReading> read(asio::any_io_executor executor) const override {
    const auto deadline = pg::deadline_after(timeout_);
    pg::Connection connection(executor);
    connection.set_secrets(target_.secrets);
    const auto opened = co_await pg::open(connection, target_, deadline);
    if (!opened) co_return failed(opened, "connect");
    Writer out;
    if (kind_ == MetricsFormat::pgbouncer) {
      static constexpr std::array<const char*, 2> shows{"SHOW STATS", "SHOW POOLS"};
      for (const char* show : shows) {
        const std::string sql = show;
        const auto answer = co_await connection.query(sql, deadline);
        if (!answer) co_return failed(answer.outcome, sql);
        if (answer.results.empty()) co_return failed({make_error_code(AdapterError::bad_response), "no result"}, sql);
        if (sql == "SHOW STATS") write_rows(out, answer.results.back(), pgbouncer_stats, {"database"});
        else write_pools(out, answer.results.back());
      }
    } else {
      std::string sql = "SELECT datname";
      for (const auto column : database_columns) sql += ", " + std::string(column);
      sql += " FROM pg_stat_database WHERE datname IS NOT NULL; "
             "SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'";
      const auto answer = co_await connection.query(sql, deadline);
      if (!answer) co_return failed(answer.outcome, "reading pg_stat_database");
      if (answer.results.size() != 2)
        co_return failed({make_error_code(AdapterError::bad_response), "expected two results"}, "reading pg_stat_database");
      write_databases(out, answer.results[0]);
      if (answer.results[1].rows() == 1 && answer.results[1].text(0, 0) != "0") {
        const std::string statements =
            "SELECT d.datname, sum(s.calls), sum(s.total_exec_time) / 1000, sum(s.rows) FROM pg_stat_statements s "
            "JOIN pg_database d ON d.oid = s.dbid GROUP BY d.datname";
        const auto read = co_await connection.query(statements, deadline);
        if (read && !read.results.empty()) write_statements(out, read.results.back());
        // Installed but not loaded (shared_preload_libraries), say: the rest is still worth having.
        else if (read.outcome.error == AdapterError::server_error) out.note("pg_stat_statements: " + read.outcome.message);
        else co_return failed(read.outcome, "reading pg_stat_statements");
      }
    }
    co_return ServiceMetricsReading{{}, {}, out.text()};
  }

private:
  [[nodiscard]] std::string kind_name() const { return metrics_format_name(kind_); }

  [[nodiscard]] ServiceMetricsReading failed(const pg::Outcome& outcome, const std::string& doing) const {
    std::string message = who_ + ": " + doing + ": " + outcome.message;
    if (outcome.error == boost::system::errc::timed_out) message += " (timeout " + std::to_string(timeout_.count()) + " ms)";
    return {outcome.error, std::move(message), {}};
  }

  static void write_pools(Writer& out, const pg::Result& result) {
    write_rows(out, result, pgbouncer_pools, {"database", "user"});
    // The longest a client now waiting has waited: maxwait seconds plus maxwait_us.
    const auto database = result.column("database"), user = result.column("user");
    const auto seconds = result.column("maxwait"), micros = result.column("maxwait_us");
    if (!database || !user || !seconds) return;
    for (std::size_t row = 0; row < result.rows(); ++row) {
      const auto whole = metrics_text::number(result.text(row, *seconds));
      if (!whole) continue;
      const auto fraction = micros ? metrics_text::number(result.text(row, *micros)) : std::nullopt;
      out.add("pgbouncer_pools_client_maxwait_seconds", "gauge", "The longest a waiting client has waited.",
              {{"database", std::string(result.text(row, *database))}, {"user", std::string(result.text(row, *user))}},
              *whole + fraction.value_or(0.0) * 1e-6);
    }
  }

  static void write_databases(Writer& out, const pg::Result& result) {
    for (std::size_t row = 0; row < result.rows(); ++row) {
      const Labels labels{{"datname", std::string(result.text(row, 0))}};
      for (std::size_t i = 0; i < database_columns.size(); ++i) {
        const auto value = metrics_text::number(result.text(row, i + 1));
        if (!value) continue; // NULL
        const std::string series = "pg_stat_database_" + std::string(database_columns[i]);
        const bool gauge = database_columns[i] == "numbackends";
        out.add(series, gauge ? "gauge" : "counter",
                gauge ? "Backends connected to the database now." : "pg_stat_database's column of that name.", labels, *value);
      }
    }
  }

  static void write_statements(Writer& out, const pg::Result& result) {
    constexpr std::array<std::pair<std::string_view, std::string_view>, 3> series{{
        {"pg_stat_statements_calls_total", "Statements run (pg_stat_statements)."},
        {"pg_stat_statements_seconds_total", "Time spent running statements (pg_stat_statements)."},
        {"pg_stat_statements_rows_total", "Rows statements returned or changed (pg_stat_statements)."},
    }};
    for (std::size_t row = 0; row < result.rows(); ++row) {
      const Labels labels{{"datname", std::string(result.text(row, 0))}};
      for (std::size_t i = 0; i < series.size(); ++i)
        if (const auto value = metrics_text::number(result.text(row, i + 1)))
          out.add(series[i].first, "counter", series[i].second, labels, *value);
    }
  }

  MetricsFormat kind_; // pgbouncer or postgres
  std::string who_;
  std::chrono::milliseconds timeout_;
  pg::Target target_;
};

} // namespace

std::unique_ptr<ServiceMetrics> make_service_metrics(MetricsFormat format, const std::string& name,
                                                     const std::map<std::string, std::string>& options,
                                                     std::chrono::milliseconds timeout) {
  if (!is_built_in(format))
    throw std::invalid_argument("metrics source '" + name + "': format " + metrics_format_name(format) +
                                " is not read by trimtab itself");
  if (format == MetricsFormat::redis) return make_redis_metrics(name, options, timeout);
  return std::make_unique<PgStatistics>(format, name, options, timeout);
}

} // namespace trimtab
