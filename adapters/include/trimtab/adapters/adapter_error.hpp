#pragma once

#include <type_traits>

#include <boost/system/error_code.hpp>

namespace trimtab {

/// Why an adapter failed, beyond the errors the system or the HTTP client report themselves
/// (connection refused, timed out…), which AdapterResult::error carries as they are.
enum class AdapterError {
  callback_failed = 1, ///< the host's callback threw, or returned a failure without an error code
  http_status,         ///< the service answered with an HTTP status outside 2xx
  bad_response,        ///< the service's answer is not what the adapter reads (not a JSON object…)
  missing_param,       ///< the service did not report the value of a parameter the adapter owns
  bad_settings,        ///< an apply without a value for each of the adapter's params(), or with others
  cannot_read,         ///< the adapter has no way to read the running values (a command without a
                       ///< `current` command); the agent then starts from the params' defaults
  refused,             ///< the service refuses the setting as such (a PostgreSQL setting that needs a restart)
  server_error,        ///< the service answered the request with an error (Redis -ERR, a failed SQL statement)
  process_failed,      ///< a command exited with a non-zero status or was killed
  connection_failed,   ///< no connection to the service's own protocol (PostgreSQL, PgBouncer): refused,
                       ///< unreachable, authentication failed, or lost while talking
};

/// The category of AdapterError ("trimtab.adapter").
[[nodiscard]] const boost::system::error_category& adapter_category() noexcept;

[[nodiscard]] boost::system::error_code make_error_code(AdapterError error) noexcept;

} // namespace trimtab

template <>
struct boost::system::is_error_code_enum<trimtab::AdapterError> : std::true_type {};
