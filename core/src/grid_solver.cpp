#include <trimtab/core/grid_solver.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "mixed_radix.hpp"

namespace trimtab {
namespace {

// `count` positions spread evenly over [0, 1], both ends included.
std::vector<double> even_positions(std::size_t count) {
  std::vector<double> positions(count);
  for (std::size_t i = 0; i < count; ++i) positions[i] = static_cast<double>(i) / static_cast<double>(count - 1);
  return positions;
}

// The values a grid visits: every choice, or `count` values spread over a range.
std::vector<Value> grid_values_of(const Param& param, const Value& fallback, std::size_t count) {
  const auto n = value_count(param);
  if (n && (*n <= count || !std::holds_alternative<IntRange>(param.domain))) return all_values(param);
  if (count == 1) return {fallback};
  std::vector<Value> values;
  if (const auto* r = std::get_if<IntRange>(&param.domain)) {
    for (double u : even_positions(count)) {
      const double lo = std::log(double(r->min)), hi = std::log(double(r->max));
      auto v = r->log ? std::llround(std::exp(lo + u * (hi - lo)))
                      : r->min + static_cast<std::int64_t>(std::llround(u * static_cast<double>(*n - 1))) * r->step;
      v = std::clamp<std::int64_t>(v, r->min, r->max);
      // Rounding can map two positions of a narrow log range to one integer.
      if (values.empty() || std::get<std::int64_t>(values.back()) != v) values.emplace_back(v);
    }
    return values;
  }
  const auto& r = std::get<FloatRange>(param.domain);
  for (double u : even_positions(count))
    values.emplace_back(r.log ? std::exp(std::log(r.min) + u * (std::log(r.max) - std::log(r.min)))
                              : r.min + u * (r.max - r.min));
  // The ends exactly, whatever exp/log rounding did.
  values.front() = r.min;
  values.back() = r.max;
  return values;
}

// Orders values by their distance from the default in the unit cube; ties keep their order.
void order_from_default(const Param& param, const Value& default_value, std::vector<Value>& values) {
  const auto width = encoded_width(param);
  std::vector<double> origin(width), here(width);
  Space::encode_value(param, default_value, origin);
  auto distance = [&](const Value& v) {
    Space::encode_value(param, v, here);
    double d = 0.0;
    for (std::size_t i = 0; i < width; ++i) d += std::abs(here[i] - origin[i]);
    return d;
  };
  std::vector<std::pair<double, Value>> keyed;
  keyed.reserve(values.size());
  for (auto& v : values) keyed.emplace_back(distance(v), std::move(v));
  std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (std::size_t i = 0; i < keyed.size(); ++i) values[i] = std::move(keyed[i].second);
}

} // namespace

GridSolver::GridSolver(Space space, SolverOptions options, std::size_t grid_points) : Solver(std::move(space), options) {
  if (grid_points < 1) throw std::invalid_argument("grid_points must be at least 1");
  const auto& params = this->space().params();
  const auto& defaults = this->space().default_point();
  levels_.reserve(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    auto values = grid_values_of(params[i], defaults.values[i], params[i].grid_points.value_or(grid_points));
    order_from_default(params[i], defaults.values[i], values);
    levels_.push_back(std::move(values));
  }
  const auto size = detail::product_size(levels_);
  if (!size) throw std::invalid_argument("the grid has more than 2^64 - 1 points; lower grid_points or use another solver");
  size_ = *size;
}

std::optional<Point> GridSolver::ask(const Box& within) {
  (void)to_unit_box(space(), within); // rejects a box that does not fit the space
  if (!default_offered_ && box_contains(space(), within, space().default_point())) {
    default_offered_ = true;
    if (visited_.insert(space().default_point())) return space().default_point();
  }
  // next_ only passes visited points, so a point skipped for lying outside the box stays ahead.
  while (next_ < size_ && visited_.contains(detail::product_point(levels_, next_))) ++next_;
  for (auto index = next_; index < size_; ++index) {
    auto point = detail::product_point(levels_, index);
    if (!box_contains(space(), within, point) || !visited_.insert(point)) continue;
    if (index == next_) ++next_;
    return point;
  }
  return std::nullopt;
}

void GridSolver::on_tell(std::size_t index) { visited_.insert(history()[index].point); }

} // namespace trimtab
