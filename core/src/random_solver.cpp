#include <trimtab/core/random_solver.hpp>

#include "mixed_radix.hpp"

namespace trimtab {
namespace {

// Sobol draws that hit visited configurations before the solver stops drawing and enumerates
// instead. On a large space a fresh point comes within a few draws; only a nearly exhausted small
// space gets here.
constexpr int max_draws_per_ask = 4096;
// Spaces up to this many configurations are enumerated once draws stop finding fresh points.
constexpr std::uint64_t max_enumerated = std::uint64_t{1} << 20;

} // namespace

RandomSolver::RandomSolver(Space space, SolverOptions options)
    : Solver(std::move(space), options), sequence_(this->space().dimensions(), options.seed),
      unit_(this->space().dimensions()) {}

std::optional<Point> RandomSolver::ask(const Box& within) {
  const auto box = to_unit_box(space(), within);
  const auto cardinality = space().cardinality();
  if (within.unlimited() && cardinality && visited_.size() >= *cardinality) return std::nullopt;
  for (int draw = 0; draw < max_draws_per_ask; ++draw) {
    sequence_.next(unit_);
    box.place(unit_);
    auto point = space().decode(unit_);
    clamp_into(space(), within, point);
    if (visited_.insert(point)) return point;
  }
  if (!cardinality || *cardinality > max_enumerated) return std::nullopt;
  // Start the scan where the sequence is, so which leftover comes first still depends on the seed.
  auto point = first_unvisited_from(sequence_.drawn() % *cardinality, within);
  if (point) visited_.insert(*point);
  return point;
}

std::optional<Point> RandomSolver::first_unvisited_from(std::uint64_t start, const Box& within) const {
  std::vector<std::vector<Value>> levels;
  for (const auto& param : space().params()) levels.push_back(all_values(param));
  const auto size = *detail::product_size(levels);
  for (std::uint64_t i = 0; i < size; ++i) {
    auto point = detail::product_point(levels, (start + i) % size);
    if (!visited_.contains(point) && box_contains(space(), within, point)) return point;
  }
  return std::nullopt;
}

void RandomSolver::on_tell(std::size_t index) { visited_.insert(history()[index].point); }

} // namespace trimtab
