#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <trimtab/core/trend.hpp>

using namespace trimtab;

namespace {

/// Deterministic noise in [-1, 1): a 64-bit LCG's top bits.
class Noise {
public:
  explicit Noise(std::uint64_t seed) : state_(seed) {}
  double next() {
    state_ = state_ * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state_ >> 11) / 4503599627370496.0 - 1.0; // 2^52: [0, 2) - 1
  }

private:
  std::uint64_t state_;
};

std::vector<std::size_t> flagged(const std::vector<bool>& flags) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < flags.size(); ++i)
    if (flags[i]) out.push_back(i);
  return out;
}

} // namespace

BOOST_AUTO_TEST_SUITE(trend)

BOOST_AUTO_TEST_CASE(a_clean_linear_rise_has_its_slope) {
  std::vector<double> values;
  for (int i = 0; i < 10; ++i) values.push_back(5.0 + 2.5 * i);
  const auto result = analyse_trend(values);
  BOOST_REQUIRE(result);
  BOOST_TEST(result->count == 10u);
  BOOST_TEST(result->slope == 2.5, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(result->mann_kendall_s == 45.0);
  // Var(S) = 10·9·25 / 18 = 125, z = (45 - 1) / √125.
  BOOST_TEST(result->p_value == std::erfc(44 / std::sqrt(125.0) / std::sqrt(2.0)), boost::test_tools::tolerance(1e-9));
  BOOST_TEST(result->p_value < 1e-4);
  BOOST_TEST(result->direction == 1);
  BOOST_TEST(trend_label(result->direction, Goodness::higher_better) == std::string("improving"));
  BOOST_TEST(trend_label(result->direction, Goodness::lower_better) == std::string("degrading"));
  BOOST_TEST(trend_label(result->direction, Goodness::unknown) == std::string("rising"));
}

BOOST_AUTO_TEST_CASE(flat_noise_is_stable) {
  Noise noise(42);
  std::vector<double> values;
  for (int i = 0; i < 20; ++i) values.push_back(100.0 + 3.0 * noise.next());
  const auto result = analyse_trend(values);
  BOOST_REQUIRE(result);
  BOOST_TEST(result->p_value > 0.05);
  BOOST_TEST(result->direction == 0);
  BOOST_TEST(std::abs(result->slope) < 0.3);
  for (const auto goodness : {Goodness::higher_better, Goodness::lower_better, Goodness::unknown})
    BOOST_TEST(trend_label(result->direction, goodness) == std::string("stable"));
}

BOOST_AUTO_TEST_CASE(one_huge_outlier_does_not_flip_the_slope) {
  std::vector<double> values;
  for (int i = 0; i < 12; ++i) values.push_back(50.0 - i); // falling by 1 per window
  values[3] = 1.0e6;                                       // one wild window early on
  const auto result = analyse_trend(values);
  BOOST_REQUIRE(result);
  BOOST_TEST(result->slope == -1.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(result->direction == -1);

  values[3] = 47;
  values[11] = -1.0e6; // and one at the end, the other way
  const auto late = analyse_trend(values);
  BOOST_REQUIRE(late);
  BOOST_TEST(late->slope == -1.0, boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(falling_on_a_lower_better_signal_is_improving) {
  const std::vector<double> p99{240, 231, 236, 220, 214, 219, 205, 198, 201, 190};
  const auto result = analyse_trend(p99);
  BOOST_REQUIRE(result);
  BOOST_TEST(result->direction == -1);
  BOOST_TEST(result->slope < 0);
  BOOST_TEST(trend_label(result->direction, Goodness::lower_better) == std::string("improving"));
  BOOST_TEST(trend_label(result->direction, Goodness::higher_better) == std::string("degrading"));
  BOOST_TEST(trend_label(result->direction, Goodness::unknown) == std::string("falling"));
}

BOOST_AUTO_TEST_CASE(ties_reduce_the_variance) {
  // Four pairs of ties: S = 28 - 4 = 24, Var(S) = (8·7·21 - 4·2·1·9) / 18 = 61⅓.
  const std::vector<double> values{1, 1, 2, 2, 3, 3, 4, 4};
  const auto result = analyse_trend(values);
  BOOST_REQUIRE(result);
  BOOST_TEST(result->mann_kendall_s == 24.0);
  BOOST_TEST(result->p_value == std::erfc(23 / std::sqrt(1104.0 / 18) / std::sqrt(2.0)),
             boost::test_tools::tolerance(1e-9));
  BOOST_TEST(result->direction == 1);

  // Every value equal: no variance, no trend, never a division by zero.
  const std::vector<double> constant(9, 7.0);
  const auto flat = analyse_trend(constant);
  BOOST_REQUIRE(flat);
  BOOST_TEST(flat->mann_kendall_s == 0.0);
  BOOST_TEST(flat->p_value == 1.0);
  BOOST_TEST(flat->slope == 0.0);
  BOOST_TEST(flat->direction == 0);

  // Mostly tied: a significant S but a zero median slope is no trend.
  const std::vector<double> steps{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2};
  const auto step = analyse_trend(steps);
  BOOST_REQUIRE(step);
  BOOST_TEST(step->p_value < 0.05);
  BOOST_TEST(step->slope == 0.0);
  BOOST_TEST(step->direction == 0);
}

BOOST_AUTO_TEST_CASE(fewer_than_four_values_give_nothing) {
  BOOST_TEST(!analyse_trend(std::vector<double>{}));
  BOOST_TEST(!analyse_trend(std::vector<double>{1, 2, 3}));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  BOOST_TEST(!analyse_trend(std::vector<double>{1, nan, 2, 3})); // three finite
  const auto gap = analyse_trend(std::vector<double>{1, nan, 3, 4, 5});
  BOOST_REQUIRE(gap);
  BOOST_TEST(gap->count == 4u);
  BOOST_TEST(gap->slope == 1.0); // positions kept: per window, not per value
}

BOOST_AUTO_TEST_CASE(a_spike_is_flagged_and_noise_is_not) {
  Noise noise(7);
  std::vector<double> values;
  for (int i = 0; i < 30; ++i) values.push_back(1000.0 + 10.0 * (noise.next() + noise.next())); // within ±20
  values[17] = 1400; // 20 times the noise's reach
  const auto flags = flag_anomalies(values);
  BOOST_REQUIRE(flags.size() == values.size());
  BOOST_TEST(flagged(flags) == std::vector<std::size_t>{17}, boost::test_tools::per_element());

  // A dip the other way too, and the spike before it does not hide it.
  values[20] = 600;
  BOOST_TEST(flagged(flag_anomalies(values)) == (std::vector<std::size_t>{17, 20}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(nothing_flagged_in_the_first_five) {
  const std::vector<double> values{1, 1000, -1000, 5, 1e9, 3, 2};
  const auto flags = flag_anomalies(values);
  for (std::size_t i = 0; i < 5; ++i) BOOST_TEST(!flags[i]);
  BOOST_TEST(!flags[5]); // median 5 of {1, 1000, -1000, 5, 1e9}: MAD is huge
  BOOST_TEST(flag_anomalies(std::vector<double>{}).empty());
}

BOOST_AUTO_TEST_CASE(constant_history_uses_a_floor) {
  // A quantised signal repeating one value: MAD is 0. A 0.5% move is not an anomaly, a 10% jump is.
  std::vector<double> values(8, 250.0);
  values.push_back(251.25);
  values.push_back(275.0);
  BOOST_TEST(flagged(flag_anomalies(values)) == std::vector<std::size_t>{9}, boost::test_tools::per_element());

  // Zero errors, then some: any non-zero value stands out.
  std::vector<double> errors(6, 0.0);
  errors.push_back(0.001);
  BOOST_TEST(flag_anomalies(errors).back());

  // Only the lookback counts: an old regime does not make a new value look normal.
  std::vector<double> shifted(10, 10.0);
  for (int i = 0; i < 10; ++i) shifted.push_back(20.0);
  const auto flags = flag_anomalies(shifted, 5);
  BOOST_TEST(flags[10]);  // the jump
  BOOST_TEST(!flags[19]); // five windows later it is the new normal
}

BOOST_AUTO_TEST_SUITE_END()
