#include <trimtab/core/make_solver.hpp>

#include <array>
#include <stdexcept>
#include <string>

#include <trimtab/core/bayes_solver.hpp>
#include <trimtab/core/grid_solver.hpp>
#include <trimtab/core/random_solver.hpp>

namespace trimtab {
namespace {

constexpr std::array<std::string_view, 3> kinds{"bayes", "grid", "random"};

} // namespace

std::span<const std::string_view> solver_kinds() noexcept { return kinds; }

std::unique_ptr<Solver> make_solver(std::string_view kind, Space space, SolverOptions options) {
  if (kind == "bayes") return std::make_unique<BayesSolver>(std::move(space), options);
  if (kind == "grid") return std::make_unique<GridSolver>(std::move(space), options);
  if (kind == "random") return std::make_unique<RandomSolver>(std::move(space), options);
  std::string known;
  for (auto k : kinds) known += (known.empty() ? "" : ", ") + std::string(k);
  throw std::invalid_argument("unknown solver '" + std::string(kind) + "' (known: " + known + ")");
}

} // namespace trimtab
