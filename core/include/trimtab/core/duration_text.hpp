#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <variant>

namespace trimtab {

/// Parses a duration as operators write them: "250ms", "30s", "5m", "1h", "1.5s", "1m30s". A bare
/// number is refused: "30" could mean seconds or milliseconds, and a wrong guess changes a window
/// by a factor of a thousand. Returns the duration, or why the text is not one.
[[nodiscard]] std::variant<std::chrono::milliseconds, std::string> parse_duration(std::string_view text);

} // namespace trimtab
