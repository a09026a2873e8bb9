#include <trimtab/agent/readable.hpp>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

#include <boost/json/serialize.hpp>

namespace trimtab {

std::string readable_number(double value) {
  if (!std::isfinite(value)) return value != value ? "nan" : (value > 0 ? "inf" : "-inf");
  std::ostringstream out;
  const double magnitude = std::fabs(value);
  if (magnitude != 0.0 && (magnitude >= 1e7 || magnitude < 1e-4)) {
    out << std::setprecision(4) << value;
  } else if (value == std::floor(value)) {
    out << std::fixed << std::setprecision(0) << value;
  } else {
    // Four significant digits, and no trailing zeros after the point.
    const int digits = magnitude >= 1.0 ? static_cast<int>(std::floor(std::log10(magnitude))) + 1 : 0;
    const int leading_zeros = magnitude < 1.0 ? -static_cast<int>(std::floor(std::log10(magnitude))) - 1 : 0;
    out << std::fixed << std::setprecision(std::max(0, 4 - digits + leading_zeros)) << value;
    auto text = out.str();
    if (text.find('.') != std::string::npos) {
      while (text.back() == '0') text.pop_back();
      if (text.back() == '.') text.pop_back();
    }
    return text;
  }
  return out.str();
}

std::string readable_number(std::optional<double> value) { return value ? readable_number(*value) : "none"; }

std::string readable_point(const Settings& point) { return readable_point(settings_to_json(point)); }

std::string readable_point(const boost::json::object& point) {
  std::string out;
  for (const auto& entry : point) {
    if (!out.empty()) out += ' ';
    out += std::string(entry.key()) + '=' + readable_value(entry.value());
  }
  return out;
}

std::string readable_value(const boost::json::value& value) {
  if (value.is_null()) return "none";
  if (value.is_string()) return std::string(value.get_string());
  if (value.is_number()) return readable_number(value.to_number<double>());
  if (value.is_object()) return readable_point(value.get_object());
  return boost::json::serialize(value);
}

} // namespace trimtab
