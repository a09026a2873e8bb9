#include <trimtab/core/settings.hpp>

#include <stdexcept>

#include <trimtab/core/point_json.hpp>

namespace trimtab {
namespace {

// A value as the journal writes it (value_to_json): a whole double as the integer.
Value as_written(Value value) {
  if (const auto* number = std::get_if<double>(&value))
    if (const auto json = value_to_json(*number); json.is_int64()) return json.get_int64();
  return value;
}

Value value_from_json(const std::string& name, const boost::json::value& json) {
  if (json.is_string()) return std::string(json.get_string());
  if (json.is_int64()) return json.get_int64();
  boost::system::error_code ec;
  if (const auto number = json.to_number<double>(ec); !ec) return as_written(number);
  throw std::invalid_argument("param '" + name + "': expected a number or a string");
}

} // namespace

Settings settings_of(const Space& space, const Point& point) {
  Settings settings;
  const auto params = space.params();
  for (std::size_t i = 0; i < params.size() && i < point.values.size(); ++i)
    settings.emplace_back(params[i].name, as_written(point.values[i]));
  return settings;
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
