#pragma once

#include <filesystem>
#include <string>

#include <trimtab/core/space.hpp>

namespace YAML {
class Node;
}

namespace trimtab {

/// Reads the `params:` map of a YAML file (a space file, or a full tuning config) into a Space.
/// Throws ConfigError with file:line:column for unreadable files, YAML syntax errors, unknown keys
/// (with a did-you-mean suggestion), values of the wrong type and invalid parameters.
[[nodiscard]] Space load_space_file(const std::filesystem::path& path);

/// The same for a `params:` node already parsed; `file` names it in errors.
[[nodiscard]] Space parse_space(const YAML::Node& params, const std::string& file);

} // namespace trimtab
