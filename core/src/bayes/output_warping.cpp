#include "output_warping.hpp"

#include <algorithm>
#include <cmath>

namespace trimtab::detail {
namespace {

// Exponents tried for the power transform; the profile likelihood is smooth in lambda, and a
// step of 0.1 is finer than a few dozen points can tell apart.
constexpr double lambda_min = -2.0, lambda_max = 2.0, lambda_step = 0.1;

double quantile(std::vector<double> values, double q) {
  const auto position = q * static_cast<double>(values.size() - 1);
  const auto below = static_cast<std::size_t>(position);
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(below), values.end());
  const double low = values[below];
  if (below + 1 >= values.size()) return low;
  const double high = *std::min_element(values.begin() + static_cast<std::ptrdiff_t>(below) + 1, values.end());
  return low + (position - static_cast<double>(below)) * (high - low);
}

void mean_and_sd(const std::vector<double>& values, double& mean, double& sd) {
  mean = 0.0;
  for (double v : values) mean += v;
  mean /= static_cast<double>(values.size());
  double ss = 0.0;
  for (double v : values) ss += (v - mean) * (v - mean);
  sd = std::sqrt(ss / static_cast<double>(values.size()));
}

} // namespace

double yeo_johnson(double x, double lambda) {
  if (x >= 0.0) {
    if (std::abs(lambda) < 1e-9) return std::log1p(x);
    return (std::pow(x + 1.0, lambda) - 1.0) / lambda;
  }
  if (std::abs(lambda - 2.0) < 1e-9) return -std::log1p(-x);
  return -(std::pow(1.0 - x, 2.0 - lambda) - 1.0) / (2.0 - lambda);
}

double yeo_johnson_slope(double x, double lambda) {
  return x >= 0.0 ? std::pow(x + 1.0, lambda - 1.0) : std::pow(1.0 - x, 1.0 - lambda);
}

std::vector<double> OutputWarping::fit(const std::vector<double>& losses) {
  const auto n = losses.size();
  std::vector<double> scaled(n);
  centre_ = quantile(losses, 0.5);
  scale_ = (quantile(losses, 0.75) - quantile(losses, 0.25)) / 1.349; // the sd, for Gaussian data
  if (!(scale_ > 0.0)) {
    double mean = 0.0;
    mean_and_sd(losses, mean, scale_);
  }
  if (!(scale_ > 0.0)) scale_ = 1.0;
  for (std::size_t i = 0; i < n; ++i) scaled[i] = (losses[i] - centre_) / scale_;

  // Profile log-likelihood of lambda: -n/2 log(var of transformed) + (lambda - 1) sum sign(x) log(|x| + 1).
  double jacobian_sum = 0.0;
  for (double x : scaled) jacobian_sum += std::copysign(std::log1p(std::abs(x)), x);
  double best_likelihood = -INFINITY;
  lambda_ = 1.0;
  std::vector<double> transformed(n);
  if (n >= 3) {
    for (double lambda = lambda_min; lambda <= lambda_max + 1e-9; lambda += lambda_step) {
      for (std::size_t i = 0; i < n; ++i) transformed[i] = yeo_johnson(scaled[i], lambda);
      double mean = 0.0, sd = 0.0;
      mean_and_sd(transformed, mean, sd);
      if (!(sd > 0.0) || !std::isfinite(sd)) continue;
      const double likelihood = -static_cast<double>(n) * std::log(sd) + (lambda - 1.0) * jacobian_sum;
      if (likelihood > best_likelihood) {
        best_likelihood = likelihood;
        lambda_ = lambda;
      }
    }
  }
  for (std::size_t i = 0; i < n; ++i) transformed[i] = yeo_johnson(scaled[i], lambda_);
  mean_and_sd(transformed, mean_, sd_);
  if (!(sd_ > 0.0)) sd_ = 1.0;
  for (auto& t : transformed) t = (t - mean_) / sd_;
  return transformed;
}

double OutputWarping::apply(double loss) const { return (yeo_johnson((loss - centre_) / scale_, lambda_) - mean_) / sd_; }

double OutputWarping::slope(double loss) const {
  return yeo_johnson_slope((loss - centre_) / scale_, lambda_) / (scale_ * sd_);
}

} // namespace trimtab::detail
