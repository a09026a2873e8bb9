#pragma once

// Internal: expected improvement when the incumbent's own value is uncertain.

#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "gaussian_process.hpp"

namespace trimtab::detail {

/// Noisy expected improvement (Letham, Karrer, Ottoni and Bakshy, "Constrained Bayesian
/// Optimization with Noisy Experiments", 2019). With noisy measurements the best value so far is not
/// known, only its posterior; plain EI against the best posterior mean (or worse, the best
/// measurement) keeps promising improvement next to a lucky draw. Instead:
/// 1. draw S joint samples of the noise-free objective at the evaluated points (and pending asks,
///    which makes it batch-aware), from the GP's posterior (antithetic pairs: lower variance);
/// 2. for each sample, condition a noise-free GP on those values: its incumbent is the sample's best
///    value among the baseline points (feasible evaluations and pending asks);
/// 3. average the closed-form EI over the samples.
/// Each fantasy shares the kernel and the inputs, so one Cholesky factor serves them all, the
/// variance at a candidate is the same for all, and the means are one matrix product.
/// Next to an evaluated point the fantasy variance vanishes and the fantasy mean is that point's
/// sampled value, never below the sample's incumbent: re-measuring a lucky point promises nothing,
/// while a point near several well-estimated good ones keeps the improvement the model expects.
class NoisyExpectedImprovement {
public:
  /// `points`: cube points (columns) whose values the samples cover; `baseline`: which of them may be
  /// the incumbent. `seed` fixes the draws, so the acquisition is a deterministic surface.
  NoisyExpectedImprovement(const GaussianProcess& gp, Eigen::MatrixXd points, const std::vector<Eigen::Index>& baseline,
                           std::uint64_t seed);

  /// The log of noisy EI at cube point x, with its gradient when `gradient` is not null; `gp` is the
  /// model it was built from (only its kernel is used).
  [[nodiscard]] double log_value(const GaussianProcess& gp, const double* x, double* gradient) const;
  /// The same at every column of `x`, without gradients.
  void log_values(const GaussianProcess& gp, const Eigen::MatrixXd& x, Eigen::VectorXd& out) const;

  /// The samples' incumbent values, one per sample (for tests).
  [[nodiscard]] const Eigen::VectorXd& incumbents() const noexcept { return best_; }

private:
  Eigen::MatrixXd points_;
  Eigen::MatrixXd factor_;  // Cholesky factor of the kernel matrix of points_, plus jitter
  Eigen::MatrixXd weights_; // K^-1 (sampled values), one column per sample
  Eigen::VectorXd best_;    // per sample, the lowest sampled value among the baseline
};

} // namespace trimtab::detail
