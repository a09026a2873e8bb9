#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <trimtab/core/point_set.hpp>
#include <trimtab/core/solver.hpp>

namespace trimtab {

/// Lazy grid search: the cartesian product of every parameter's grid values, walked one point per
/// ask without ever being materialised.
///
/// A parameter's grid values are its choices (ordinal, categorical), or `grid_points` values spread
/// evenly over its range (int, float; logarithmically for log ranges). The walk starts with the
/// default configuration, and each parameter's values are ordered by their distance from its
/// default, so a budget smaller than the grid explores around today's configuration first rather
/// than one corner of the space. Points already proposed or told are skipped; ask() returns nothing
/// once the grid is exhausted.
class GridSolver final : public Solver {
public:
  /// `grid_points` applies to int and float params that do not set their own. Throws
  /// std::invalid_argument when the grid has more than 2^64 - 1 points.
  GridSolver(Space space, SolverOptions options, std::size_t grid_points = 5);

  using Solver::ask;
  /// Within a box, the first unvisited grid point inside it: points outside are not used up, so
  /// they come later when the box moves. Scans the grid from the first unvisited point.
  [[nodiscard]] std::optional<Point> ask(const Box& within) override;

  /// The values the grid visits for parameter `index`, in visiting order.
  [[nodiscard]] const std::vector<Value>& grid_values(std::size_t index) const { return levels_.at(index); }
  /// The number of grid points (the default configuration comes on top when it is off the grid).
  [[nodiscard]] std::uint64_t grid_size() const noexcept { return size_; }

private:
  void on_tell(std::size_t index) override;

  std::vector<std::vector<Value>> levels_;
  std::uint64_t size_ = 0;
  std::uint64_t next_ = 0;
  bool default_offered_ = false;
  PointSet visited_;
};

} // namespace trimtab
