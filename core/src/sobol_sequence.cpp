#include <trimtab/core/sobol_sequence.hpp>

#include <stdexcept>
#include <string>

#include <boost/random/sobol.hpp>

#include <trimtab/core/mix64.hpp>

namespace trimtab {
namespace {

// Mixing the seed before adding the dimension matters: with seed + c * dimension alone, seed s's
// dimension d + 1 would be scrambled exactly like seed s + c's dimension d.
std::uint32_t scramble_seed(std::uint64_t seed, std::size_t dimension) noexcept {
  return static_cast<std::uint32_t>(mix64(mix64(seed) + splitmix64_gamma * static_cast<std::uint64_t>(dimension)) >> 32);
}

constexpr std::uint32_t reverse_bits(std::uint32_t x) noexcept {
  x = ((x >> 1) & 0x55555555U) | ((x & 0x55555555U) << 1);
  x = ((x >> 2) & 0x33333333U) | ((x & 0x33333333U) << 2);
  x = ((x >> 4) & 0x0f0f0f0fU) | ((x & 0x0f0f0f0fU) << 4);
  x = ((x >> 8) & 0x00ff00ffU) | ((x & 0x00ff00ffU) << 8);
  return (x >> 16) | (x << 16);
}

// Burley's variant of the Laine-Karras hash ("Practical Hash-based Owen Scrambling", 2020). Each
// step (adding, multiplying by an odd number, xoring in a multiple of an even number) changes bit i
// only as a function of the bits below i, so the hash is a bijection that flips each bit according
// to the lower ones. Fed bit-reversed fractions, "lower" means "more significant": that is Owen's
// nested uniform scramble, which maps every dyadic interval onto one of the same length and so keeps
// the sequence's stratification.
constexpr std::uint32_t laine_karras_permutation(std::uint32_t x, std::uint32_t seed) noexcept {
  x ^= x * 0x3d20adeaU;
  x += seed;
  x *= (seed >> 16) | 1U;
  x ^= x * 0x05526c56U;
  x ^= x * 0x53a22864U;
  return x;
}

constexpr std::uint32_t owen_scramble(std::uint32_t x, std::uint32_t seed) noexcept {
  return reverse_bits(laine_karras_permutation(reverse_bits(x), seed));
}

// Exact: a 32-bit integer fits a double's mantissa, and the largest, (2^32 - 1) / 2^32, is below 1.
constexpr double to_unit(std::uint32_t x) noexcept { return static_cast<double>(x) * 0x1p-32; }

} // namespace

const std::size_t SobolSequence::max_dimensions = boost::random::default_sobol_table::max_dimension;

std::size_t SobolSequence::checked_dimensions(std::size_t dimensions) {
  if (dimensions == 0 || dimensions > max_dimensions)
    throw std::invalid_argument("SobolSequence: dimensions must be between 1 and " + std::to_string(max_dimensions) +
                                ", got " + std::to_string(dimensions));
  return dimensions;
}

SobolSequence::SobolSequence(std::size_t dimensions, std::uint64_t seed)
    : dimensions_(checked_dimensions(dimensions)), seed_(seed), engine_(dimensions_) {
  scramble_seeds_.resize(dimensions_);
  for (std::size_t d = 0; d < dimensions_; ++d) scramble_seeds_[d] = scramble_seed(seed_, d);
}

void SobolSequence::next(std::span<double> out) {
  if (out.size() != dimensions_)
    throw std::invalid_argument("SobolSequence::next: the output holds " + std::to_string(out.size()) +
                                " values but the sequence has " + std::to_string(dimensions_) + " dimensions");
  // Boost's engine (Joe & Kuo's direction numbers, Gray-code order) starts at point 1, leaving out
  // the all-zero point 0. Scrambled, point 0 is an ordinary point, and without it the first 2^k
  // points would not be one per elementary interval, so it is drawn here.
  for (std::size_t d = 0; d < dimensions_; ++d) {
    const auto plain = index_ == 0 ? std::uint32_t{0} : static_cast<std::uint32_t>(engine_());
    out[d] = to_unit(owen_scramble(plain, scramble_seeds_[d]));
  }
  ++index_;
}

std::vector<double> SobolSequence::next() {
  std::vector<double> point(dimensions_);
  next(point);
  return point;
}

} // namespace trimtab
