#pragma once

#include <string>

namespace trimtab {

/// A number for reasons and log lines: `significant_digits` significant digits, as iostreams
/// print them ("0.0512", "1.2e+03").
[[nodiscard]] std::string number_text(double value, int significant_digits = 3);

} // namespace trimtab
