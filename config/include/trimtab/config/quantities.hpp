#pragma once

#include <string>
#include <string_view>
#include <variant>

#include <trimtab/core/amount.hpp>

namespace trimtab {

/// Parses "10", "2.5" or "20%" (a percentage must be a finite number >= 0). Returns the amount, or
/// why the text is not one.
[[nodiscard]] std::variant<Amount, std::string> parse_amount(std::string_view text);

} // namespace trimtab
