#include "gaussian_process.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <nlopt.h>

namespace trimtab::detail {
namespace {

const double sqrt5 = std::sqrt(5.0);

// Weak priors on the log hyperparameters, for standardised targets over the unit cube: lengthscales
// around a third of the cube, signal variance around 1, noise anywhere from none to all of it.
constexpr double lengthscale_prior_mean = -1.1; // log 0.33
// A category's indicator coordinate starts from the cube's side instead: two configurations that
// differ only in a category are then correlated about 0.3 a priori, so what the model learned of
// the numeric knobs under one category carries to the others until the data says otherwise. At a
// third of the cube the categories started out independent (correlation 3e-3), and a search that
// found a fair basin under one category saw every other category as unexplored, at the prior
// mean, the worst value: on bench/solvers' `service`, 17 of 40 runs ended under a worse policy.
constexpr double indicator_lengthscale_prior_mean = 0.0; // log 1
constexpr double lengthscale_prior_sd = 1.0;
constexpr double signal_prior_mean = 0.0;
constexpr double signal_prior_sd = 1.5;
constexpr double noise_prior_mean = -18.4; // log 1e-8
constexpr double noise_prior_sd = 4.0;

// Bounds that keep the kernel matrix factorisable and the fit away from degenerate corners.
const double log_lengthscale_min = std::log(0.01), log_lengthscale_max = std::log(100.0);
const double log_signal_min = std::log(0.01), log_signal_max = std::log(100.0);
const double log_noise_min = std::log(1e-12), log_noise_max = std::log(1.0);

// Added to the diagonal relative to the signal variance, so duplicate inputs stay factorisable.
constexpr double base_jitter = 1e-12;

double matern52(double r) { return (1.0 + sqrt5 * r + 5.0 / 3.0 * r * r) * std::exp(-sqrt5 * r); }
// -dM/dr / r: finite at r = 0, which is what the gradients need.
double matern52_slope(double r) { return 5.0 / 3.0 * (1.0 + sqrt5 * r) * std::exp(-sqrt5 * r); }

double prior_sd(Eigen::Index k, Eigen::Index dims) {
  return k < dims ? lengthscale_prior_sd : k == dims ? signal_prior_sd : noise_prior_sd;
}

struct FitContext {
  const GaussianProcess* gp;
};

double nlopt_objective(unsigned n, const double* x, double* gradient, void* data) {
  const auto* context = static_cast<FitContext*>(data);
  const Eigen::Map<const Eigen::VectorXd> theta(x, n);
  Eigen::VectorXd g(n);
  const double value = context->gp->negative_log_posterior(theta, gradient ? &g : nullptr);
  if (gradient)
    for (unsigned i = 0; i < n; ++i) gradient[i] = g[i];
  return value;
}

} // namespace

GaussianProcess::GaussianProcess(std::size_t dimensions, std::span<const std::size_t> indicator_coordinates)
    : dimensions_(dimensions) {
  const auto d = dims();
  prior_mean_.resize(d + 2);
  prior_mean_.head(d).setConstant(lengthscale_prior_mean);
  for (auto c : indicator_coordinates) prior_mean_[static_cast<Eigen::Index>(c)] = indicator_lengthscale_prior_mean;
  prior_mean_[d] = signal_prior_mean;
  prior_mean_[d + 1] = noise_prior_mean;
  theta_ = prior_mean_;
  lower_.resize(d + 2);
  upper_.resize(d + 2);
  theta_[d + 1] = std::log(1e-4);
  lower_.head(d).setConstant(log_lengthscale_min);
  upper_.head(d).setConstant(log_lengthscale_max);
  lower_[d] = log_signal_min;
  upper_[d] = log_signal_max;
  lower_[d + 1] = log_noise_min;
  upper_[d + 1] = log_noise_max;
}

void GaussianProcess::set_data(Eigen::MatrixXd x, Eigen::VectorXd y, Eigen::VectorXd noise_share,
                               Eigen::VectorXd known_noise) {
  x_ = std::move(x);
  y_ = std::move(y);
  noise_share_ = noise_share.size() == y_.size() ? std::move(noise_share) : Eigen::VectorXd::Ones(y_.size());
  known_noise_ = known_noise.size() == y_.size() ? std::move(known_noise) : Eigen::VectorXd::Zero(y_.size());
  conditioned_ = false;
}

void GaussianProcess::add_point(const Eigen::VectorXd& x, double y) {
  const auto n = x_.cols();
  x_.conservativeResize(Eigen::NoChange, n + 1);
  x_.col(n) = x;
  y_.conservativeResize(n + 1);
  y_[n] = y;
  noise_share_.conservativeResize(n + 1);
  noise_share_[n] = 1.0;
  known_noise_.conservativeResize(n + 1);
  known_noise_[n] = 0.0;
  if (!conditioned_) {
    condition();
    return;
  }
  // Extend the Cholesky factor by one row, O(n^2), instead of refactorising, O(n^3).
  Eigen::VectorXd k(n);
  for (Eigen::Index i = 0; i < n; ++i) k[i] = kernel(x_.col(i).data(), x.data());
  const Eigen::VectorXd row = factor_.triangularView<Eigen::Lower>().solve(k);
  const double pivot = signal_variance() + noise_variance() + jitter_ - row.squaredNorm();
  if (!(pivot > 1e-12 * signal_variance())) {
    condition(); // numerically a duplicate: refactorise, adding jitter as needed
    return;
  }
  factor_.conservativeResize(n + 1, n + 1);
  factor_.row(n).head(n) = row.transpose();
  factor_.col(n).head(n).setZero();
  factor_(n, n) = std::sqrt(pivot);
  alpha_ = factor_.triangularView<Eigen::Lower>().transpose().solve(factor_.triangularView<Eigen::Lower>().solve(y_));
}

double GaussianProcess::kernel(const double* a, const double* b) const {
  double r2 = 0.0;
  for (Eigen::Index c = 0; c < dims(); ++c) {
    const double delta = a[c] - b[c];
    r2 += delta * delta * std::exp(-2.0 * theta_[c]);
  }
  return signal_variance() * matern52(std::sqrt(r2));
}

Eigen::MatrixXd GaussianProcess::kernel_matrix(const Eigen::VectorXd& theta, Eigen::MatrixXd* shape_derivative) const {
  const auto n = x_.cols();
  const Eigen::VectorXd inverse_lengthscale = (-theta.head(dims())).array().exp();
  const Eigen::MatrixXd scaled = inverse_lengthscale.asDiagonal() * x_;
  const Eigen::VectorXd norms = scaled.colwise().squaredNorm().transpose();
  Eigen::MatrixXd r2 = -2.0 * scaled.transpose() * scaled;
  r2.colwise() += norms;
  r2.rowwise() += norms.transpose();
  const double signal = std::exp(theta[dims()]);
  const double noise = std::exp(theta[dims() + 1]);
  Eigen::MatrixXd k(n, n);
  if (shape_derivative) shape_derivative->resize(n, n);
  for (Eigen::Index j = 0; j < n; ++j) {
    for (Eigen::Index i = 0; i < n; ++i) {
      const double r = std::sqrt(std::max(r2(i, j), 0.0));
      k(i, j) = signal * matern52(r);
      if (shape_derivative) (*shape_derivative)(i, j) = signal * matern52_slope(r);
    }
  }
  k.diagonal().array() += noise * noise_share_.array() + known_noise_.array() + base_jitter * signal;
  return k;
}

double GaussianProcess::negative_log_posterior(const Eigen::VectorXd& theta, Eigen::VectorXd* gradient) const {
  const auto n = x_.cols();
  const auto d = dims();
  Eigen::MatrixXd g;
  const Eigen::MatrixXd k = kernel_matrix(theta, gradient ? &g : nullptr);
  const Eigen::LLT<Eigen::MatrixXd> llt(k);
  if (llt.info() != Eigen::Success) {
    if (gradient) gradient->setZero();
    return 1e25;
  }
  const Eigen::VectorXd alpha = llt.solve(y_);
  const double log_det = 2.0 * llt.matrixLLT().diagonal().array().log().sum();
  double value = 0.5 * y_.dot(alpha) + 0.5 * log_det + 0.5 * static_cast<double>(n) * std::log(2.0 * M_PI);
  for (Eigen::Index i = 0; i < d + 2; ++i) {
    const double z = (theta[i] - prior_mean_[i]) / prior_sd(i, d);
    value += 0.5 * z * z;
  }
  if (!gradient) return value;

  // d(-log p(y))/d theta_k = -1/2 tr(W dK/d theta_k), W = alpha alpha' - K^-1.
  Eigen::MatrixXd w = -llt.solve(Eigen::MatrixXd::Identity(n, n));
  w.noalias() += alpha * alpha.transpose();
  gradient->resize(d + 2);
  const double signal = std::exp(theta[d]);
  const double noise = std::exp(theta[d + 1]);
  // dK/d log(signal) is the kernel without its noise and jitter.
  Eigen::MatrixXd k_signal = k;
  k_signal.diagonal().array() -= noise * noise_share_.array() + known_noise_.array() + base_jitter * signal;
  (*gradient)[d] = -0.5 * (w.array() * k_signal.array()).sum();
  (*gradient)[d + 1] = -0.5 * noise * w.diagonal().dot(noise_share_);
  // dK_ij/d log(l_c) = G_ij (x_ic - x_jc)^2 / l_c^2; the sum over i, j expands into two products.
  const Eigen::VectorXd inverse_lengthscale = (-theta.head(d)).array().exp();
  const Eigen::MatrixXd scaled = inverse_lengthscale.asDiagonal() * x_;
  const Eigen::MatrixXd wg = w.cwiseProduct(g);
  const Eigen::VectorXd row_sums = wg.rowwise().sum();
  const Eigen::MatrixXd projected = scaled * wg;
  for (Eigen::Index c = 0; c < d; ++c) {
    const double total = 2.0 * scaled.row(c).array().square().matrix().dot(row_sums) -
                         2.0 * projected.row(c).dot(scaled.row(c));
    (*gradient)[c] = -0.5 * total;
  }
  for (Eigen::Index i = 0; i < d + 2; ++i)
    (*gradient)[i] += (theta[i] - prior_mean_[i]) / (prior_sd(i, d) * prior_sd(i, d));
  return value;
}

void GaussianProcess::fit(std::mt19937_64& rng, int extra_starts, int max_evaluations) {
  if (y_.size() < 2 || max_evaluations <= 0) {
    condition();
    return;
  }
  const auto parameters = static_cast<unsigned>(theta_.size());
  nlopt_opt optimiser = nlopt_create(NLOPT_LD_LBFGS, parameters);
  FitContext context{this};
  nlopt_set_min_objective(optimiser, nlopt_objective, &context);
  nlopt_set_lower_bounds(optimiser, lower_.data());
  nlopt_set_upper_bounds(optimiser, upper_.data());
  nlopt_set_maxeval(optimiser, max_evaluations);
  nlopt_set_ftol_rel(optimiser, 1e-7);

  Eigen::VectorXd best = theta_;
  double best_value = negative_log_posterior(theta_, nullptr);
  std::normal_distribution<double> normal(0.0, 1.0);
  for (int start = 0; start <= extra_starts; ++start) {
    Eigen::VectorXd theta = theta_;
    if (start > 0) {
      for (Eigen::Index k = 0; k < theta.size(); ++k)
        theta[k] = std::clamp(prior_mean_[k] + prior_sd(k, dims()) * normal(rng), lower_[k], upper_[k]);
    }
    double value = 0.0;
    const auto result = nlopt_optimize(optimiser, theta.data(), &value);
    // A run stopped by round-off still holds its best point; only outright failures are dropped.
    if (result > 0 || result == NLOPT_ROUNDOFF_LIMITED) {
      if (value < best_value) {
        best_value = value;
        best = theta;
      }
    }
  }
  nlopt_destroy(optimiser);
  theta_ = best;
  condition();
}

bool GaussianProcess::condition() {
  conditioned_ = false;
  if (y_.size() == 0) return false;
  Eigen::MatrixXd k = kernel_matrix(theta_, nullptr);
  const double signal = signal_variance();
  jitter_ = base_jitter * signal;
  for (double jitter = 0.0; jitter <= 1e-4 * signal; jitter = jitter == 0.0 ? 1e-8 * signal : jitter * 10.0) {
    k.diagonal().array() += jitter;
    jitter_ += jitter;
    const Eigen::LLT<Eigen::MatrixXd> llt(k);
    if (llt.info() == Eigen::Success) {
      factor_ = llt.matrixL();
      alpha_ = llt.solve(y_);
      conditioned_ = true;
      return true;
    }
  }
  return false;
}

Eigen::MatrixXd GaussianProcess::covariance(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) const {
  const double signal = signal_variance();
  const Eigen::VectorXd inverse_lengthscale = (-theta_.head(dims())).array().exp();
  const Eigen::MatrixXd sa = inverse_lengthscale.asDiagonal() * a;
  const Eigen::MatrixXd sb = inverse_lengthscale.asDiagonal() * b;
  Eigen::MatrixXd k = -2.0 * sa.transpose() * sb;
  k.colwise() += sa.colwise().squaredNorm().transpose();
  k.rowwise() += sb.colwise().squaredNorm();
  return k.unaryExpr([signal](double r2) { return signal * matern52(std::sqrt(std::max(r2, 0.0))); });
}

void GaussianProcess::covariance(const double* x, const Eigen::MatrixXd& points, Eigen::VectorXd& k,
                                 Eigen::MatrixXd* gradient) const {
  const double signal = signal_variance();
  const auto d = dims();
  const auto n = points.cols();
  Eigen::VectorXd inverse_l2(d);
  for (Eigen::Index c = 0; c < d; ++c) inverse_l2[c] = std::exp(-2.0 * theta_[c]);
  k.resize(n);
  if (gradient) gradient->resize(n, d);
  for (Eigen::Index i = 0; i < n; ++i) {
    double r2 = 0.0;
    for (Eigen::Index c = 0; c < d; ++c) {
      const double delta = x[c] - points(c, i);
      r2 += delta * delta * inverse_l2[c];
    }
    const double r = std::sqrt(r2);
    k[i] = signal * matern52(r);
    if (gradient) {
      const double slope = signal * matern52_slope(r);
      for (Eigen::Index c = 0; c < d; ++c) (*gradient)(i, c) = -slope * (x[c] - points(c, i)) * inverse_l2[c];
    }
  }
}

void GaussianProcess::joint_posterior(const Eigen::MatrixXd& points, Eigen::VectorXd& mean,
                                      Eigen::MatrixXd& covariance_out) const {
  covariance_out = covariance(points, points);
  if (!conditioned_) {
    mean.setZero(points.cols());
    return;
  }
  Eigen::MatrixXd cross = covariance(x_, points);
  mean = cross.transpose() * alpha_;
  factor_.triangularView<Eigen::Lower>().solveInPlace(cross);
  covariance_out.noalias() -= cross.transpose() * cross;
}

GpPrediction GaussianProcess::predict(const double* x) const { return predict(x, nullptr, nullptr); }

void GaussianProcess::predict(const Eigen::MatrixXd& points, Eigen::VectorXd& mean, Eigen::VectorXd& variance) const {
  const double signal = signal_variance();
  const auto m = points.cols();
  if (!conditioned_) {
    mean.setZero(m);
    variance.setConstant(m, signal);
    return;
  }
  Eigen::MatrixXd cross = covariance(x_, points); // n x m
  mean = cross.transpose() * alpha_;
  factor_.triangularView<Eigen::Lower>().solveInPlace(cross);
  variance = (signal - cross.colwise().squaredNorm().array()).max(1e-12 * signal).matrix().transpose();
}

GpPrediction GaussianProcess::predict(const double* x, double* mean_gradient, double* variance_gradient) const {
  const double signal = signal_variance();
  const auto d = dims();
  if (!conditioned_) {
    if (mean_gradient) std::fill(mean_gradient, mean_gradient + d, 0.0);
    if (variance_gradient) std::fill(variance_gradient, variance_gradient + d, 0.0);
    return {0.0, signal};
  }
  const bool gradients = mean_gradient || variance_gradient;
  Eigen::VectorXd kstar;
  Eigen::MatrixXd dk; // dk(i, c) = dk(x, x_i)/dx_c
  covariance(x, x_, kstar, gradients ? &dk : nullptr);
  GpPrediction prediction;
  prediction.mean = kstar.dot(alpha_);
  const Eigen::VectorXd v = factor_.triangularView<Eigen::Lower>().solve(kstar);
  prediction.variance = std::max(signal - v.squaredNorm(), 1e-12 * signal);
  if (gradients) {
    const Eigen::VectorXd weights = factor_.triangularView<Eigen::Lower>().transpose().solve(v); // K^-1 k*
    const Eigen::VectorXd dm = dk.transpose() * alpha_, dv = -2.0 * (dk.transpose() * weights);
    if (mean_gradient) std::copy(dm.data(), dm.data() + d, mean_gradient);
    if (variance_gradient) std::copy(dv.data(), dv.data() + d, variance_gradient);
  }
  return prediction;
}

} // namespace trimtab::detail
