// trimtab run: the standalone agent.

#include <cerrno>
#include <cstring>
#include <iostream>

#include <malloc.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/program_options.hpp>

#include <trimtab/agent/agent.hpp>
#include <trimtab/agent/control_token.hpp>
#include <trimtab/agent/journal.hpp>
#include <trimtab/agent/standalone_adapters.hpp>
#include <trimtab/agent/summary_table.hpp>
#include <trimtab/config/config_error.hpp>

#include "commands.hpp"
#include "log_to_stderr.hpp"
#include "systemd_notify.hpp"

namespace trimtab::cli {
namespace {

namespace po = boost::program_options;

// Feeds systemd's watchdog from the agent's own executor: if that thread stalls, the pings stop
// and systemd restarts the service.
void feed_watchdog(boost::asio::steady_timer& timer, const SystemdNotifier& notifier, std::chrono::microseconds every) {
  timer.expires_after(every);
  timer.async_wait([&timer, &notifier, every](const boost::system::error_code& ec) {
    if (ec) return;
    (void)notifier.notify("WATCHDOG=1");
    feed_watchdog(timer, notifier, every);
  });
}

// --create-token: makes control.token_file when it is missing, so a first start needs no separate
// step; an existing token is kept, since running agents and operators' scripts already hold it.
bool create_token_if_asked(const TuningConfig& config, const po::variables_map& vm) {
  if (!vm.count("create-token") || config.control.token_file.empty() || std::filesystem::exists(config.control.token_file))
    return true;
  std::string error;
  if (create_token_file(config.control.token_file, error)) return true;
  print_error("trimtab run: " + error);
  return false;
}

// Runs the agent until it stops; `reload` says a SIGHUP asked to start again with the config as
// it is now on disk. Everything the agent opened is closed when this returns.
int run_agent(const std::string& path, const po::variables_map& vm, AgentOptions::OnExit on_exit, bool& reload) {
  auto config = load_tuning_config(path);
  if (!create_token_if_asked(config, vm)) return 1;
  boost::asio::io_context io;
  const auto notifier = SystemdNotifier::from_environment();
  AgentOptions agent_options;
  agent_options.log = log_to_stderr(vm.count("quiet") ? LogLevel::warning : LogLevel::info);
  agent_options.on_exit = on_exit;
  Agent* running = nullptr;
  agent_options.on_ready = [&] {
    // Replaying a long journal parses every record at once and then frees them; glibc keeps what
    // was freed mapped unless asked, and a daemon should not sit on its start-up peak for weeks.
    ::malloc_trim(0);
    const auto port = running != nullptr ? running->control_port() : 0;
    const auto error = notifier.notify("READY=1\nSTATUS=tuning " + path +
                                       (port != 0 ? ", control on port " + std::to_string(port) : std::string()));
    if (!error.empty()) print_error("trimtab run: " + error);
  };
  std::vector<std::unique_ptr<Adapter>> adapters;
  for (const auto& entry : config.adapters) adapters.push_back(make_standalone_adapter(io.get_executor(), entry, path));
  std::vector<std::string> params;
  for (const auto& param : config.space.params()) params.push_back(param.name);
  Agent agent(io.get_executor(), std::move(config), std::move(agent_options));
  running = &agent;
  for (auto& adapter : adapters) agent.add_adapter(std::move(adapter));
  const bool exit_when_done = vm.count("exit-when-done") > 0;
  // The study's end: the same table as `trimtab demo`, then either exit or stay on the best.
  agent.set_event_handler([&](const AgentEvent& event) {
    if (event.kind != AgentEventKind::study_done) return;
    boost::asio::post(io, [&] {
      print_summary_table(agent.study_report(), params, std::cout);
      std::cout << (exit_when_done ? "\nstudy done; exiting (--exit-when-done)\n"
                                   : agent.guarding_after_study()
                                         ? "\nstudy done; guarding the best configuration: measured window after window, "
                                           "rolled back to the baseline if it regresses (Ctrl-C stops it)\n"
                                         : "\nstudy done; the agent stays on the best configuration (Ctrl-C stops it)\n")
                << std::flush;
      if (exit_when_done) {
        (void)notifier.notify("STOPPING=1\nSTATUS=study done");
        agent.stop();
      }
    });
  });

  boost::asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
  signals.async_wait([&](const boost::system::error_code& ec, int number) {
    if (ec) return;
    if (number == SIGHUP) {
      // A reload starts the agent again from its journal, which puts back the last known good
      // configuration anyway: stopping leaves the service as it is rather than changing it twice.
      reload = true;
      agent.set_on_exit(AgentOptions::OnExit::leave);
      (void)notifier.notify("RELOADING=1\nSTATUS=reloading " + path);
    } else {
      (void)notifier.notify("STOPPING=1\nSTATUS=stopping");
    }
    agent.stop();
  });
  boost::asio::steady_timer watchdog(io);
  if (const auto interval = notifier.watchdog_interval()) feed_watchdog(watchdog, notifier, *interval / 2);
  int exit_code = 0;
  agent.async_run([&](std::exception_ptr error) {
    signals.cancel();
    watchdog.cancel();
    if (!error) return;
    reload = false;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      print_error(std::string("trimtab run: ") + e.what());
      exit_code = 3;
    }
  });
  io.run();
  return exit_code;
}

} // namespace

int run_command(const std::vector<std::string>& args) {
  po::options_description options("usage: trimtab run TUNING.yaml [options]\n\n"
                                  "Runs the agent: scrapes the target, tunes it through the adapters and serves\n"
                                  "/metrics, /status and / on control.listen. Stops on SIGINT or SIGTERM, leaving\n"
                                  "the service as --on-exit says. SIGHUP starts it again from its journal with the\n"
                                  "config as it is on disk (check it first with trimtab validate). Under systemd\n"
                                  "(Type=notify) it reports READY=1 once the journal is replayed and the control\n"
                                  "server listens, feeds WatchdogSec=, and logs with journald's priorities.\n\nOptions");
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
  const auto on_exit_name = vm["on-exit"].as<std::string>();
  AgentOptions::OnExit on_exit;
  if (on_exit_name == "best") on_exit = AgentOptions::OnExit::last_known_good;
  else if (on_exit_name == "baseline") on_exit = AgentOptions::OnExit::baseline;
  else if (on_exit_name == "leave") on_exit = AgentOptions::OnExit::leave;
  else {
    std::cerr << "trimtab run: --on-exit takes best, baseline or leave, not '" << on_exit_name << "'\n";
    return 1;
  }
  bool reload = false;
  int exit_code;
  try {
    exit_code = run_agent(path, vm, on_exit, reload);
  } catch (const ConfigError& e) {
    print_error(e.what());
    return 2;
  } catch (const std::exception& e) {
    print_error(std::string("trimtab run: ") + e.what());
    return 3;
  }
  if (!reload) return exit_code;
  // The same process (systemd's MainPID) with the same arguments: the journal's lock, the control
  // server's socket and the adapters' connections were all closed when run_agent returned.
  std::vector<std::string> words{"trimtab", "run"};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);
  std::cerr.flush();
  ::execv("/proc/self/exe", argv.data());
  print_error(std::string("trimtab run: cannot start again for the reload: ") + std::strerror(errno));
  return 3;
}

} // namespace trimtab::cli
