// trimtab demo: the project's main job. Starts the demo service (examples/demo) and its load on
// loopback, tunes it with trimtab embedded through a callback adapter, prints a line per window,
// and ends with a table of the default and the best configuration.

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>
#include <variant>

#include <boost/program_options.hpp>

#include <trimtab/config/config_error.hpp>
#include <trimtab/core/duration_text.hpp>
#include <trimtab/core/make_solver.hpp>
#include <trimtab/demo/demo_run.hpp>

#include "commands.hpp"

namespace trimtab::cli {

namespace po = boost::program_options;

int demo_command(const std::vector<std::string>& args) {
  po::options_description options("usage: trimtab demo [options]\n\n"
                                  "Starts the demo service and a load of --rate requests/s on loopback, tunes the\n"
                                  "service's pool size, batch size, batch timeout and cache size while it runs, and\n"
                                  "prints a line per observation window, then the default and best configurations.\n"
                                  "Ends when the solver's budget is spent or after --duration; Ctrl-C ends it early.\n\n"
                                  "Options");
  options.add_options()("help,h", "show this help")(
      "duration", po::value<std::string>()->value_name("TIME")->default_value("150s"), "the longest the run may take")(
      "rate", po::value<double>()->value_name("N")->default_value(2500), "requests per second of load")(
      "state", po::value<std::string>()->value_name("DIR"), "where the journal and report go (default: a fresh temp dir)")(
      "config", po::value<std::string>()->value_name("FILE"), "a tuning config instead of the bundled one")(
      "solver", po::value<std::string>()->value_name("KIND"), "bayes, random or grid (default: the config's)")(
      "seed", po::value<std::uint64_t>()->value_name("N"), "the solver's seed")(
      "budget", po::value<std::size_t>()->value_name("N"), "configurations to try")(
      "quiet,q", "print the summary only");
  po::variables_map vm;
  if (auto done = parse_options("demo", args, options, vm)) return *done;

  demo::DemoOptions demo_options;
  const auto duration = parse_duration(vm["duration"].as<std::string>());
  if (const auto* problem = std::get_if<std::string>(&duration)) {
    std::cerr << "trimtab demo: --duration: " << *problem << '\n';
    return 1;
  }
  demo_options.duration = std::get<std::chrono::milliseconds>(duration);
  demo_options.rate = vm["rate"].as<double>();
  if (!(demo_options.rate > 0) || demo_options.rate > 1e6) {
    std::cerr << "trimtab demo: --rate must be in (0, 1000000]\n";
    return 1;
  }
  if (vm.count("state")) demo_options.state_dir = vm["state"].as<std::string>();
  if (vm.count("config")) {
    const auto path = vm["config"].as<std::string>();
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) {
      std::cerr << "trimtab demo: cannot read " << path << '\n';
      return 1;
    }
    demo_options.config_yaml = text.str();
    demo_options.config_name = path;
  }
  if (vm.count("solver")) {
    const auto kind = vm["solver"].as<std::string>();
    const auto kinds = solver_kinds();
    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) {
      std::cerr << "trimtab demo: --solver takes " << solver_kinds_text() << ", not '" << kind << "'\n";
      return 1;
    }
    demo_options.solver = kind;
  }
  if (vm.count("seed")) demo_options.seed = vm["seed"].as<std::uint64_t>();
  if (vm.count("budget")) demo_options.budget = vm["budget"].as<std::size_t>();
  if (!vm.count("quiet")) demo_options.progress = &std::cout;
  demo_options.stop_on_signals = true;

  try {
    const auto summary = demo::run_demo(demo_options);
    demo::print_summary(summary, std::cout);
    return summary.windows > 0 ? 0 : 3;
  } catch (const ConfigError& e) {
    std::cerr << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "trimtab demo: " << e.what() << '\n';
    return 3;
  }
}

} // namespace trimtab::cli
