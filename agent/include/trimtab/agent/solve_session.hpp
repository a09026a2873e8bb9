#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>
#include <vector>

#include <trimtab/agent/exit_codes.hpp>
#include <trimtab/core/solver.hpp>

namespace trimtab {

/// Reads earlier results (one JSON object per line: {"params": {…}, "value": v} or
/// {"params": {…}, "failed": true}, optional "constraints": [c, …]) for Solver::seed(). Throws
/// std::invalid_argument naming `source` and the line.
[[nodiscard]] std::vector<Trial> read_history(const Space& space, std::istream& in, const std::string& source);

/// Drives `solver` through the language-neutral ask/tell protocol of `trimtab solve`: writes
/// {"id": n, "params": {…}, "incumbent": k} per proposal to `out` (k: the id the solver would
/// deploy now, once there is one), reads one result line {"id": n, "value": v} (or
/// "failed": true; optional "constraints") from `in` before the next proposal, and ends with
/// {"best": …, "evaluations": n}, the best being the solver's recommendation. Errors go to `err`,
/// naming the input line.
[[nodiscard]] SolveExit run_solve_session(Solver& solver, std::size_t budget, std::istream& in, std::ostream& out,
                                          std::ostream& err);

} // namespace trimtab
