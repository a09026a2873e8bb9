#pragma once

#include <cstdint>

namespace trimtab {

/// SplitMix64's increment (Steele, Lea and Flood, 2014): 2^64 over the golden ratio, odd.
inline constexpr std::uint64_t splitmix64_gamma = 0x9e3779b97f4a7c15ULL;

/// SplitMix64's finaliser: a bijection on 64 bits in which every output bit depends on every input
/// bit, so consecutive or otherwise similar inputs come out unrelated. The same on every platform.
constexpr std::uint64_t mix64(std::uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

} // namespace trimtab
