#pragma once

// Built-in metrics sources: PgBouncer, Redis and PostgreSQL read over their own protocols (the
// admin console, INFO, the statistics views), so no exporter is needed. Each reading is written as
// Prometheus text, whose series signals read as they read any exporter's.

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <trimtab/core/metrics_format.hpp>

namespace trimtab {

/// What one reading gave: the series as Prometheus text 0.0.4, or what failed.
struct ServiceMetricsReading {
  /// Empty on success; else a system error, errc::timed_out or an AdapterError.
  boost::system::error_code error{};
  /// Empty on success; else what failed, naming the source and never a password or a dsn:
  /// "metrics source 'pool': connect: connection to server at \"127.0.0.1\", port 6432 failed: …".
  std::string message{};
  /// The series, on success.
  std::string text{};

  explicit operator bool() const noexcept { return !error; }
};

/// One built-in source. Nothing is connected until read(); each read opens its own connection,
/// completes within the source's timeout on the executor it is given (single-threaded), and closes
/// it. read() never throws (but std::bad_alloc).
class ServiceMetrics {
public:
  virtual ~ServiceMetrics() = default;
  [[nodiscard]] virtual boost::asio::awaitable<ServiceMetricsReading> read(boost::asio::any_io_executor executor) const = 0;
};

/// A source of a built-in `format` (pgbouncer, redis or postgres: is_built_in) named `name`, from
/// its connection keys as written: `dsn`, `password_env`, `password_file` (pgbouncer, postgres;
/// the dsn as for the adapters of those kinds, the console's database always pgbouncer) or
/// `address`, `username`, `password_env`, `password_file` (redis). The password is read now.
/// Throws std::invalid_argument as "metrics source 'NAME': …" for a format that is not built in,
/// an unknown key, a dsn libpq cannot parse (never quoted), a bad address, a password that cannot
/// be read, or a timeout that is not positive. Connects to nothing: `trimtab validate` builds them.
///
/// Series (every counter ends in _total; see docs/configuration.md for the full list):
/// - pgbouncer: SHOW STATS per `database` (pgbouncer_stats_sql_transactions_pooled_total,
///   pgbouncer_stats_queries_pooled_total, pgbouncer_stats_client_wait_seconds_total, …) and SHOW
///   POOLS per `database` and `user` (pgbouncer_pools_client_waiting_connections,
///   pgbouncer_pools_server_active_connections, pgbouncer_pools_server_idle_connections, …).
/// - redis: INFO (redis_keyspace_hits_total, redis_memory_used_bytes, redis_evicted_keys_total,
///   redis_commands_processed_total, redis_commands_total{cmd}, redis_db_keys{db}, the summary
///   redis_latency_percentiles_usec{cmd,quantile}, …).
/// - postgres: pg_stat_database per `datname` (pg_stat_database_xact_commit, …), and
///   pg_stat_statements per `datname` where the extension is installed in the database connected to.
[[nodiscard]] std::unique_ptr<ServiceMetrics> make_service_metrics(MetricsFormat format, const std::string& name,
                                                                   const std::map<std::string, std::string>& options,
                                                                   std::chrono::milliseconds timeout);

} // namespace trimtab
