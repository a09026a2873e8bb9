#include <trimtab/core/settings.hpp>

#include <stdexcept>

#include <trimtab/core/point_json.hpp>

namespace trimtab {
namespace {

// The value JSON holds, read back as value_to_json wrote it.
Value value_from_json(const std::string& name, const boost::json::value& json) {
  if (json.is_string()) return std::string(json.get_string());
  if (json.is_int64()) return json.get_int64();
  if (json.is_uint64() || json.is_double()) {
    boost::system::error_code ec;
    const auto number = json.to_number<double>(ec);
    if (!ec) {
      // Through value_to_json: a whole number reads as the integer it writes.
      const auto normal = value_to_json(number);
      return normal.is_int64() ? Value(normal.get_int64()) : Value(number);
    }
  }
  throw std::invalid_argument("param '" + name + "': expected a number or a string");
}

} // namespace

Settings settings_of(const Space& space, const Point& point) {
  return settings_from_json(point_to_json(space, point));
}

Point point_of(const Space& space, const Settings& settings) { return point_from_json(space, settings_to_json(settings)); }

boost::json::object settings_to_json(const Settings& settings) {
  boost::json::object object;
  for (const auto& [name, value] : settings) object[name] = value_to_json(value);
  return object;
}

Settings settings_from_json(const boost::json::value& json) {
  const auto* object = json.if_object();
  if (object == nullptr) throw std::invalid_argument("params must be a JSON object");
  Settings settings;
  settings.reserve(object->size());
  for (const auto& [key, value] : *object) {
    std::string name(key);
    auto parsed = value_from_json(name, value);
    settings.emplace_back(std::move(name), std::move(parsed));
  }
  return settings;
}

} // namespace trimtab
