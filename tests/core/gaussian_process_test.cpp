// White-box tests of the Bayesian solver's numerical pieces.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <random>
#include <vector>

#include "bayes/gaussian_process.hpp"
#include "bayes/noisy_improvement.hpp"
#include "bayes/normal_tail.hpp"
#include "bayes/output_warping.hpp"

using namespace trimtab::detail;

namespace {

GaussianProcess trained_gp(std::size_t dimensions, int points, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Eigen::MatrixXd x(static_cast<Eigen::Index>(dimensions), points);
  Eigen::VectorXd y(points);
  for (int j = 0; j < points; ++j) {
    double s = 0.0;
    for (Eigen::Index d = 0; d < x.rows(); ++d) {
      x(d, j) = u(rng);
      s += std::sin(3.0 * x(d, j) + static_cast<double>(d));
    }
    y[j] = s;
  }
  GaussianProcess gp(dimensions);
  gp.set_data(x, y);
  gp.fit(rng, 1, 100);
  return gp;
}

} // namespace

BOOST_AUTO_TEST_SUITE(gaussian_process)

// Coordinate 0 is a number; 1 and 2 are the indicators of a category with two values. The data
// are measured under the first value only; the question is what they say about the second.
BOOST_AUTO_TEST_CASE(a_category_indicator_starts_correlated_with_the_other_values) {
  Eigen::MatrixXd x(3, 3);
  x << 0.2, 0.5, 0.8, //
      1.0, 1.0, 1.0,  //
      0.0, 0.0, 0.0;
  Eigen::VectorXd y(3);
  y << -1.0, -2.0, 0.0;
  const std::vector<std::size_t> indicators{1, 2};
  GaussianProcess with(3, indicators), without(3);
  for (auto* gp : {&with, &without}) {
    gp->set_data(x, y);
    BOOST_REQUIRE(gp->condition()); // the prior's hyperparameters, not fitted
  }
  BOOST_TEST(with.lengthscale(0) == without.lengthscale(0));
  BOOST_TEST(with.lengthscale(1) == 1.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(without.lengthscale(1) < 0.4);
  const double other_value[3] = {0.5, 0.0, 1.0};
  // The dip measured at 0.5 under the first value carries over, in part, to the second...
  BOOST_TEST(with.predict(other_value).mean < -0.3);
  // ...where at a third of the cube the second value saw nothing of it.
  BOOST_TEST(std::abs(without.predict(other_value).mean) < 0.05);
}

BOOST_AUTO_TEST_CASE(likelihood_gradient_matches_finite_differences) {
  const auto gp = trained_gp(3, 15, 1);
  Eigen::VectorXd theta(5);
  theta << -1.0, -0.5, 0.2, 0.3, -6.0;
  Eigen::VectorXd gradient;
  (void)gp.negative_log_posterior(theta, &gradient);
  for (Eigen::Index k = 0; k < theta.size(); ++k) {
    const double h = 1e-5;
    Eigen::VectorXd up = theta, down = theta;
    up[k] += h;
    down[k] -= h;
    const double numeric = (gp.negative_log_posterior(up, nullptr) - gp.negative_log_posterior(down, nullptr)) / (2 * h);
    BOOST_TEST(gradient[k] == numeric, boost::test_tools::tolerance(1e-4));
  }
}

BOOST_AUTO_TEST_CASE(likelihood_gradient_holds_with_per_point_noise) {
  auto gp = trained_gp(2, 12, 7);
  Eigen::VectorXd share(12), known(12);
  for (Eigen::Index i = 0; i < 12; ++i) {
    share[i] = 1.0 / static_cast<double>(1 + i % 4);
    known[i] = 0.01 * static_cast<double>(i % 3);
  }
  gp.set_data(gp.inputs(), gp.targets(), share, known);
  Eigen::VectorXd theta(4);
  theta << -1.2, -0.4, 0.1, -3.0;
  Eigen::VectorXd gradient;
  (void)gp.negative_log_posterior(theta, &gradient);
  for (Eigen::Index k = 0; k < theta.size(); ++k) {
    const double h = 1e-5;
    Eigen::VectorXd up = theta, down = theta;
    up[k] += h;
    down[k] -= h;
    const double numeric = (gp.negative_log_posterior(up, nullptr) - gp.negative_log_posterior(down, nullptr)) / (2 * h);
    BOOST_TEST(gradient[k] == numeric, boost::test_tools::tolerance(1e-4));
  }
}

BOOST_AUTO_TEST_CASE(a_point_with_a_small_standard_error_weighs_more) {
  // Two measurements of the same input disagree, +1 and -1: the posterior follows the precise one.
  Eigen::MatrixXd x(1, 4);
  x << 0.5, 0.5, 0.0, 1.0;
  Eigen::VectorXd y(4);
  y << 1.0, -1.0, 0.0, 0.0;
  const double at[1] = {0.5};
  const auto posterior_mean = [&](double known_first, double known_second) {
    GaussianProcess gp(1);
    Eigen::VectorXd known(4);
    known << known_first, known_second, 0.0, 0.0;
    gp.set_data(x, y, Eigen::VectorXd::Ones(4), known);
    BOOST_REQUIRE(gp.condition());
    return gp.predict(at).mean;
  };
  BOOST_TEST(posterior_mean(1e-4, 1.0) > 0.9);
  BOOST_TEST(posterior_mean(1.0, 1e-4) < -0.9);
  BOOST_TEST(std::abs(posterior_mean(0.5, 0.5)) < 1e-6);
}

BOOST_AUTO_TEST_CASE(noisy_improvement_prefers_a_well_measured_region_to_a_lucky_draw) {
  // A lucky single measurement at 0.15 (-1.2, standard error 0.3) between exact neighbours at 0;
  // a well-measured good region around 0.65 (-0.85, exact).
  Eigen::MatrixXd x(1, 7);
  x << 0.0, 0.15, 0.3, 0.6, 0.65, 0.7, 1.0;
  Eigen::VectorXd y(7), known = Eigen::VectorXd::Zero(7);
  y << 0.0, -1.2, 0.0, -0.8, -0.9, -0.8, 0.0;
  known[1] = 0.09;
  GaussianProcess gp(1);
  gp.set_data(x, y, Eigen::VectorXd::Ones(7), known);
  BOOST_REQUIRE(gp.condition());
  const NoisyExpectedImprovement nei(gp, x, {0, 1, 2, 3, 4, 5, 6}, 1);
  // The samples' incumbents spread around the lucky point's posterior and the good region's value.
  BOOST_TEST(nei.incumbents().maxCoeff() < -0.85);
  BOOST_TEST(nei.incumbents().minCoeff() < -0.95);
  const auto at = [&](double where) { return nei.log_value(gp, &where, nullptr); };
  // Measuring the lucky configuration again promises far less than a new point beside the
  // well-measured region (about e^-15 against e^-12), though the lucky measurement is the lowest:
  // in the samples where it is the incumbent, its fantasy is exact there.
  BOOST_TEST(at(0.15) < at(0.8) - 2.0);
  // Where a sample's fantasy goes through an exact measurement, nothing is left to gain.
  BOOST_TEST(at(0.65) < at(0.8) - 0.1);
  // Batch scoring agrees with one-at-a-time, and the gradient with finite differences.
  Eigen::MatrixXd grid(1, 3);
  grid << 0.15, 0.5, 0.675;
  Eigen::VectorXd batch;
  nei.log_values(gp, grid, batch);
  for (Eigen::Index j = 0; j < 3; ++j) BOOST_TEST(batch[j] == at(grid(0, j)), boost::test_tools::tolerance(1e-9));
  for (double where : {0.45, 0.8}) {
    double gradient = 0.0;
    (void)nei.log_value(gp, &where, &gradient);
    const double h = 1e-6;
    BOOST_TEST(gradient == (at(where + h) - at(where - h)) / (2 * h), boost::test_tools::tolerance(1e-4));
  }
}

BOOST_AUTO_TEST_CASE(prediction_gradients_match_finite_differences) {
  const auto gp = trained_gp(4, 20, 2);
  const double x[4] = {0.3, 0.6, 0.1, 0.8};
  double dm[4], dv[4];
  (void)gp.predict(x, dm, dv);
  for (int c = 0; c < 4; ++c) {
    const double h = 1e-6;
    double up[4], down[4];
    std::copy(x, x + 4, up);
    std::copy(x, x + 4, down);
    up[c] += h;
    down[c] -= h;
    const auto pu = gp.predict(up), pd = gp.predict(down);
    BOOST_TEST(dm[c] == (pu.mean - pd.mean) / (2 * h), boost::test_tools::tolerance(1e-4));
    BOOST_TEST(dv[c] == (pu.variance - pd.variance) / (2 * h), boost::test_tools::tolerance(1e-3));
  }
}

BOOST_AUTO_TEST_CASE(interpolates_noiseless_data_and_is_uncertain_far_away) {
  const auto gp = trained_gp(2, 25, 3);
  for (Eigen::Index j = 0; j < 25; ++j) {
    const auto p = gp.predict(gp.inputs().col(j).data());
    BOOST_TEST(p.mean == gp.targets()[j], boost::test_tools::tolerance(1e-2));
    BOOST_TEST(p.variance < 1e-3 * gp.signal_variance());
  }
  const double far[2] = {8.0, -7.0};
  BOOST_TEST(gp.predict(far).variance == gp.signal_variance(), boost::test_tools::tolerance(1e-6));
}

BOOST_AUTO_TEST_CASE(learns_noise_from_noisy_data) {
  std::mt19937_64 rng(4);
  std::normal_distribution<double> noise(0.0, 0.3);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Eigen::MatrixXd x(1, 60);
  Eigen::VectorXd y(60);
  for (int j = 0; j < 60; ++j) {
    x(0, j) = u(rng);
    y[j] = std::sin(4 * x(0, j)) + noise(rng);
  }
  GaussianProcess gp(1);
  gp.set_data(x, y);
  gp.fit(rng, 2, 200);
  BOOST_TEST(gp.noise_variance() > 0.03); // about 0.09
  BOOST_TEST(gp.noise_variance() < 0.3);
}

BOOST_AUTO_TEST_CASE(normal_tails_match_the_direct_formulas_and_stay_finite) {
  for (double w : {-4.9, -2.0, 0.0, 1.5, 6.0}) {
    BOOST_TEST(log_normal_cdf(w) == std::log(0.5 * std::erfc(-w / std::sqrt(2.0))), boost::test_tools::tolerance(1e-10));
  }
  // Continuous across the switch to the asymptotic forms.
  BOOST_TEST(log_normal_cdf(-5.0 + 1e-9) == log_normal_cdf(-5.0 - 1e-9), boost::test_tools::tolerance(1e-6));
  BOOST_TEST(log_expected_improvement_factor(-1.0 + 1e-9) == log_expected_improvement_factor(-1.0 - 1e-9),
             boost::test_tools::tolerance(1e-6));
  for (double z : {-0.5, 0.0, 2.0}) {
    const double h = z * 0.5 * std::erfc(-z / std::sqrt(2.0)) + std::exp(-0.5 * z * z) / std::sqrt(2 * M_PI);
    BOOST_TEST(log_expected_improvement_factor(z) == std::log(h), boost::test_tools::tolerance(1e-10));
  }
  // Far in the tail the plain formula is log(0); ours keeps finite values and slopes that point uphill.
  for (double z : {-10.0, -40.0, -1e3, -1e5}) {
    BOOST_TEST(std::isfinite(log_expected_improvement_factor(z)));
    BOOST_TEST(log_expected_improvement_factor_slope(z) > 0.0);
    BOOST_TEST(std::isfinite(log_normal_cdf(z)));
  }
  const double h = 1e-6;
  for (double z : {-30.0, -3.0, -0.2, 1.0}) {
    const double numeric = (log_expected_improvement_factor(z + h) - log_expected_improvement_factor(z - h)) / (2 * h);
    BOOST_TEST(log_expected_improvement_factor_slope(z) == numeric, boost::test_tools::tolerance(1e-5));
    const double numeric_cdf = (log_normal_cdf(z + h) - log_normal_cdf(z - h)) / (2 * h);
    BOOST_TEST(log_normal_cdf_slope(z) == numeric_cdf, boost::test_tools::tolerance(1e-5));
  }
}

BOOST_AUTO_TEST_CASE(warping_slope_matches_finite_differences) {
  std::vector<double> losses{12, 15, 11, 18, 14, 13, 2500, 16, 19, 12.5, 900, 17};
  OutputWarping warping;
  (void)warping.fit(losses);
  for (double loss : {5.0, 13.0, 16.5, 400.0, 3000.0}) {
    const double h = 1e-4 * std::max(1.0, loss);
    BOOST_TEST(warping.slope(loss) == (warping.apply(loss + h) - warping.apply(loss - h)) / (2 * h),
               boost::test_tools::tolerance(1e-5));
  }
}

BOOST_AUTO_TEST_CASE(warping_is_monotone_and_tames_heavy_tails) {
  // Latency-like losses: mostly 10-20 ms, a few spikes to seconds.
  std::vector<double> losses{12, 15, 11, 18, 14, 13, 2500, 16, 19, 12.5, 900, 17};
  OutputWarping warping;
  const auto warped = warping.fit(losses);
  BOOST_TEST(warping.exponent() < 1.0); // compresses the upper tail
  for (std::size_t i = 0; i < losses.size(); ++i)
    for (std::size_t j = 0; j < losses.size(); ++j)
      if (losses[i] < losses[j]) BOOST_TEST(warped[i] < warped[j]);
  // The spike is far less extreme after warping than in standard units before it.
  BOOST_TEST(*std::max_element(warped.begin(), warped.end()) < 3.0);
  BOOST_TEST(warping.apply(2500) == *std::max_element(warped.begin(), warped.end()), boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_SUITE_END()
