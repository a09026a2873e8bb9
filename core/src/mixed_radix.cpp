#include "mixed_radix.hpp"

namespace trimtab::detail {

std::optional<std::uint64_t> product_size(const std::vector<std::vector<Value>>& levels) noexcept {
  std::uint64_t total = 1;
  for (const auto& values : levels)
    if (__builtin_mul_overflow(total, static_cast<std::uint64_t>(values.size()), &total)) return std::nullopt;
  return total;
}

Point product_point(const std::vector<std::vector<Value>>& levels, std::uint64_t index) {
  Point point;
  point.values.reserve(levels.size());
  for (const auto& values : levels) {
    point.values.push_back(values[index % values.size()]);
    index /= values.size();
  }
  return point;
}

} // namespace trimtab::detail
