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
struct PostgresAdapterState;
} // namespace detail

struct PostgresAdapterOptions {
  /// A libpq connection string ("host=10.0.0.5 port=5432 user=trimtab dbname=postgres") or URI
  /// (postgresql://trimtab@10.0.0.5/postgres); empty: libpq's PG* environment variables and
  /// defaults. Host names are looked up with Asio's resolver before libpq connects, so a lookup
  /// never blocks the agent; only names that come from a service file (service=…) are looked up by
  /// libpq itself, blocking. It may hold a password, and so is never shown.
  std::string dsn{};
  /// The name of an environment variable that holds the password; empty: none.
  std::string password_env{};
  /// A file that holds the password (one trailing newline is dropped); empty: none. The password
  /// is read once, when the adapter is built, and goes to libpq as its own parameter.
  std::string password_file{};
  /// The server setting of each param whose name differs from its param's ({"mem": "work_mem"}).
  std::map<std::string, std::string> names{};
  /// The unit of each param whose values carry one ({"mem": "MB"}: 64 is sent as '64MB', and the
  /// running value is read back in MB): B, kB, MB, GB, TB, us, ms, s, min, h or d. Without one, a
  /// value is in the setting's own base unit (work_mem in kB, statement_timeout in ms).
  std::map<std::string, std::string> units{};
  /// Bounds each apply and each read as a whole (looking up the host, connecting, every statement).
  std::chrono::milliseconds timeout{5000};
};

/// An adapter for PostgreSQL's own settings, changed with ALTER SYSTEM and pg_reload_conf().
///
/// Nothing is connected until the first operation; each apply and each read opens its own
/// connection (libpq, non-blocking, driven by the adapter's executor) and closes it when done.
/// Both first look the settings up in pg_settings, and refuse (AdapterError::refused) a setting
/// the server does not have and one that a reload does not apply to every session: contexts
/// `internal` and `postmaster` (a restart), and `backend` and `superuser-backend` (only sessions
/// started afterwards would see it, so a window would measure a mix). Since the agent reads the
/// running values first, such a setting stops it at start with the reason. Units must fit the
/// setting (MB for a memory setting, ms for a time one), or the setting is refused as well.
///
/// An apply runs `ALTER SYSTEM SET name = 'value'` for each setting, one statement each, then
/// `SELECT pg_reload_conf()`, waits until its own session has reloaded, and checks that each
/// setting reads back as asked (numbers as the server rounds them to its base unit; labels without
/// regard to case). When a statement fails (a value out of range, a bad label: the server checks
/// them) or the check does, the settings already altered get their earlier postgresql.auto.conf
/// entries back (`ALTER SYSTEM SET` to the old entry, or `ALTER SYSTEM RESET` when there was none,
/// read from pg_file_settings; the running value when that view is not readable), reloading again
/// when the reload had already happened, and the failure says so. The role needs the right to
/// ALTER SYSTEM the settings and to run pg_reload_conf() (a superuser, or the grants of
/// PostgreSQL 15); pg_file_settings is readable by superusers and pg_read_all_settings.
///
/// A read reports each setting in its param's unit (or the setting's base unit): integer settings
/// as std::int64_t when whole (as double otherwise), real ones as double, booleans as "on" or
/// "off", enums and strings as strings.
///
/// One operation runs at a time; another waits for it. Every operation completes within options.timeout
/// on the adapter's executor, which must be single-threaded. A statement a timeout interrupts may
/// still finish on the server; the rollback after a failure gets a fresh timeout of its own. No
/// message ever holds a password (the dsn is never shown).
class PostgresAdapter final : public AdapterBase {
public:
  /// Throws std::invalid_argument naming the adapter for an empty name, no params, names or units
  /// for params it does not own, a unit PostgreSQL does not know, a timeout that is not positive, a
  /// dsn libpq cannot parse (without quoting it), or a password that cannot be read.
  PostgresAdapter(boost::asio::any_io_executor executor, std::string name, std::vector<std::string> params,
                  PostgresAdapterOptions options);

  /// The options of an `adapters:` entry of kind postgres, from its keys as written: `dsn`,
  /// `password_env`, `password_file`, `names.<param>`, `units.<param>` (a map each in YAML) and
  /// `timeout` (a duration; default 5s). Throws std::invalid_argument naming the adapter and the
  /// key for an unknown key or a bad value.
  [[nodiscard]] static PostgresAdapterOptions from_options(const std::string& name,
                                                           const std::map<std::string, std::string>& options);

  /// The options in effect (the dsn among them: never show it).
  [[nodiscard]] const PostgresAdapterOptions& options() const noexcept;

  void async_apply(Settings settings, apply_handler handler) override;
  void async_current(current_handler handler) override;

private:
  // Shared with the operations in flight, which may outlive the adapter.
  std::shared_ptr<const detail::PostgresAdapterState> state_;
};

} // namespace trimtab
