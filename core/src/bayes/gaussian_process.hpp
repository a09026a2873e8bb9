#pragma once

// Internal: the Gaussian-process surrogate behind BayesSolver.

#include <cstddef>
#include <random>
#include <span>

#include <Eigen/Cholesky>
#include <Eigen/Core>

namespace trimtab::detail {

/// Mean and variance of the latent function at one point.
struct GpPrediction {
  double mean = 0.0;
  double variance = 0.0;
};

/// A zero-mean Gaussian process over the unit cube with a Matérn-5/2 ARD kernel and Gaussian noise,
/// for standardised targets. Hyperparameters (one lengthscale per coordinate, signal variance,
/// noise variance) are fitted by maximising the log marginal likelihood plus weak log-normal priors
/// (MAP), which keeps a handful of points from driving a lengthscale to an extreme.
///
/// Noise is heteroscedastic where the data says so: point i's noise variance is
/// share_i x (the learned noise) + known_i. A target that averages m measurements has share 1/m; a
/// measurement that came with its own standard error has known = that error squared (in target
/// units). The learned part is the floor the known errors do not explain.
class GaussianProcess {
public:
  /// `indicator_coordinates`: the coordinates that encode a category (one-hot), whose lengthscale
  /// priors are wider (see gaussian_process.cpp).
  explicit GaussianProcess(std::size_t dimensions, std::span<const std::size_t> indicator_coordinates = {});

  /// Replaces the training data: one column of `x` per point. `noise_share` and `known_noise` (per
  /// point, see above) default to 1 and 0: homoscedastic noise, all of it learned.
  void set_data(Eigen::MatrixXd x, Eigen::VectorXd y, Eigen::VectorXd noise_share = {},
                Eigen::VectorXd known_noise = {});
  /// Adds one point (share 1, no known noise) and refactorises, keeping the hyperparameters
  /// (kriging-believer fantasies).
  void add_point(const Eigen::VectorXd& x, double y);

  /// MAP fit from the current hyperparameters and `extra_starts` random ones; keeps the best.
  /// `max_evaluations` bounds each local run.
  void fit(std::mt19937_64& rng, int extra_starts, int max_evaluations);

  /// Factorises the kernel matrix with the current hyperparameters; false when that failed even
  /// with added jitter (the model then predicts the prior).
  bool condition();

  [[nodiscard]] GpPrediction predict(const double* x) const;
  /// Also the gradients of mean and variance with respect to x (each of dimensions() values).
  [[nodiscard]] GpPrediction predict(const double* x, double* mean_gradient, double* variance_gradient) const;

  /// Means and variances at every column of `points`, with matrix products rather than one
  /// triangular solve per point: several times faster when scoring hundreds of candidates.
  void predict(const Eigen::MatrixXd& points, Eigen::VectorXd& mean, Eigen::VectorXd& variance) const;

  /// The joint posterior of the latent (noise-free) function at the columns of `points`: means and
  /// covariance matrix.
  void joint_posterior(const Eigen::MatrixXd& points, Eigen::VectorXd& mean, Eigen::MatrixXd& covariance) const;
  /// The kernel (without noise) between the columns of `a` and of `b`.
  [[nodiscard]] Eigen::MatrixXd covariance(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) const;
  /// The kernel between `x` and each column of `points`, and its gradient with respect to x (one row
  /// per column, one column per coordinate) when `gradient` is not null.
  void covariance(const double* x, const Eigen::MatrixXd& points, Eigen::VectorXd& k, Eigen::MatrixXd* gradient) const;

  [[nodiscard]] std::size_t dimensions() const noexcept { return dimensions_; }
  [[nodiscard]] std::size_t size() const noexcept { return static_cast<std::size_t>(y_.size()); }
  [[nodiscard]] const Eigen::MatrixXd& inputs() const noexcept { return x_; }
  [[nodiscard]] const Eigen::VectorXd& targets() const noexcept { return y_; }
  [[nodiscard]] double lengthscale(std::size_t d) const { return std::exp(theta_[static_cast<Eigen::Index>(d)]); }
  [[nodiscard]] double signal_variance() const { return std::exp(theta_[dims()]); }
  [[nodiscard]] double noise_variance() const { return std::exp(theta_[dims() + 1]); }
  /// The noise variance of training point i: its share of the learned noise plus its known noise.
  [[nodiscard]] double point_noise(Eigen::Index i) const { return noise_variance() * noise_share_[i] + known_noise_[i]; }

  /// The negative log posterior of the hyperparameters theta = [log lengthscales, log signal
  /// variance, log noise variance] and its gradient (when `gradient` is not null).
  [[nodiscard]] double negative_log_posterior(const Eigen::VectorXd& theta, Eigen::VectorXd* gradient) const;

private:
  [[nodiscard]] Eigen::Index dims() const noexcept { return static_cast<Eigen::Index>(dimensions_); }
  // Kernel matrix of the training inputs under theta, with noise on the diagonal.
  [[nodiscard]] Eigen::MatrixXd kernel_matrix(const Eigen::VectorXd& theta, Eigen::MatrixXd* shape_derivative) const;

  std::size_t dimensions_;
  Eigen::MatrixXd x_;
  Eigen::VectorXd y_;
  Eigen::VectorXd noise_share_, known_noise_; // per point, see the class comment
  Eigen::VectorXd theta_;
  Eigen::VectorXd prior_mean_; // of each log hyperparameter, in theta's order
  Eigen::VectorXd lower_, upper_;
  [[nodiscard]] double kernel(const double* a, const double* b) const; // without noise
  Eigen::MatrixXd factor_; // Cholesky factor of the kernel matrix
  double jitter_ = 0.0; // added to every diagonal element, besides each point's noise
  Eigen::VectorXd alpha_;
  bool conditioned_ = false;
};

} // namespace trimtab::detail
