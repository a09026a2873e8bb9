#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include <trimtab/adapters/adapter_base.hpp>

namespace trimtab {

struct RedisAdapterOptions {
  /// The server: host:port, [IPv6]:port, or a host alone for port 6379. The host is an IPv4
  /// address, a bracketed IPv6 address or a name, resolved (asynchronously) at each operation.
  std::string address = "127.0.0.1:6379";
  /// The ACL user to AUTH as; empty means the default user (AUTH with the password alone).
  std::string username{};
  /// The password to AUTH with; empty means no AUTH. from_options() reads it from the variable
  /// `password_env` names or the file `password_file` names, once, at start-up. It never appears in
  /// a message.
  std::string password{};
  /// Bounds each apply and each read as a whole (resolve, connect, AUTH, command, reply).
  std::chrono::milliseconds timeout{5000};
  /// The Redis setting each param maps to, by param name; a param not here maps to its own name with
  /// '_' as '-' (max_memory → max-memory).
  std::map<std::string, std::string> names{};
  /// The unit each param is written in, by param name, as bytes per unit (1024 * 1024 for mb):
  /// Redis takes and reports the setting in bytes. A param not here is sent and read as is.
  std::map<std::string, std::int64_t> units{};
};

/// An adapter for Redis (7.0 and later): it sets the owned parameters with CONFIG SET and reads
/// them with CONFIG GET, over RESP2.
///
/// An apply opens a connection, AUTHs when a password is configured (and waits for the answer: a
/// failed AUTH ends the apply before anything is sent), then sends ONE `CONFIG SET name value …`
/// with every owned parameter, which Redis applies atomically: when it refuses one value it changes
/// none. An error reply fails the apply with AdapterError::server_error and Redis's text
/// ("adapter 'cache': CONFIG SET maxmemory-samples 0: ERR CONFIG SET failed (possibly related to
/// argument 'maxmemory-samples') - argument must be between 1 and 2147483647 inclusive"). Values go
/// as text: ints in decimal, floats that are whole numbers as ints (8, not 8.0), other floats in
/// their shortest exact form, labels as they are. A param with a unit is multiplied into bytes
/// (a float rounded to the nearest byte).
///
/// A read pipelines one `CONFIG GET name` per owned parameter and answers in params() order: a
/// whole number as std::int64_t, a decimal number (1.5, -2e3) as double, anything else as the
/// string Redis reports ("allkeys-lru", "3600 1 300 100"). A param with a unit is divided back:
/// an int when Redis holds a whole number of units, else a double (which an int param refuses,
/// naming the param: set such a size in whole units first). A name Redis does not know fails with
/// AdapterError::missing_param, naming it.
///
/// Connection failures carry the system's error (connection refused…); running out of time fails
/// with boost::system::errc::timed_out. Each operation uses its own connection, closed afterwards,
/// and completes on the adapter's executor, which must be single-threaded (an io_context run by one
/// thread, or a strand). Destroying the adapter does not cancel operations in flight.
class RedisAdapter final : public AdapterBase {
public:
  /// Throws std::invalid_argument naming the adapter for an empty name or no params, a bad address,
  /// a timeout that is not positive, a username without a password, names or units given for a
  /// param the adapter does not own, a Redis name that is empty or holds a glob character or space,
  /// two params mapped to one name, or a unit that is not positive.
  RedisAdapter(boost::asio::any_io_executor executor, std::string name, std::vector<std::string> params,
               RedisAdapterOptions options);

  /// The options of an `adapters:` entry of kind redis, from its keys as written: `address`
  /// (default 127.0.0.1:6379), `username`, `password_env` or `password_file` (not both; a file's
  /// trailing line break is dropped), `timeout` (a duration; default 5s), `names.<param>` (a Redis
  /// setting name) and `units.<param>` (b, kb, mb or gb: 1, 1024, 1024², 1024³ bytes). Throws
  /// std::invalid_argument naming the adapter and the key for an unknown key, a bad value, an
  /// unset or empty password variable, or a password file that cannot be read or is empty — never
  /// quoting the password.
  [[nodiscard]] static RedisAdapterOptions from_options(const std::string& name,
                                                        const std::map<std::string, std::string>& options);

  /// The Redis setting `param` maps to (names, or the param's name with '_' as '-'). Throws
  /// std::out_of_range for a param the adapter does not own.
  [[nodiscard]] const std::string& redis_name(const std::string& param) const;

  void async_apply(Settings settings, apply_handler handler) override;
  void async_current(current_handler handler) override;

private:
  struct State;

  // Shared with the operations in flight, which may outlive the adapter.
  std::shared_ptr<const State> state_;
};

} // namespace trimtab
