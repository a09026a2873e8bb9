#include <trimtab/core/point_json.hpp>

#include <cmath>
#include <stdexcept>

namespace trimtab {
namespace {

// Doubles beyond 2^53 are not all whole numbers that int64 can hold exactly.
constexpr double max_exact_integer = 9007199254740992.0;

std::optional<double> as_number(const boost::json::value& json) {
  if (json.is_int64()) return static_cast<double>(json.get_int64());
  if (json.is_uint64()) return static_cast<double>(json.get_uint64());
  if (json.is_double()) return json.get_double();
  return std::nullopt;
}

Value value_from_json(const Param& param, const boost::json::value& json) {
  if (std::holds_alternative<CategoricalChoices>(param.domain)) {
    if (!json.is_string()) throw std::invalid_argument("param '" + param.name + "': expected a string");
    return std::string(json.get_string());
  }
  if (std::holds_alternative<IntRange>(param.domain)) {
    if (json.is_int64()) return json.get_int64();
    const auto number = as_number(json);
    if (!number || std::trunc(*number) != *number || std::abs(*number) > max_exact_integer)
      throw std::invalid_argument("param '" + param.name + "': expected a whole number");
    return static_cast<std::int64_t>(*number);
  }
  const auto number = as_number(json);
  if (!number) throw std::invalid_argument("param '" + param.name + "': expected a number");
  return *number;
}

} // namespace

boost::json::value value_to_json(const Value& value) {
  if (const auto* i = std::get_if<std::int64_t>(&value)) return *i;
  if (const auto* s = std::get_if<std::string>(&value)) return boost::json::string(*s);
  const double d = std::get<double>(value);
  if (std::trunc(d) == d && std::abs(d) <= max_exact_integer) return static_cast<std::int64_t>(d);
  return d;
}

boost::json::object point_to_json(const Space& space, const Point& point) {
  boost::json::object object;
  const auto params = space.params();
  for (std::size_t i = 0; i < params.size() && i < point.values.size(); ++i)
    object[params[i].name] = value_to_json(point.values[i]);
  return object;
}

Point point_from_json(const Space& space, const boost::json::value& json) {
  const auto* object = json.if_object();
  if (!object) throw std::invalid_argument("params must be a JSON object");
  for (const auto& entry : *object)
    if (!space.find(entry.key())) throw std::invalid_argument("unknown parameter '" + std::string(entry.key()) + "'");
  Point point;
  for (const auto& param : space.params()) {
    const auto* json_value = object->if_contains(param.name);
    if (!json_value) throw std::invalid_argument("param '" + param.name + "' is missing");
    point.values.push_back(value_from_json(param, *json_value));
  }
  if (auto why = space.check(point)) throw std::invalid_argument(*why);
  return point;
}

} // namespace trimtab
