// trimtab run: the standalone agent.

#include <iostream>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/program_options.hpp>

#include <trimtab/agent/agent.hpp>
#include <trimtab/agent/control_server.hpp>
#include <trimtab/agent/journal.hpp>
#include <trimtab/agent/standalone_adapters.hpp>
#include <trimtab/agent/summary_table.hpp>
#include <trimtab/config/config_error.hpp>

#include "commands.hpp"
#include "log_to_stderr.hpp"

namespace trimtab::cli {

namespace po = boost::program_options;

int run_command(const std::vector<std::string>& args) {
  po::options_description options("usage: trimtab run TUNING.yaml [options]\n\n"
                                  "Runs the agent: scrapes the target, tunes it through the adapters and serves\n"
                                  "/metrics, /status and / on control.listen. Stops on SIGINT or SIGTERM.\n\nOptions");
  options.add_options()("help,h", "show this help")(
      "on-exit", po::value<std::string>()->value_name("WHAT")->default_value("best"),
      "what the service keeps when the agent stops: best (the last known good configuration), "
      "baseline (what it ran before tuning) or leave (whatever is applied)")(
      "create-token", "create control.token_file (random, mode 0600) if it does not exist")(
      "exit-when-done", "exit (status 0) after the study's summary, instead of guarding the best configuration")(
      "quiet,q", "log warnings and errors only");
  po::variables_map vm;
  if (auto done = parse_options("run", args, options, vm, "config")) return *done;
  if (!vm.count("config")) {
    std::cerr << "trimtab run: expected a tuning config (see trimtab run --help)\n";
    return 1;
  }
  const auto path = vm["config"].as<std::string>();
  try {
    auto config = load_tuning_config(path);
    if (vm.count("create-token") && !config.control.token_file.empty() && !std::filesystem::exists(config.control.token_file)) {
      std::string error;
      if (!create_token_file(config.control.token_file, error)) {
        std::cerr << "trimtab run: " << error << '\n';
        return 1;
      }
    }
    boost::asio::io_context io;
    AgentOptions agent_options;
    agent_options.log = log_to_stderr(vm.count("quiet") ? LogLevel::warning : LogLevel::info);
    const auto on_exit = vm["on-exit"].as<std::string>();
    if (on_exit == "best") agent_options.on_exit = AgentOptions::OnExit::last_known_good;
    else if (on_exit == "baseline") agent_options.on_exit = AgentOptions::OnExit::baseline;
    else if (on_exit == "leave") agent_options.on_exit = AgentOptions::OnExit::leave;
    else {
      std::cerr << "trimtab run: --on-exit takes best, baseline or leave, not '" << on_exit << "'\n";
      return 1;
    }
    std::vector<std::unique_ptr<Adapter>> adapters;
    for (const auto& entry : config.adapters) adapters.push_back(make_standalone_adapter(io.get_executor(), entry, path));
    std::vector<std::string> params;
    for (const auto& param : config.space.params()) params.push_back(param.name);
    Agent agent(io.get_executor(), std::move(config), std::move(agent_options));
    for (auto& adapter : adapters) agent.add_adapter(std::move(adapter));
    const bool exit_when_done = vm.count("exit-when-done") > 0;
    // The study's end: the same table as `trimtab demo`, then either exit or stay on guard.
    agent.set_event_handler([&](const AgentEvent& event) {
      if (event.kind != AgentEventKind::study_done) return;
      boost::asio::post(io, [&] {
        print_summary_table(agent.study_report(), params, std::cout);
        std::cout << (exit_when_done ? "\nstudy done; exiting (--exit-when-done)\n"
                                     : "\nstudy done; the agent stays on the best configuration (Ctrl-C stops it)\n")
                  << std::flush;
        if (exit_when_done) agent.stop();
      });
    });

    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int) {
      if (!ec) agent.stop();
    });
    int exit_code = 0;
    agent.async_run([&](std::exception_ptr error) {
      signals.cancel();
      if (!error) return;
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        std::cerr << "trimtab run: " << e.what() << '\n';
        exit_code = 3;
      }
    });
    io.run();
    return exit_code;
  } catch (const ConfigError& e) {
    std::cerr << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "trimtab run: " << e.what() << '\n';
    return 3;
  }
}

} // namespace trimtab::cli
