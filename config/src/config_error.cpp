#include <trimtab/config/config_error.hpp>

#include <stdexcept>

namespace trimtab {
namespace {

std::string locate(const std::string& file, std::size_t line, std::size_t column, const std::string& message) {
  if (line == 0) return file + ": " + message;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

} // namespace

ConfigError::ConfigError(std::string file, std::size_t line, std::size_t column, const std::string& message)
    : std::runtime_error(locate(file, line, column, message)), file_(std::move(file)), line_(line), column_(column) {}

namespace {

std::string list(const std::vector<ConfigError>& errors) {
  std::string out;
  for (const auto& error : errors) {
    if (!out.empty()) out += '\n';
    out += error.what();
  }
  return out;
}

const ConfigError& first_of(const std::vector<ConfigError>& errors) {
  if (errors.empty()) throw std::logic_error("ConfigErrors needs at least one error");
  return errors.front();
}

} // namespace

ConfigErrors::ConfigErrors(std::vector<ConfigError> errors)
    : ConfigError(first_of(errors)), errors_(std::move(errors)) {
  // what() of the base is the first error alone; replace it with the whole list.
  static_cast<std::runtime_error&>(*this) = std::runtime_error(list(errors_));
}

} // namespace trimtab
