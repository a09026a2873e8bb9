#pragma once

#include <string>

#include <boost/json/value.hpp>

namespace trimtab {

/// Compact JSON text like boost::json::serialize, except that numbers are written the way people
/// and other languages write them: 12.5 and 0.001 rather than 1.25E1 and 1E-3, still the shortest
/// text that reads back to the same double.
[[nodiscard]] std::string to_json_text(const boost::json::value& value);

} // namespace trimtab
