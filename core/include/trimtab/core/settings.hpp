#pragma once

// A configuration by parameter name, where Point holds it by the space's index: what the journal
// records and an adapter is given. Read without the space, so `trimtab report` and a replica with
// another config read a journal, and only replay checks it against the space it runs with.

#include <string>
#include <utility>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <trimtab/core/point.hpp>
#include <trimtab/core/space.hpp>

namespace trimtab {

/// Values by name, in the space's parameter order: a whole configuration in a journal record,
/// the parameters one adapter owns when given to it.
using Settings = std::vector<std::pair<std::string, Value>>;

/// Every parameter of `point` by name, each number as the journal writes it (a whole double as an
/// integer, see value_to_json), so that settings read back from the journal compare equal.
[[nodiscard]] Settings settings_of(const Space& space, const Point& point);

/// The point `settings` name: every parameter present, none other, each value in its domain.
/// Throws std::invalid_argument naming the parameter at fault, as point_from_json.
[[nodiscard]] Point point_of(const Space& space, const Settings& settings);

/// {"name": value, …} in the settings' order.
[[nodiscard]] boost::json::object settings_to_json(const Settings& settings);

/// Settings from {"name": value, …}: numbers (whole ones as integers) and strings. Throws
/// std::invalid_argument for anything else, naming the key.
[[nodiscard]] Settings settings_from_json(const boost::json::value& json);

} // namespace trimtab
