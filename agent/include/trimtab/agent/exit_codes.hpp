#pragma once

namespace trimtab {

/// The exit codes of `trimtab solve`, which run_solve_session() decides: the protocol's driver
/// knows why a session ended, and a driving script tells a bad result line from a finished run
/// by them (README, "trimtab solve").
enum class SolveExit : int {
  done = 0,           ///< budget spent or solver exhausted; the best line was printed
  bad_input = 2,      ///< a result line was malformed or input ended early; stderr says which line
};

} // namespace trimtab
