#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

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

} // namespace trimtab
