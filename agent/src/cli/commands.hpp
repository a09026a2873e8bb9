#pragma once

// The `trimtab` subcommands; each takes the arguments after its name and returns the exit code.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/program_options/options_description.hpp>
#include <boost/program_options/variables_map.hpp>

namespace trimtab::cli {

/// Parses a command's options into `vm`. Returns the exit code when the command is done already:
/// 0 after printing --help, 1 after a usage error (named on stderr); nothing to go on.
[[nodiscard]] std::optional<int> parse_options(std::string_view command, const std::vector<std::string>& args,
                                               const boost::program_options::options_description& options,
                                               boost::program_options::variables_map& vm);

/// The same, with one positional argument (a config file, say) stored in vm under `positional`;
/// it is not listed in --help, where the usage line names it.
[[nodiscard]] std::optional<int> parse_options(std::string_view command, const std::vector<std::string>& args,
                                               const boost::program_options::options_description& options,
                                               boost::program_options::variables_map& vm, const char* positional);

int solve_command(const std::vector<std::string>& args);
int probe_command(const std::vector<std::string>& args);
int validate_command(const std::vector<std::string>& args);
int run_command(const std::vector<std::string>& args);
/// status, pause, resume or rollback, sent to a running agent's control server.
int control_command(const std::string& action, const std::vector<std::string>& args);
int report_command(const std::vector<std::string>& args);
/// The demo service tuned on loopback: trimtab's main job.
int demo_command(const std::vector<std::string>& args);

} // namespace trimtab::cli
