#include <iostream>

#include <trimtab/config/config_error.hpp>
#include <trimtab/config/tuning_config.hpp>

#include "commands.hpp"

namespace trimtab::cli {

int validate_command(const std::vector<std::string>& args) {
  if (args.size() == 1 && (args[0] == "-h" || args[0] == "--help")) {
    std::cout << "usage: trimtab validate TUNING.yaml\n\n"
                 "Loads a tuning config as the agent would and lists every mistake it finds, one\n"
                 "per line as file:line:column: message (exit 2), or prints a summary of what it\n"
                 "will tune (exit 0).\n";
    return 0;
  }
  if (args.size() != 1) {
    std::cerr << "trimtab validate: expected one config file (see trimtab validate --help)\n";
    return 1;
  }
  try {
    const auto config = load_tuning_config(args[0]);
    std::cout << args[0] << ": ok\n"
              << "  objective:   " << (config.objective.direction == ObjectiveDirection::maximize ? "maximize " : "minimize ")
              << config.objective.expression.text() << '\n'
              << "  signals:     " << config.signals.size() << ", constraints: " << config.constraints.size() << '\n'
              << "  params:      " << config.space.size() << " (" << config.space.dimensions() << " cube dimensions)\n"
              << "  adapters:    " << config.adapters.size() << '\n'
              << "  budget:      " << config.solver.budget << " windows of " << config.window.duration.count() / 1000.0
              << " s after " << config.window.settle.count() / 1000.0 << " s settling\n"
              << "  applying:    "
              << (config.enabled ? "yes" : "no (TRIMTAB_ENABLED says off: the agent observes only)") << '\n';
    return 0;
  } catch (const ConfigErrors& e) {
    std::cerr << e.what() << '\n' << e.errors().size() << " mistakes in " << args[0] << '\n';
    return 2;
  } catch (const ConfigError& e) {
    std::cerr << e.what() << '\n';
    return 2;
  }
}

} // namespace trimtab::cli
