#include <cstdint>
#include <fstream>
#include <iostream>

#include <boost/program_options.hpp>

#include <trimtab/agent/exit_codes.hpp>
#include <trimtab/agent/solve_session.hpp>
#include <trimtab/config/config_error.hpp>
#include <trimtab/config/space_yaml.hpp>
#include <trimtab/core/make_solver.hpp>

#include "commands.hpp"

namespace trimtab::cli {

namespace po = boost::program_options;

int solve_command(const std::vector<std::string>& args) {
  po::options_description options(R"(usage: trimtab solve --space SPACE.yaml [options]

Proposes configurations as JSON lines on stdout, {"id": 0, "params": {...}}, and reads one result
line per proposal on stdin, {"id": 0, "value": 12.5} or {"id": 0, "failed": true}, with an optional
"constraints": [c, ...] (each holds when <= 0). Ends with {"best": {...}, "evaluations": N}.
A malformed result line is named on stderr and ends the run with exit code 2.

Options)");
  std::string space_path, solver_kind = "bayes", history_path;
  std::uint64_t seed = 0;
  std::size_t budget = 100;
  options.add_options()
      ("help,h", "show this help")
      ("space", po::value(&space_path)->value_name("FILE"), "YAML file with a `params:` map (required)")
      ("solver", po::value(&solver_kind)->value_name("KIND")->default_value(solver_kind), "bayes, random or grid")
      ("seed", po::value(&seed)->value_name("N")->default_value(seed), "seed of every random choice")
      ("budget", po::value(&budget)->value_name("N")->default_value(budget), "most evaluations to ask for")
      ("maximize", "larger values are better (default: smaller)")
      ("history", po::value(&history_path)->value_name("FILE"),
       "earlier results to warm-start from, one JSON line each: {\"params\": {...}, \"value\": v}");
  po::variables_map vm;
  if (const auto done = parse_options("solve", args, options, vm)) return *done;
  if (space_path.empty()) {
    std::cerr << "trimtab solve: --space FILE is required (see trimtab solve --help)\n";
    return 1;
  }
  try {
    auto space = load_space_file(space_path);
    const SolverOptions solver_options{vm.count("maximize") ? Direction::maximize : Direction::minimize, seed};
    auto solver = make_solver(solver_kind, std::move(space), solver_options);
    if (!history_path.empty()) {
      std::ifstream history(history_path);
      if (!history) throw std::invalid_argument(history_path + ": cannot read the file");
      solver->seed(read_history(solver->space(), history, history_path));
    }
    return static_cast<int>(run_solve_session(*solver, budget, std::cin, std::cout, std::cerr));
  } catch (const std::exception& e) {
    // Start-up errors: the space file, the solver kind, the history file.
    std::cerr << "trimtab solve: " << e.what() << '\n';
    return 1;
  }
}

} // namespace trimtab::cli
