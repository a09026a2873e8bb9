#pragma once

// Internal: turning observed losses into targets a Gaussian process models well.

#include <vector>

namespace trimtab::detail {

/// A monotone map from losses to standardised targets: a robust rescaling (median and
/// interquartile range, so one latency spike does not set the scale), a Yeo-Johnson power
/// transform whose exponent is fitted to make the values as Gaussian as possible (it pulls in
/// heavy tails and spreads out the crowded region near the optimum), then standardisation to zero
/// mean and unit variance. Monotone, so the best loss stays the best target.
class OutputWarping {
public:
  /// Fits the warping to `losses` and returns their warped values.
  std::vector<double> fit(const std::vector<double>& losses);
  [[nodiscard]] double apply(double loss) const;
  /// d apply / d loss: by the delta method, a loss measured with standard error e has a warped
  /// standard error of about e x slope(loss).
  [[nodiscard]] double slope(double loss) const;
  [[nodiscard]] double exponent() const noexcept { return lambda_; }

private:
  double centre_ = 0.0, scale_ = 1.0, lambda_ = 1.0, mean_ = 0.0, sd_ = 1.0;
};

/// The Yeo-Johnson transform of x with exponent lambda.
[[nodiscard]] double yeo_johnson(double x, double lambda);
/// Its derivative with respect to x.
[[nodiscard]] double yeo_johnson_slope(double x, double lambda);

} // namespace trimtab::detail
