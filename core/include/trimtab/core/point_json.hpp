#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <trimtab/core/space.hpp>

namespace trimtab {

/// A value as JSON: ints and whole-numbered ordinal choices as integers, other numbers as doubles,
/// labels as strings.
[[nodiscard]] boost::json::value value_to_json(const Value& value);

/// {"name": value, …} in the space's parameter order.
[[nodiscard]] boost::json::object point_to_json(const Space& space, const Point& point);

/// The configuration an object describes; every parameter must be present, no other key may be.
/// Throws std::invalid_argument naming the parameter at fault. JSON numbers convert where nothing
/// is lost (20.0 for an int parameter, 8 for a float).
[[nodiscard]] Point point_from_json(const Space& space, const boost::json::value& json);

} // namespace trimtab
