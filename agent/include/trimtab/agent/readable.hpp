#pragma once

#include <optional>
#include <string>

#include <boost/json/object.hpp>

#include <trimtab/core/settings.hpp>

namespace trimtab {

/// A number as people read it in logs and tables: at most 4 significant digits, no trailing
/// zeros, an exponent only for very large or very small magnitudes (2807.3221551793486 -> 2807,
/// 0.2843716993911649 -> 0.2844).
[[nodiscard]] std::string readable_number(double value);
/// The same, or "none" without a number.
[[nodiscard]] std::string readable_number(std::optional<double> value);

/// A configuration as `name=value name=value`, numbers through readable_number.
[[nodiscard]] std::string readable_point(const boost::json::object& point);
[[nodiscard]] std::string readable_point(const Settings& point);

/// A journal value in words: a number through readable_number, a point through readable_point,
/// "none" for null, a string as it is.
[[nodiscard]] std::string readable_value(const boost::json::value& value);

} // namespace trimtab
