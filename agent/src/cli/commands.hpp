#pragma once

// The `trimtab` subcommands; each takes the arguments after its name and returns the exit code.

#include <string>
#include <vector>

namespace trimtab::cli {

int solve_command(const std::vector<std::string>& args);
int probe_command(const std::vector<std::string>& args);
int validate_command(const std::vector<std::string>& args);

} // namespace trimtab::cli
