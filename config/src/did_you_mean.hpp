#pragma once

// Internal: suggestions for misspelt keys.

#include <span>
#include <string>
#include <string_view>

namespace trimtab::detail {

/// " (did you mean 'X'?)" for the candidate closest to `word` by edit distance, when it is close
/// enough to be a plausible typo; an empty string otherwise.
[[nodiscard]] std::string did_you_mean(std::string_view word, std::span<const std::string_view> candidates);

} // namespace trimtab::detail
