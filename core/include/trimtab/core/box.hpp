#pragma once

#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <trimtab/core/space.hpp>

namespace trimtab {

/// How far one parameter may move: numeric parameters stay within [lower, upper] (in the
/// parameter's own units); a categorical may be held at one label.
struct ParamLimit {
  double lower = -std::numeric_limits<double>::infinity();
  double upper = std::numeric_limits<double>::infinity();
  std::optional<std::string> hold;
};

/// Where the next proposal may go, one limit per parameter of the space: the region the guardrails
/// allow around the configuration applied now (its max change per step). An empty box is the
/// whole space.
struct Box {
  std::vector<ParamLimit> limits;

  [[nodiscard]] bool unlimited() const noexcept { return limits.empty(); }
};

/// The box's extent in the unit cube the solvers search, per coordinate.
struct UnitBox {
  std::vector<double> lower;
  std::vector<double> upper;

  /// Maps u in [0, 1]^d into the box.
  void place(std::vector<double>& u) const;
};

/// The unit-cube extent of `box`: every cube point inside it decodes to a configuration inside it.
/// Throws std::invalid_argument naming the parameter when the box has the wrong size, holds a
/// categorical at an unknown label, or leaves a parameter no value at all.
[[nodiscard]] UnitBox to_unit_box(const Space& space, const Box& box);

/// Moves each value of `point` to the nearest value its limit allows: decoding a cube point on a
/// box face can round a hair outside the box.
void clamp_into(const Space& space, const Box& box, Point& point);

/// True when every value of `point` lies within its parameter's limit.
[[nodiscard]] bool box_contains(const Space& space, const Box& box, const Point& point);

} // namespace trimtab
