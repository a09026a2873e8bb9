// trimtab: tunes live services while they run.

#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include "commands.hpp"

namespace {

constexpr const char* usage = R"(usage: trimtab <command> [options]

Commands:
  demo     tune the bundled demo service under load on loopback, about two minutes:
           trimtab demo [--rate N] [--duration TIME] [--solver bayes|random|grid]
  solve    drive a solver over standard input/output, one JSON object per line:
           trimtab solve --space SPACE.yaml [--solver bayes|random|grid] [--seed N] [--budget N] [--maximize]
  validate check a tuning config and summarise it (exit 2 listing every mistake, located):
           trimtab validate tuning.yaml [--explain]
  run      run the agent: scrape, tune through the adapters, serve /metrics /status and /:
           trimtab run tuning.yaml [--on-exit best|baseline|leave] [--create-token] [--exit-when-done]
  status   print a running agent's status:  trimtab status tuning.yaml [--json]
  pause    stop applying changes:           trimtab pause tuning.yaml
  resume   go on tuning (lifts safe mode):  trimtab resume tuning.yaml
  rollback return to the last known good configuration: trimtab rollback tuning.yaml
  recommend switch to recommend-only (apply nothing): trimtab recommend tuning.yaml
  apply    switch back to tuning:             trimtab apply tuning.yaml
  report   write the study's HTML report from its journal: trimtab report STATE_DIR [OUT.html]
  probe    scrape the target and print each signal, the objective and the constraints:
           trimtab probe tuning.yaml
           or read a metrics exposition and list its families:
           trimtab probe --file metrics.prom [--format prometheus|openmetrics]

Options:
  -h, --help       show this help (trimtab <command> --help for a command's options)
  -V, --version    show trimtab's version
)";

} // namespace

int main(int argc, char** argv) {
  // A full disk or a file size limit must reach the journal as an error it handles (it cuts the
  // file back and applies nothing unrecorded), not kill the agent with SIGXFSZ; a peer that hangs
  // up is an error on that connection, not SIGPIPE for the process.
  std::signal(SIGXFSZ, SIG_IGN);
  std::signal(SIGPIPE, SIG_IGN);
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << usage;
    return 1;
  }
  const auto& command = args.front();
  if (command == "-h" || command == "--help") {
    std::cout << usage;
    return 0;
  }
  if (command == "-V" || command == "--version") {
    std::cout << "trimtab " << TRIMTAB_VERSION << '\n';
    return 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (command == "solve") return trimtab::cli::solve_command(rest);
  if (command == "probe") return trimtab::cli::probe_command(rest);
  if (command == "validate") return trimtab::cli::validate_command(rest);
  if (command == "run") return trimtab::cli::run_command(rest);
  if (command == "status" || command == "pause" || command == "resume" || command == "rollback" ||
      command == "recommend" || command == "apply")
    return trimtab::cli::control_command(command, rest);
  if (command == "report") return trimtab::cli::report_command(rest);
  if (command == "demo") return trimtab::cli::demo_command(rest);
  std::cerr << "trimtab: unknown command '" << command << "'\n\n" << usage;
  return 1;
}
