#pragma once

#include <compare>
#include <vector>

#include <trimtab/core/param.hpp>

namespace trimtab {

/// One configuration: a value per parameter, in the order of the Space's parameters.
struct Point {
  std::vector<Value> values;

  friend bool operator==(const Point&, const Point&) = default;
  friend auto operator<=>(const Point&, const Point&) = default;
};

} // namespace trimtab
