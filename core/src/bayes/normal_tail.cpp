#include "normal_tail.hpp"

#include <cmath>

namespace trimtab::detail {
namespace {

const double sqrt2 = std::sqrt(2.0);
const double inverse_sqrt_2pi = 1.0 / std::sqrt(2.0 * M_PI);
const double log_sqrt_2pi = 0.5 * std::log(2.0 * M_PI);

// exp(t^2) erfc(t) for t >= 0, the scaled complementary error function. Below 26 the product is
// representable (erfc(26) ~ 1e-296); above, the asymptotic series is exact to double precision.
double erfcx(double t) {
  if (t < 26.0) return std::exp(t * t) * std::erfc(t);
  const double u = 1.0 / (2.0 * t * t);
  return (1.0 - u * (1.0 - 3.0 * u * (1.0 - 5.0 * u))) / (t * std::sqrt(M_PI));
}

double normal_cdf(double w) { return 0.5 * std::erfc(-w / sqrt2); }
double normal_pdf(double w) { return inverse_sqrt_2pi * std::exp(-0.5 * w * w); }

} // namespace

double log_normal_cdf(double w) {
  if (w > -5.0) return std::log(normal_cdf(w));
  // Phi(w) = 1/2 erfcx(-w / sqrt2) exp(-w^2 / 2)
  return std::log(0.5 * erfcx(-w / sqrt2)) - 0.5 * w * w;
}

double log_normal_cdf_slope(double w) {
  if (w > -5.0) return normal_pdf(w) / normal_cdf(w);
  return inverse_sqrt_2pi / (0.5 * erfcx(-w / sqrt2));
}

double log_expected_improvement_factor(double z) {
  if (z > -1.0) return std::log(z * normal_cdf(z) + normal_pdf(z));
  if (z < -1e4) return -0.5 * z * z - log_sqrt_2pi - 2.0 * std::log(-z); // h(z) ~ phi(z) / z^2
  // h(z) = exp(-z^2 / 2) (1 / sqrt(2 pi) + z / 2 erfcx(-z / sqrt2)); the bracket loses only about
  // z^2 ulps to cancellation, harmless in this range.
  return -0.5 * z * z + std::log(inverse_sqrt_2pi + 0.5 * z * erfcx(-z / sqrt2));
}

double log_expected_improvement_factor_slope(double z) {
  if (z > -1.0) return normal_cdf(z) / (z * normal_cdf(z) + normal_pdf(z));
  if (z < -1e4) return -z - 2.0 / z; // the slope of the asymptote above
  const double scaled = 0.5 * erfcx(-z / sqrt2);
  return scaled / (inverse_sqrt_2pi + z * scaled);
}

} // namespace trimtab::detail
