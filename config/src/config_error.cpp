#include <trimtab/config/config_error.hpp>

namespace trimtab {
namespace {

std::string locate(const std::string& file, std::size_t line, std::size_t column, const std::string& message) {
  if (line == 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

} // namespace

ConfigError::ConfigError(std::string file, std::size_t line, std::size_t column, const std::string& message)
    : std::runtime_error(locate(file, line, column, message)), file_(std::move(file)), line_(line), column_(column) {}

} // namespace trimtab
