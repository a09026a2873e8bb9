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

std::string solver_kinds_text() {
  std::string text;
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    if (i > 0) text += i + 1 == kinds.size() ? " or " : ", ";
    text += kinds[i];
  }
  return text;
}

std::unique_ptr<Solver> make_solver(std::string_view kind, Space space, SolverOptions options) {
  if (kind == "bayes") return std::make_unique<BayesSolver>(std::move(space), options);
  if (kind == "grid") return std::make_unique<GridSolver>(std::move(space), options);
  if (kind == "random") return std::make_unique<RandomSolver>(std::move(space), options);
  throw std::invalid_argument("unknown solver '" + std::string(kind) + "' (known: " + solver_kinds_text() + ")");
}

} // namespace trimtab
