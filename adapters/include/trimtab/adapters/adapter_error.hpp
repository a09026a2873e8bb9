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
};

/// The category of AdapterError ("trimtab.adapter").
[[nodiscard]] const boost::system::error_category& adapter_category() noexcept;

[[nodiscard]] boost::system::error_code make_error_code(AdapterError error) noexcept;

} // namespace trimtab

template <>
struct boost::system::is_error_code_enum<trimtab::AdapterError> : std::true_type {};
