#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <boost/random/sobol.hpp>

namespace trimtab {

/// A scrambled Sobol low-discrepancy sequence in [0, 1)^d.
///
/// Points are Owen-scrambled (nested uniform scrambling, done by hashing so nothing is stored per
/// point), which removes the plain sequence's origin point and its axis-aligned artefacts while
/// keeping its stratification: every prefix of 2^k points still puts one point in each elementary
/// interval. The same (dimensions, seed) gives the same points on every machine.
class SobolSequence {
public:
  /// The largest number of dimensions the direction numbers cover (Boost.Random's table).
  static const std::size_t max_dimensions;

  /// Throws std::invalid_argument when `dimensions` is 0 or above max_dimensions.
  SobolSequence(std::size_t dimensions, std::uint64_t seed);

  [[nodiscard]] std::size_t dimensions() const noexcept { return dimensions_; }
  /// How many points have been drawn so far.
  [[nodiscard]] std::uint64_t drawn() const noexcept { return index_; }

  /// Writes the next point into `out`, which must hold dimensions() values.
  void next(std::span<double> out);
  [[nodiscard]] std::vector<double> next();

private:
  std::size_t dimensions_;
  std::uint64_t seed_;
  std::uint64_t index_ = 0;
  // Boost.Random's unscrambled Sobol engine: Joe & Kuo's direction numbers, 32-bit fractions.
  using Engine = boost::random::sobol_engine<std::uint32_t, 32>;
  static std::size_t checked_dimensions(std::size_t dimensions);

  Engine engine_;
  // Per dimension: the seed of its Owen scramble, derived from (seed, dimension).
  std::vector<std::uint32_t> scramble_seeds_;
};

} // namespace trimtab
