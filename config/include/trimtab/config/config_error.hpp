#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace trimtab {

/// A mistake in a configuration file, located: what() reads "file:line:column: message", the form
/// editors and compilers use, so the place is one click away.
class ConfigError : public std::runtime_error {
public:
  /// `line` and `column` count from 1; 0 means the file as a whole.
  ConfigError(std::string file, std::size_t line, std::size_t column, const std::string& message);

  [[nodiscard]] const std::string& file() const noexcept { return file_; }
  [[nodiscard]] std::size_t line() const noexcept { return line_; }
  [[nodiscard]] std::size_t column() const noexcept { return column_; }

private:
  std::string file_;
  std::size_t line_;
  std::size_t column_;
};

/// Every mistake found in one pass over a file, so an operator fixes them all in one edit. It is a
/// ConfigError located at the first mistake; what() lists each one on a line of its own.
class ConfigErrors : public ConfigError {
public:
  explicit ConfigErrors(std::vector<ConfigError> errors); ///< not empty

  [[nodiscard]] const std::vector<ConfigError>& errors() const noexcept { return errors_; }

private:
  std::vector<ConfigError> errors_;
};

} // namespace trimtab
