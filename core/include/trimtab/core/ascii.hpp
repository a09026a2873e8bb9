#pragma once

// Letters and digits as protocols and configuration keys mean them: ASCII only, whatever the
// locale (std::tolower and std::isalnum follow it).

#include <string>

namespace trimtab::ascii {

[[nodiscard]] constexpr char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
[[nodiscard]] constexpr char upper(char c) noexcept { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

[[nodiscard]] inline std::string lower(std::string text) {
  for (auto& c : text) c = lower(c);
  return text;
}

[[nodiscard]] inline std::string upper(std::string text) {
  for (auto& c : text) c = upper(c);
  return text;
}

[[nodiscard]] constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
[[nodiscard]] constexpr bool is_letter(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
[[nodiscard]] constexpr bool is_alnum(char c) noexcept { return is_letter(c) || is_digit(c); }

} // namespace trimtab::ascii
