#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include <trimtab/adapters/adapter_base.hpp>

namespace trimtab {
namespace detail {
struct PgBouncerAdapterState;
} // namespace detail

/// What an apply that leaves a pool with more server connections than its (smaller) size allows
/// does about them.
enum class PoolRecycle {
  /// `RECONNECT db` for each such database: PgBouncer closes each of its server connections when
  /// the client releases it (at the end of the transaction in transaction pooling, when the client
  /// leaves in session pooling) and opens new ones up to the pool size as clients need them. Costs
  /// one new backend connection per pool slot and a short rise in latency; the window then measures
  /// the pool it was meant to.
  reconnect,
  /// Nothing: the connections above the size go only as they fall idle or age out
  /// (server_idle_timeout, server_lifetime), which under a steady load may be never.
  wait,
};

struct PgBouncerAdapterOptions {
  /// A libpq connection string ("host=127.0.0.1 port=6432 user=pgbouncer") or URI for PgBouncer's
  /// admin console; the database is always `pgbouncer` (a dsn naming another is refused), and the
  /// user must be one of PgBouncer's admin_users. Empty: libpq's PG* environment variables and
  /// defaults. Host names are looked up with Asio's resolver before libpq connects. It may hold a
  /// password, and so is never shown.
  std::string dsn{};
  /// The name of an environment variable that holds the password; empty: none.
  std::string password_env{};
  /// A file that holds the password (one trailing newline is dropped); empty: none. Read once,
  /// when the adapter is built.
  std::string password_file{};
  /// The PgBouncer setting of each param whose name differs from its param's ({"pool": "default_pool_size"}).
  std::map<std::string, std::string> names{};
  /// Bounds each apply, each read and each in-effect check as a whole.
  std::chrono::milliseconds timeout{5000};
  /// What an apply of a pool setting does about server connections above the new size.
  PoolRecycle recycle = PoolRecycle::reconnect;
};

/// An adapter for PgBouncer's settings, changed over its admin console with SET.
///
/// Nothing is connected until the first operation; each apply and each read opens its own
/// connection to the console (libpq, non-blocking, simple query protocol, which is all the console
/// speaks) and closes it when done. Both first read SHOW CONFIG, and refuse (AdapterError::refused)
/// a setting PgBouncer does not have and one it marks `changeable: no` (listen_port, pidfile…:
/// PgBouncer would accept the SET and change nothing). Since the agent reads the running values
/// first, such a setting stops it at start with the reason.
///
/// An apply runs `SET name = 'value'` for each setting (PgBouncer checks the value, and fails the
/// SET for a bad one), then checks with SHOW CONFIG that each reads back as asked. When a SET or the
/// check fails, the settings already changed are SET back to the values SHOW CONFIG gave before,
/// and the failure says so. There is no RELOAD: it re-reads pgbouncer.ini and would undo every SET.
/// That is also why a change lasts until PgBouncer restarts or reloads its ini (an operator's
/// RELOAD, a SIGHUP): to keep the best values, write them into pgbouncer.ini. A file-and-RELOAD
/// flow is a `file` adapter on pgbouncer.ini with a reload command, not this one.
///
/// SHOW CONFIG changes at once, but a pool does not: its server connections above a smaller size
/// stay until released and closed. So when the adapter owns a pool setting (default_pool_size,
/// reserve_pool_size, max_db_connections), an apply that SHOW CONFIG confirmed then compares, over
/// SHOW DATABASES and SHOW POOLS, each pool's server connections (sv_active, sv_idle, sv_used,
/// sv_tested, sv_login and the cancel states) with its database's pool_size + reserve_pool, and
/// each database's connections with its max_connections, and recycles a database over them with
/// RECONNECT (options.recycle; a RECONNECT that fails fails the apply, which is undone).
/// async_in_effect makes the same comparison: in effect when no pool is over its size. A larger
/// size is in effect at once (SHOW DATABASES shows it; connections grow as clients need them). The
/// admin console's own database, pgbouncer, is left out.
///
/// A read reports each setting as SHOW CONFIG does: whole numbers (booleans are 0 and 1) as
/// std::int64_t, other numbers (durations in seconds such as 1.5) as double, the rest as strings.
///
/// One operation runs at a time; another waits for it. Every operation completes within
/// options.timeout on the adapter's executor, which must be single-threaded; the rollback after a
/// failure gets a fresh timeout of its own. No message ever holds a password (the dsn is never shown).
class PgBouncerAdapter final : public AdapterBase {
public:
  /// Throws std::invalid_argument naming the adapter for an empty name, no params, names for params
  /// it does not own or that are not PgBouncer setting names (letters, digits, _), a timeout that is
  /// not positive, a dsn libpq cannot parse (without quoting it) or that names a database other
  /// than pgbouncer, or a password that cannot be read.
  PgBouncerAdapter(boost::asio::any_io_executor executor, std::string name, std::vector<std::string> params,
                   PgBouncerAdapterOptions options);

  /// The options of an `adapters:` entry of kind pgbouncer, from its keys as written: `dsn`,
  /// `password_env`, `password_file`, `names.<param>` (a map in YAML), `timeout` (a duration;
  /// default 5s) and `recycle` (`reconnect`, the default, or `wait`). Throws std::invalid_argument naming the adapter and the key for an unknown key or
  /// a bad value.
  [[nodiscard]] static PgBouncerAdapterOptions from_options(const std::string& name,
                                                            const std::map<std::string, std::string>& options);

  /// The options in effect (the dsn among them: never show it).
  [[nodiscard]] const PgBouncerAdapterOptions& options() const noexcept;

  void async_apply(Settings settings, apply_handler handler) override;
  void async_current(current_handler handler) override;
  /// In effect when no pool (but the console's) has more server connections than its database's
  /// pool_size + reserve_pool, and no database more than its max_connections; always in effect
  /// when the adapter owns no pool setting.
  void async_in_effect(Settings settings, in_effect_handler handler) override;

private:
  // Shared with the operations in flight, which may outlive the adapter.
  std::shared_ptr<const detail::PgBouncerAdapterState> state_;
};

} // namespace trimtab
