#include <algorithm>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include <boost/asio/io_context.hpp>

#include <trimtab/agent/agent.hpp>
#include <trimtab/agent/standalone_adapters.hpp>
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

// A span of time as people read it: "45 s", "2.5 min", "1.5 h".
std::string human(double seconds) {
  std::ostringstream out;
  out << std::setprecision(3);
  if (seconds < 120) out << seconds << " s";
  else if (seconds < 7200) out << seconds / 60 << " min";
  else out << seconds / 3600 << " h";
  return out.str();
}

// How fast the study goes: a window's length, the least time between two changes, and so the
// study's length. Returns a warning when the guardrails, not the windows, set the pace.
std::string pace(const TuningConfig& config, std::ostream& out) {
  const auto& policy = config.policy;
  const double settle = policy.settle.count() / 1000.0, measure = policy.duration.count() / 1000.0;
  const double window = settle + measure;
  const double dwell = policy.guardrails.min_dwell.count() / 1000.0;
  const double rate_gap = 1.0 / policy.guardrails.max_updates_per_second;
  const double gap = std::max(dwell, rate_gap);
  const auto budget = static_cast<double>(policy.budget);
  out << "  window:      " << human(window) << " per window (" << human(settle) << " settling + " << human(measure)
      << " measuring)\n"
      << "  changes:     at least " << human(gap) << " apart (min_dwell " << human(dwell) << ", max_updates_per_second "
      << policy.guardrails.max_updates_per_second << ": one per " << human(rate_gap) << ")\n"
      << "  study:       about " << human(budget * std::max(window, gap)) << " (" << policy.budget
      << " x max(window " << human(window) << ", changes " << human(gap) << "))\n";
  if (gap <= window) return {};
  const bool by_dwell = dwell >= rate_gap;
  std::ostringstream warning;
  warning << "warning: "
          << (by_dwell ? "min_dwell (" + human(dwell) + ")" : "max_updates_per_second (one change per " + human(rate_gap) + ")")
          << " is longer than a window (" << human(window) << "): each change waits " << human(gap - window)
          << " after its window, and the study takes about " << human(budget * gap) << " instead of "
          << human(budget * window) << "; set guardrails." << (by_dwell ? "min_dwell" : "max_updates_per_second")
          << " to go faster\n";
  return warning.str();
}

// Builds what `trimtab run` builds before it touches the network: each adapter from its options,
// each metrics source (its options, its password), the agent with its solver, guardrails and
// signal readers. Throws ConfigError (an adapter's, located) or std::invalid_argument.
void build_as_run_would(const TuningConfig& config, const std::string& file) {
  boost::asio::io_context io;
  std::vector<std::unique_ptr<Adapter>> adapters;
  for (const auto& entry : config.adapters) {
    // A callback adapter is the host's, which validate cannot be; everything else is built.
    if (entry.kind == AdapterKind::callback) continue;
    adapters.push_back(make_standalone_adapter(io.get_executor(), entry, file));
  }
  AgentOptions options;
  options.control_server = false;
  Agent agent(io.get_executor(), config, std::move(options));
  for (auto& adapter : adapters) agent.add_adapter(std::move(adapter));
}

std::string show(const Amount& amount) { return show(amount.value) + (amount.percent ? "%" : ""); }

// Every effective guardrail value, and where it came from: the default, the preset, or the line
// of the file that sets it.
void explain(const TuningConfig& config, std::ostream& out) {
  const auto& policy = config.policy;
  const auto& g = policy.guardrails;
  const auto& origins = config.guardrail_origins.by_key;
  out << "\nmode: " << mode_name(policy.mode) << "\n"
      << "guardrails (preset " << preset_name(config.guardrail_origins.preset)
      << "), effective values and where each comes from:\n";
  auto line = [&](const std::string& key, const std::string& value) {
    const auto origin = origins.find(key);
    out << "  " << std::left << std::setw(28) << key << std::setw(14) << value
        << (origin == origins.end() ? "default" : origin->second) << '\n';
  };
  for (std::size_t i = 0; i < config.space.size(); ++i) {
    const auto& param = config.space.params()[i];
    if (std::holds_alternative<CategoricalChoices>(param.domain)) continue; // a label has no distance to limit
    const auto& limit = g.max_delta.at(i);
    line("max_delta." + param.name, limit ? show(*limit) : "unlimited");
  }
  line("max_updates_per_second", show(g.max_updates_per_second));
  line("min_dwell", show(g.min_dwell));
  line("max_rollbacks_per_hour", std::to_string(g.max_rollbacks_per_hour));
  line("required_improvement", show(policy.required_improvement));
  line("regression_threshold", show(policy.regression_threshold));
  line("confidence", show(policy.confidence));
  line("rollback_on_regression", policy.rollback_on_regression ? "true" : "false");
  line("max_direction_flips", std::to_string(g.max_direction_flips));
  line("safe_mode_recovery", show(policy.safe_mode_recovery));
  line("switchback_pairs", policy.switchback_pairs == 0 ? "0 (off)" : std::to_string(policy.switchback_pairs));
  line("switchback_window", show(policy.switchback_duration));
}

} // namespace

int validate_command(const std::vector<std::string>& args) {
  if (args.size() == 1 && (args[0] == "-h" || args[0] == "--help")) {
    std::cout << "usage: trimtab validate TUNING.yaml [--explain]\n\n"
                 "Loads a tuning config as the agent would and lists every mistake it finds, one\n"
                 "per line as file:line:column: message (exit 2), or prints a summary of what it\n"
                 "will tune and at what pace (exit 0). Every check `trimtab run` makes before it\n"
                 "connects to anything is made: the adapters' and the metrics sources' options\n"
                 "(passwords read), the solver, the signals each source can give. --explain adds\n"
                 "every effective guardrail value and where it comes from: the built-in default,\n"
                 "the preset, or the line that sets it.\n";
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
    try {
      build_as_run_would(config, file);
    } catch (const std::invalid_argument& e) {
      std::cerr << file << ": " << e.what() << '\n';
      return 2;
    }
    std::cout << file << ": ok\n"
              << "  objective:   " << (config.policy.direction == Direction::maximize ? "maximize " : "minimize ")
              << config.policy.objective.text() << '\n'
              << "  signals:     " << config.policy.signals.size() << ", constraints: " << config.policy.constraints.size()
              << '\n'
              << "  params:      " << config.space.size() << " (" << config.space.dimensions() << " cube dimensions)\n"
              << "  adapters:    " << config.adapters.size() << '\n'
              << "  sources:     ";
    for (std::size_t i = 0; i < config.target.sources.size(); ++i)
      std::cout << (i > 0 ? ", " : "") << config.target.sources[i].name << " ("
                << metrics_format_name(config.target.sources[i].format) << ")";
    std::cout << ", every " << human(config.target.interval.count() / 1000.0) << '\n'
              << "  budget:      " << config.policy.budget << " windows\n";
    const auto warning = pace(config, std::cout);
    std::cout << "  applying:    "
              << (!config.policy.enabled                        ? "no (TRIMTAB_ENABLED says off: the agent observes only)"
                  : config.policy.mode == TuningMode::recommend ? "no (mode recommend: the agent measures and recommends)"
                                                                : "yes")
              << '\n' << warning;
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
