#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <trimtab/core/solver.hpp>

namespace trimtab {

/// The solver kinds make_solver() knows, as users write them.
[[nodiscard]] std::span<const std::string_view> solver_kinds() noexcept;
/// The same as people read it: "bayes, grid or random".
[[nodiscard]] std::string solver_kinds_text();

/// A solver by kind name ("bayes", "grid", "random"). Throws std::invalid_argument for an unknown kind,
/// listing the known ones.
[[nodiscard]] std::unique_ptr<Solver> make_solver(std::string_view kind, Space space, SolverOptions options);

} // namespace trimtab
