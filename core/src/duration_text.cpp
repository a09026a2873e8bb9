#include <trimtab/core/duration_text.hpp>

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <optional>
#include <utility>

#include "quoted.hpp"

namespace trimtab {
namespace {

// Units in the order a compound duration must use them ("1h30m", not "30m1h").
constexpr std::array<std::pair<std::string_view, double>, 4> duration_units{{
    {"h", 3'600'000.0}, {"m", 60'000.0}, {"s", 1'000.0}, {"ms", 1.0}}};

using detail::quoted;

// The number at the start of `text` and how many characters it took; nothing when there is none.
std::optional<std::pair<double, std::size_t>> leading_number(std::string_view text) {
  double value = 0.0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value, std::chars_format::fixed);
  if (result.ec != std::errc{} || result.ptr == text.data()) return std::nullopt;
  return std::pair{value, static_cast<std::size_t>(result.ptr - text.data())};
}

} // namespace

std::variant<std::chrono::milliseconds, std::string> parse_duration(std::string_view text) {
  const auto original = text;
  if (text.empty()) return std::string("a duration is empty; write it like 30s, 5m or 250ms");
  double total = 0.0;
  std::size_t next_unit = 0; // units must come largest first, each at most once
  while (!text.empty()) {
    const auto number = leading_number(text);
    if (!number || number->first < 0) return quoted(original) + " is not a duration such as 30s, 5m or 250ms";
    text.remove_prefix(number->second);
    std::size_t unit_length = 0;
    while (unit_length < text.size() && std::isalpha(static_cast<unsigned char>(text[unit_length]))) ++unit_length;
    const auto unit = text.substr(0, unit_length);
    if (unit.empty())
      return quoted(original) + " has no unit: write 30s or 30ms (a bare number could mean either)";
    std::size_t index = next_unit;
    while (index < duration_units.size() && duration_units[index].first != unit) ++index;
    if (index == duration_units.size()) {
      for (const auto& [name, scale] : duration_units)
        if (name == unit) return quoted(original) + ": units must go from largest to smallest, as in 1m30s";
      return quoted(original) + ": unknown unit " + quoted(unit) + " (use h, m, s or ms)";
    }
    total += number->first * duration_units[index].second;
    next_unit = index + 1;
    text.remove_prefix(unit_length);
  }
  if (!std::isfinite(total) || total > 1e15) return quoted(original) + " is too long a duration";
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(total)));
}

} // namespace trimtab
