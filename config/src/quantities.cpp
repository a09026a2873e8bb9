#include <trimtab/config/quantities.hpp>

#include <charconv>
#include <cmath>

namespace trimtab {

std::variant<Amount, std::string> parse_amount(std::string_view text) {
  const auto original = "'" + std::string(text) + "'";
  Amount amount;
  if (!text.empty() && text.back() == '%') {
    amount.percent = true;
    text.remove_suffix(1);
  }
  double value = 0.0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, std::chars_format::fixed);
  if (ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(value))
    return original + " is not an amount such as 10 or 20%";
  if (value < 0) return original + " is negative; a change limit is a size";
  amount.value = value;
  return amount;
}

} // namespace trimtab
