#pragma once

// What the postgres and pgbouncer adapters share beyond the connection: their options, the
// password, one operation at a time, values as text. Internal to trimtab_adapters.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <trimtab/core/param.hpp>

namespace trimtab::pg {

/// The keys both kinds take, as parsed from an `adapters:` entry.
struct CommonOptions {
  std::string dsn;
  std::string password_env;
  std::string password_file;
  std::map<std::string, std::string> names;
  std::map<std::string, std::string> units;
  std::chrono::milliseconds timeout{5000};
  /// The values of the kind's own keys (`own_keys`), as written, for it to read.
  std::map<std::string, std::string> own;
};

/// Parses dsn, password_env, password_file, names.<param>, units.<param> (only `with_units`) and
/// timeout, and takes each of `own_keys` as it is into `own`. Throws std::invalid_argument naming
/// the adapter and the key (never a dsn's text) for an unknown key or a bad value.
[[nodiscard]] CommonOptions parse_options(const std::string& adapter, std::string_view kind,
                                          const std::map<std::string, std::string>& options, bool with_units,
                                          const std::vector<std::string_view>& own_keys = {});

/// `options` as one adapter's option struct (PostgresAdapterOptions, PgBouncerAdapterOptions),
/// which keep their fields flat so that callers can write them with designated initialisers.
template <class AdapterOptions>
[[nodiscard]] AdapterOptions to_adapter_options(CommonOptions options) {
  AdapterOptions result;
  result.dsn = std::move(options.dsn);
  result.password_env = std::move(options.password_env);
  result.password_file = std::move(options.password_file);
  result.names = std::move(options.names);
  if constexpr (requires { result.units; }) result.units = std::move(options.units);
  result.timeout = options.timeout;
  return result;
}

/// The password from the environment variable `env` or the file `file` (at most one is set; a
/// file's one trailing newline is dropped), or "" when neither is. Throws std::invalid_argument
/// (naming the variable or the file, never what they hold) when both are set, the variable is
/// unset or empty, or the file cannot be read or is empty.
[[nodiscard]] std::string read_password(const std::string& env, const std::string& file);

/// Checks that every key of `map` (the `names` or `units` option) is one of `params`. Throws
/// std::invalid_argument naming the option otherwise.
void check_param_keys(const std::map<std::string, std::string>& map, std::string_view option,
                      const std::vector<std::string>& params);

/// PostgreSQL's units, as it spells them (case matters): B, kB, MB, GB, TB, us, ms, s, min, h, d.
[[nodiscard]] bool is_unit(std::string_view unit) noexcept;

/// A value as a server takes it: integers in decimal, reals in their shortest exact form ("0.9",
/// "20" for 20.0), labels as they are; `unit` follows a number ("64MB").
[[nodiscard]] std::string value_text(const Value& value, std::string_view unit = {});

/// A whole number as a server shows one ("20", "-1"), or nothing.
[[nodiscard]] std::optional<std::int64_t> to_int(std::string_view text);

/// A finite number as a server shows one ("0.9", "1e+06"), or nothing.
[[nodiscard]] std::optional<double> to_double(const std::string& text);

/// When an operation that starts now must be done: a twentieth of `timeout` (at most 100 ms) before
/// it ends, so that when time runs out the adapter's own message, which names the step, reaches the
/// caller before a guard timer of `timeout` fires there (the agent keeps one).
[[nodiscard]] std::chrono::steady_clock::time_point deadline_after(std::chrono::milliseconds timeout);

/// One operation at a time: an apply or a read waits until the one before it has finished, its
/// rollback included, so a late rollback never overwrites a newer apply. Use from one
/// single-threaded executor.
class Lane : public std::enable_shared_from_this<Lane> {
public:
  /// Held for the length of an operation; the next one in line goes when it is destroyed.
  class Turn {
  public:
    Turn() = default;
    explicit Turn(std::shared_ptr<Lane> lane) : lane_(std::move(lane)) {}
    Turn(Turn&& other) noexcept = default;
    Turn& operator=(Turn&&) = delete;
    ~Turn();

  private:
    std::shared_ptr<Lane> lane_;
  };

  /// Completes when the operations that entered before have left.
  [[nodiscard]] boost::asio::awaitable<Turn> enter();

private:
  void leave();

  bool busy_ = false;
  std::deque<std::shared_ptr<boost::asio::steady_timer>> waiting_;
};

} // namespace trimtab::pg
