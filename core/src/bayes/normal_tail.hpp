#pragma once

// Internal: logarithms of Gaussian tail quantities that stay accurate far into the tails, where
// the plain formulas round to log(0). Expected improvement far from the incumbent is tiny but not
// zero, and its logarithm keeps a useful slope there, so the acquisition does not go flat (LogEI).

namespace trimtab::detail {

/// log Phi(w), the log of the standard normal distribution function.
[[nodiscard]] double log_normal_cdf(double w);
/// d/dw log Phi(w) = phi(w) / Phi(w).
[[nodiscard]] double log_normal_cdf_slope(double w);

/// log h(z) with h(z) = z Phi(z) + phi(z): expected improvement is sigma * h((best - mean) / sigma).
[[nodiscard]] double log_expected_improvement_factor(double z);
/// d/dz log h(z) = Phi(z) / h(z).
[[nodiscard]] double log_expected_improvement_factor_slope(double z);

} // namespace trimtab::detail
