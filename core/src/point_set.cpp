#include <trimtab/core/point_set.hpp>

#include <bit>
#include <string>
#include <variant>

#include <trimtab/core/mix64.hpp>

namespace trimtab {
namespace {

std::uint64_t bits_of(const Value& value) noexcept {
  if (const auto* i = std::get_if<std::int64_t>(&value)) return static_cast<std::uint64_t>(*i);
  if (const auto* d = std::get_if<double>(&value)) return std::bit_cast<std::uint64_t>(*d == 0.0 ? 0.0 : *d);
  // FNV-1a over the label's bytes; mix64() spreads the result afterwards.
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const unsigned char c : std::get<std::string>(value)) h = (h ^ c) * 0x100000001b3ULL;
  return h;
}

} // namespace

std::uint64_t PointSet::fingerprint(const Point& point) noexcept {
  std::uint64_t h = mix64(point.values.size());
  // The alternative enters too: the int 1 and the double 1.0 are different points.
  for (const auto& value : point.values) h = mix64(h ^ mix64(bits_of(value) + splitmix64_gamma * (value.index() + 1)));
  return h;
}

} // namespace trimtab
