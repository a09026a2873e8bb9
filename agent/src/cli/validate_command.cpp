#include <iomanip>
#include <iostream>
#include <sstream>

#include <trimtab/config/config_error.hpp>
#include <trimtab/config/tuning_config.hpp>

#include "commands.hpp"

namespace trimtab::cli {
namespace {

std::string show(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

std::string show(std::chrono::milliseconds duration) {
  const auto ms = duration.count();
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

std::string show(const Amount& amount) { return show(amount.value) + (amount.percent ? "%" : ""); }

// Every effective guardrail value, and where it came from: the default, the preset, or the line
// of the file that sets it.
void explain(const TuningConfig& config, std::ostream& out) {
  const auto& g = config.guardrails;
  out << "\nmode: " << mode_name(config.mode) << "\n"
      << "guardrails (preset " << preset_name(g.preset) << "), effective values and where each comes from:\n";
  auto line = [&](const std::string& key, const std::string& value) {
    const auto origin = g.origins.find(key);
    out << "  " << std::left << std::setw(28) << key << std::setw(14) << value
        << (origin == g.origins.end() ? "default" : origin->second) << '\n';
  };
  for (const auto& param : config.space.params()) {
    const auto limit = g.max_delta.find(param.name);
    if (std::holds_alternative<CategoricalChoices>(param.domain)) continue; // a label has no distance to limit
    line("max_delta." + param.name, limit == g.max_delta.end() ? "unlimited" : show(limit->second));
  }
  line("max_updates_per_second", show(g.max_updates_per_second));
  line("min_dwell", show(g.min_dwell));
  line("max_rollbacks_per_hour", std::to_string(g.max_rollbacks_per_hour));
  line("required_improvement", show(g.required_improvement));
  line("regression_threshold", show(g.regression_threshold));
  line("confidence", show(g.confidence));
  line("rollback_on_regression", g.rollback_on_regression ? "true" : "false");
  line("max_direction_flips", std::to_string(g.max_direction_flips));
  line("safe_mode_recovery", show(g.safe_mode_recovery));
  line("switchback_pairs", g.switchback_pairs == 0 ? "0 (off)" : std::to_string(g.switchback_pairs));
  line("switchback_window", show(g.switchback_window.count() > 0 ? g.switchback_window : config.window.duration / 2));
}

} // namespace

int validate_command(const std::vector<std::string>& args) {
  if (args.size() == 1 && (args[0] == "-h" || args[0] == "--help")) {
    std::cout << "usage: trimtab validate TUNING.yaml [--explain]\n\n"
                 "Loads a tuning config as the agent would and lists every mistake it finds, one\n"
                 "per line as file:line:column: message (exit 2), or prints a summary of what it\n"
                 "will tune (exit 0). --explain adds every effective guardrail value and where it\n"
                 "comes from: the built-in default, the preset, or the line that sets it.\n";
    return 0;
  }
  bool want_explain = false;
  std::vector<std::string> files;
  for (const auto& arg : args) {
    if (arg == "--explain") want_explain = true;
    else files.push_back(arg);
  }
  if (files.size() != 1) {
    std::cerr << "trimtab validate: expected one config file (see trimtab validate --help)\n";
    return 1;
  }
  const auto& file = files.front();
  try {
    const auto config = load_tuning_config(file);
    std::cout << file << ": ok\n"
              << "  objective:   " << (config.objective.direction == ObjectiveDirection::maximize ? "maximize " : "minimize ")
              << config.objective.expression.text() << '\n'
              << "  signals:     " << config.signals.size() << ", constraints: " << config.constraints.size() << '\n'
              << "  params:      " << config.space.size() << " (" << config.space.dimensions() << " cube dimensions)\n"
              << "  adapters:    " << config.adapters.size() << '\n'
              << "  budget:      " << config.solver.budget << " windows of " << config.window.duration.count() / 1000.0
              << " s after " << config.window.settle.count() / 1000.0 << " s settling\n"
              << "  applying:    "
              << (!config.enabled                          ? "no (TRIMTAB_ENABLED says off: the agent observes only)"
                  : config.mode == TuningMode::recommend ? "no (mode recommend: the agent measures and recommends)"
                                                           : "yes")
              << '\n';
    if (want_explain) explain(config, std::cout);
    return 0;
  } catch (const ConfigErrors& e) {
    std::cerr << e.what() << '\n' << e.errors().size() << " mistakes in " << file << '\n';
    return 2;
  } catch (const ConfigError& e) {
    std::cerr << e.what() << '\n';
    return 2;
  }
}

} // namespace trimtab::cli
