#pragma once

#include <vector>

#include <trimtab/core/sobol_sequence.hpp>
#include <trimtab/core/point_set.hpp>
#include <trimtab/core/solver.hpp>

namespace trimtab {

/// Random search over a scrambled Sobol sequence: as cheap as uniform sampling, but its points
/// fill the space evenly instead of clumping, so a small budget leaves no large region untried.
/// Never proposes a configuration twice; on a finite space it returns nothing once every
/// configuration has been proposed or told.
class RandomSolver final : public Solver {
public:
  /// Throws std::invalid_argument when the space has more dimensions than SobolSequence covers.
  RandomSolver(Space space, SolverOptions options);

  using Solver::ask;
  /// Within a box, Sobol points are mapped into it, so they still cover it evenly.
  [[nodiscard]] std::optional<Point> ask(const Box& within) override;

private:
  void on_tell(std::size_t index) override;
  [[nodiscard]] std::optional<Point> first_unvisited_from(std::uint64_t start, const Box& within) const;

  SobolSequence sequence_;
  std::vector<double> unit_;
  PointSet visited_;
};

} // namespace trimtab
