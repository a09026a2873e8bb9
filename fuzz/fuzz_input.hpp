#pragma once

// What several fuzz targets do with libFuzzer's bytes: see them as text, split them into lines,
// and take a leading control byte off; and whether to check for the findings a target steps
// around until they are fixed.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace trimtab::fuzz {

/// The input as text.
[[nodiscard]] inline std::string_view text_of(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// The first byte (0 when there is none), which a target spends on choices rather than content;
/// the rest of the input goes back in `text`.
[[nodiscard]] inline std::uint8_t take_control_byte(std::string_view& text) {
  if (text.empty()) return 0;
  const auto byte = static_cast<std::uint8_t>(text.front());
  text.remove_prefix(1);
  return byte;
}

/// The lines of `text`, split at '\n' (which they do not keep); a text ending in '\n' has an empty
/// last line, as editors count them.
[[nodiscard]] inline std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  for (;;) {
    const auto end = text.find('\n');
    lines.push_back(text.substr(0, end));
    if (end == std::string_view::npos) return lines;
    text.remove_prefix(end + 1);
  }
}

/// True when TRIMTAB_FUZZ_KNOWN_FINDINGS=1: a target then checks for the findings its header
/// describes instead of stepping around them, to reproduce them or to see that they are fixed.
[[nodiscard]] inline bool check_known_findings() {
  static const bool check = [] {
    const char* value = std::getenv("TRIMTAB_FUZZ_KNOWN_FINDINGS");
    return value != nullptr && std::string_view(value) == "1";
  }();
  return check;
}

} // namespace trimtab::fuzz
