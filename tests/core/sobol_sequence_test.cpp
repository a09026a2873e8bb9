#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <boost/random/sobol.hpp>

#include <trimtab/core/sobol_sequence.hpp>

using trimtab::SobolSequence;

namespace {

using Points = std::vector<std::vector<double>>;

Points draw(SobolSequence& sequence, std::size_t count) {
  Points points;
  points.reserve(count);
  for (std::size_t i = 0; i < count; ++i) points.push_back(sequence.next());
  return points;
}

Points draw(std::size_t dimensions, std::uint64_t seed, std::size_t count) {
  SobolSequence sequence(dimensions, seed);
  return draw(sequence, count);
}

// Coordinates are multiples of 2^-32, so this recovers the 32-bit fraction exactly.
std::uint32_t fraction_bits(double x) { return static_cast<std::uint32_t>(std::ldexp(x, 32)); }

// How many of points[first, first + count) fall in each cell of a 2^a by 2^b grid over
// dimensions x and y, sorted: Owen scrambling permutes the cells of such grids, so the sorted
// counts are the same for the scrambled and the plain sequence.
std::vector<int> grid_counts(const std::vector<std::pair<std::uint32_t, std::uint32_t>>& points, unsigned a,
                             unsigned b) {
  std::vector<int> counts(std::size_t{1} << (a + b), 0);
  for (const auto& [x, y] : points) {
    const std::uint64_t column = a == 0 ? 0 : x >> (32 - a);
    const std::uint64_t row = b == 0 ? 0 : y >> (32 - b);
    ++counts[(row << a) | column];
  }
  std::sort(counts.begin(), counts.end());
  return counts;
}

std::vector<std::pair<std::uint32_t, std::uint32_t>> project(const Points& points, std::size_t first,
                                                             std::size_t count, std::size_t x, std::size_t y) {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> projected;
  for (std::size_t i = first; i < first + count; ++i)
    projected.emplace_back(fraction_bits(points[i][x]), fraction_bits(points[i][y]));
  return projected;
}

// True when points[first, first + 2^k) put exactly one point in each of the 2^k cells of every
// 2^a by 2^(k - a) grid over dimensions x and y.
bool is_stratified(const Points& points, std::size_t first, unsigned k, std::size_t x, std::size_t y) {
  const auto projected = project(points, first, std::size_t{1} << k, x, y);
  for (unsigned a = 0; a <= k; ++a) {
    const auto counts = grid_counts(projected, a, k - a);
    if (counts.front() != 1 || counts.back() != 1) return false;
  }
  return true;
}

// True when points[first, first + bins) put one coordinate d in each of `bins` equal intervals.
bool one_per_bin(const Points& points, std::size_t first, std::size_t bins, std::size_t d) {
  std::vector<int> counts(bins, 0);
  for (std::size_t i = first; i < first + bins; ++i) {
    const auto bin = static_cast<std::size_t>(points[i][d] * static_cast<double>(bins));
    if (bin >= bins) return false;
    ++counts[bin];
  }
  return std::all_of(counts.begin(), counts.end(), [](int count) { return count == 1; });
}

} // namespace

BOOST_AUTO_TEST_SUITE(sobol_sequence)

BOOST_AUTO_TEST_CASE(covers_at_least_1024_dimensions) {
  BOOST_TEST(SobolSequence::max_dimensions >= 1024U);
}

BOOST_AUTO_TEST_CASE(rejects_zero_and_too_many_dimensions) {
  BOOST_CHECK_THROW(SobolSequence(0, 1), std::invalid_argument);
  BOOST_CHECK_THROW(SobolSequence(SobolSequence::max_dimensions + 1, 1), std::invalid_argument);
  try {
    SobolSequence sequence(SobolSequence::max_dimensions + 1, 1);
    BOOST_FAIL("expected std::invalid_argument");
  } catch (const std::invalid_argument& error) {
    BOOST_TEST(std::string(error.what()).find("between 1 and") != std::string::npos);
  }
  BOOST_CHECK_NO_THROW(SobolSequence(1, 1));
  BOOST_CHECK_NO_THROW(SobolSequence(SobolSequence::max_dimensions, 1));
}

BOOST_AUTO_TEST_CASE(next_rejects_a_wrongly_sized_output) {
  SobolSequence sequence(3, 5);
  std::vector<double> small(2), large(4);
  BOOST_CHECK_THROW(sequence.next(small), std::invalid_argument);
  BOOST_CHECK_THROW(sequence.next(large), std::invalid_argument);
  BOOST_CHECK_THROW(sequence.next(std::span<double>{}), std::invalid_argument);
  BOOST_TEST(sequence.drawn() == 0U);
}

BOOST_AUTO_TEST_CASE(counts_what_it_draws) {
  SobolSequence sequence(4, 9);
  BOOST_TEST(sequence.dimensions() == 4U);
  BOOST_TEST(sequence.drawn() == 0U);
  std::vector<double> point(4);
  sequence.next(point);
  BOOST_TEST(sequence.next().size() == 4U);
  BOOST_TEST(sequence.drawn() == 2U);
}

BOOST_AUTO_TEST_CASE(same_seed_gives_the_same_points) {
  BOOST_TEST((draw(7, 123, 1000) == draw(7, 123, 1000)));
  // Both forms of next() walk the same sequence.
  SobolSequence by_span(7, 123);
  const auto by_vector = draw(7, 123, 100);
  std::vector<double> point(7);
  for (const auto& expected : by_vector) {
    by_span.next(point);
    BOOST_TEST((point == expected));
  }
}

BOOST_AUTO_TEST_CASE(points_are_pinned_across_builds) {
  // The header promises the same points on every machine: these change only if the direction
  // numbers, the scramble or the seed mixing change.
  const std::vector<std::vector<std::uint32_t>> expected = {
      {0xbc5e437dU, 0x0b55c968U, 0x9db989b9U}, {0x0159f7ccU, 0x9164cb2fU, 0x2c1f0280U},
      {0x4d5eb7a1U, 0x4409d926U, 0xd6a90d0eU}, {0xee479a29U, 0xd26f866fU, 0x7ed17c2cU},
      {0xd8ccf391U, 0x641980ceU, 0x0273d951U}, {0x70478839U, 0xea6a5d08U, 0xbb181dedU},
      {0x3a37b0b2U, 0x2923c6b7U, 0x5bc201b5U}, {0x8326fbb7U, 0xa213a303U, 0xf1110323U}};
  SobolSequence sequence(3, 2024);
  for (const auto& want : expected) {
    const auto point = sequence.next();
    std::vector<std::uint32_t> got;
    for (double x : point) got.push_back(fraction_bits(x));
    BOOST_TEST(got == want, boost::test_tools::per_element());
  }
}

BOOST_AUTO_TEST_CASE(different_seeds_give_different_points) {
  const std::vector<std::uint64_t> seeds = {0, 1, 2, 3, 42, 0xffffffffULL, 0x100000000ULL, ~std::uint64_t{0}};
  std::vector<Points> sequences;
  for (auto seed : seeds) sequences.push_back(draw(8, seed, 4));
  for (std::size_t i = 0; i < seeds.size(); ++i)
    for (std::size_t j = i + 1; j < seeds.size(); ++j)
      for (std::size_t d = 0; d < 8; ++d) {
        bool differs = false;
        for (std::size_t n = 0; n < 4; ++n) differs = differs || sequences[i][n][d] != sequences[j][n][d];
        BOOST_TEST(differs, "seeds " << seeds[i] << " and " << seeds[j] << " agree in dimension " << d + 1);
      }
}

BOOST_AUTO_TEST_CASE(each_seed_and_dimension_gets_its_own_scramble) {
  // The unscrambled first point is the origin, so its scrambled coordinates show the scrambles
  // directly: a repeat would mean two (seed, dimension) pairs share one (a 2^-32 chance each if the
  // scrambles are independent).
  std::set<double> first_coordinates;
  for (std::uint64_t seed = 0; seed < 16; ++seed) {
    const auto first = draw(16, seed, 1).front();
    first_coordinates.insert(first.begin(), first.end());
  }
  BOOST_TEST(first_coordinates.size() == 16U * 16U);
}

BOOST_AUTO_TEST_CASE(the_scramble_spreads_the_first_point_uniformly_over_seeds) {
  // Unscrambled, every Sobol sequence starts at the origin; scrambled, the first point should be
  // uniform over seeds. 4096 seeds in 16 bins: expect 256 each, with a standard deviation near 15.5.
  std::vector<int> bins(16, 0);
  double sum = 0;
  for (std::uint64_t seed = 0; seed < 4096; ++seed) {
    const double x = draw(2, seed, 1).front()[1];
    ++bins[static_cast<std::size_t>(x * 16)];
    sum += x;
  }
  for (int count : bins) BOOST_TEST((count > 256 - 96 && count < 256 + 96), "bin count " << count);
  BOOST_TEST(std::abs(sum / 4096 - 0.5) < 0.02);
}

BOOST_AUTO_TEST_CASE(all_values_lie_in_the_unit_interval) {
  for (std::uint64_t seed : {0ULL, 1ULL, 77ULL, 0xfeedfaceULL}) {
    SobolSequence sequence(33, seed);
    for (int n = 0; n < 4096; ++n)
      for (double x : sequence.next()) {
        BOOST_TEST(x >= 0.0);
        BOOST_TEST(x < 1.0);
      }
  }
}

BOOST_AUTO_TEST_CASE(first_two_dimensions_put_one_point_in_every_elementary_interval) {
  // Dimensions 1 and 2 form a (0, 2)-sequence: each aligned block of 2^k points has exactly one point
  // in every 2^a by 2^(k - a) cell. Owen scrambling keeps that.
  for (std::uint64_t seed : {0ULL, 1ULL, 42ULL, 0xdeadbeefULL}) {
    const auto points = draw(2, seed, 2048);
    for (unsigned k = 4; k <= 10; ++k) BOOST_TEST(is_stratified(points, 0, k, 0, 1), "seed " << seed << " k " << k);
    BOOST_TEST(is_stratified(points, 1024, 10, 0, 1), "second block, seed " << seed);
    BOOST_TEST(is_stratified(points, 512, 9, 0, 1), "second half of the first block, seed " << seed);
  }
}

BOOST_AUTO_TEST_CASE(every_dimension_puts_one_point_in_each_of_256_bins) {
  for (std::uint64_t seed : {3ULL, 1234567ULL}) {
    const auto points = draw(64, seed, 512);
    for (std::size_t d = 0; d < 64; ++d) {
      BOOST_TEST(one_per_bin(points, 0, 256, d), "dimension " << d + 1 << ", seed " << seed);
      BOOST_TEST(one_per_bin(points, 256, 256, d), "dimension " << d + 1 << ", second block, seed " << seed);
    }
  }
}

BOOST_AUTO_TEST_CASE(means_are_much_closer_to_one_half_than_random_points_get) {
  // 1024 independent uniforms have a mean within about 0.009 of 1/2 (one standard deviation); a
  // net with one point per 1/1024 interval is within 1/2048.
  const auto points = draw(10, 2718, 1024);
  for (std::size_t d = 0; d < 10; ++d) {
    double sum = 0;
    for (const auto& point : points) sum += point[d];
    BOOST_TEST(std::abs(sum / 1024 - 0.5) < 1e-3, "dimension " << d + 1 << " mean " << sum / 1024);
  }
}

BOOST_AUTO_TEST_CASE(the_last_dimension_works) {
  const auto dimensions = SobolSequence::max_dimensions;
  const auto points = draw(dimensions, 11, 256);
  for (const auto& point : points) {
    BOOST_TEST_REQUIRE(point.size() == dimensions);
    BOOST_TEST(point.back() >= 0.0);
    BOOST_TEST(point.back() < 1.0);
  }
  for (std::size_t d = dimensions - 64; d < dimensions; ++d)
    BOOST_TEST(one_per_bin(points, 0, 256, d), "dimension " << d + 1);
}

BOOST_AUTO_TEST_CASE(scrambled_points_have_the_plain_sequences_two_dimensional_structure) {
  // Boost.Random's unscrambled Sobol generator, which SobolSequence scrambles, is the reference. It
  // skips the origin, so its first 2^k - 1 points plus the origin are the plain
  // sequence's first 2^k. Owen scrambling permutes the cells of every dyadic grid, so how the points
  // share out over each grid must match: a wrong direction number, a broken recurrence or a scramble
  // that is not nested would show up as different counts.
  const std::size_t dimensions = 1024;
  const std::size_t count = 1024;
  Points plain(count, std::vector<double>(dimensions, 0.0));
  boost::random::sobol_engine<std::uint32_t, 32> reference(dimensions);
  for (std::size_t i = 1; i < count; ++i)
    for (std::size_t d = 0; d < dimensions; ++d) plain[i][d] = std::ldexp(static_cast<double>(reference()), -32);
  const auto scrambled = draw(dimensions, 99, count);

  // Every prefix of 2^k points for a sample of pairs, then all 1024 points for each dimension paired
  // with the next one, so every dimension's direction numbers take part.
  std::vector<std::tuple<std::size_t, std::size_t, unsigned>> checks;
  for (const auto& [x, y] : std::vector<std::pair<std::size_t, std::size_t>>{
           {0, 1}, {0, 2}, {1, 2}, {2, 5}, {3, 7}, {4, 12}, {10, 20}, {30, 31}, {62, 63}, {99, 100},
           {200, 777}, {480, 481}, {481, 482}, {511, 900}, {1000, 1023}, {1022, 1023}, {0, 1023}})
    for (unsigned k = 1; k < 10; ++k) checks.emplace_back(x, y, k);
  for (std::size_t x = 0; x + 1 < dimensions; ++x) checks.emplace_back(x, x + 1, 10);
  for (const auto& [x, y, k] : checks) {
    const std::size_t n = std::size_t{1} << k;
    const auto plain_projection = project(plain, 0, n, x, y);
    const auto scrambled_projection = project(scrambled, 0, n, x, y);
    for (unsigned a = 0; a <= k; ++a)
      BOOST_TEST((grid_counts(plain_projection, a, k - a) == grid_counts(scrambled_projection, a, k - a)),
                 "dimensions " << x + 1 << " and " << y + 1 << ", " << n << " points, 2^" << a << " by 2^" << k - a);
  }
  // And the scramble did something: no coordinate of the first point stays at the origin.
  for (double x : scrambled.front()) BOOST_TEST(x != 0.0);
}

BOOST_AUTO_TEST_SUITE_END()
