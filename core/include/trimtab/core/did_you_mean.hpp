#pragma once

// Suggestions for misspelt names: config keys, solver kinds, expression functions.

#include <span>
#include <string>
#include <string_view>

namespace trimtab {

/// " (did you mean 'X'?)" for the candidate closest to `word` by edit distance (ignoring case),
/// when it is close enough to be a plausible typo; an empty string otherwise.
[[nodiscard]] std::string did_you_mean(std::string_view word, std::span<const std::string_view> candidates);

} // namespace trimtab
