#include "noisy_improvement.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>

#include "normal_tail.hpp"

namespace trimtab::detail {
namespace {

// Samples of the noise-free objective, in antithetic pairs (z and -z). 32 keep the Monte-Carlo error
// of the averaged EI well below the differences the search acts on, at a few microseconds a point.
constexpr Eigen::Index sample_pairs = 16;

// log(mean of exp(l)) and the weights exp(l - that) / S, which are d(result)/d(l).
double log_mean_exp(const Eigen::VectorXd& l, Eigen::VectorXd* weights) {
  const double top = l.maxCoeff();
  if (!std::isfinite(top)) {
    if (weights) weights->setZero(l.size());
    return top;
  }
  const Eigen::ArrayXd e = (l.array() - top).exp();
  const double sum = e.sum();
  if (weights) *weights = (e / sum).matrix();
  return top + std::log(sum / static_cast<double>(l.size()));
}

} // namespace

NoisyExpectedImprovement::NoisyExpectedImprovement(const GaussianProcess& gp, Eigen::MatrixXd points,
                                                   const std::vector<Eigen::Index>& baseline, std::uint64_t seed)
    : points_(std::move(points)) {
  const auto n = points_.cols();
  const double signal = gp.signal_variance();
  Eigen::VectorXd mean;
  Eigen::MatrixXd covariance;
  gp.joint_posterior(points_, mean, covariance);
  // A square root of the posterior covariance by eigendecomposition: it is often singular to
  // working precision (points close together), where a Cholesky factorisation would fail.
  const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(covariance);
  const Eigen::MatrixXd root =
      eigen.eigenvectors() * eigen.eigenvalues().cwiseMax(0.0).cwiseSqrt().asDiagonal();
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  Eigen::MatrixXd z(n, 2 * sample_pairs);
  for (Eigen::Index s = 0; s < sample_pairs; ++s) {
    for (Eigen::Index i = 0; i < n; ++i) z(i, s) = normal(rng);
    z.col(sample_pairs + s) = -z.col(s);
  }
  Eigen::MatrixXd samples = root * z;
  samples.colwise() += mean;

  best_.setConstant(samples.cols(), INFINITY);
  for (auto i : baseline) best_ = best_.cwiseMin(samples.row(i).transpose());

  // The noise-free GP through each sample: jitter only as much as factorising takes.
  Eigen::MatrixXd k = gp.covariance(points_, points_);
  for (double jitter = 1e-10 * signal; jitter <= 1e-2 * signal; jitter *= 10.0) {
    Eigen::MatrixXd jittered = k;
    jittered.diagonal().array() += jitter;
    const Eigen::LLT<Eigen::MatrixXd> llt(jittered);
    if (llt.info() != Eigen::Success) continue;
    factor_ = llt.matrixL();
    weights_ = llt.solve(samples);
    return;
  }
  // Not factorisable even then (not seen in practice): the fantasies know nothing, so the
  // acquisition falls back to EI under the prior against each sample's incumbent.
  factor_.resize(0, 0);
  weights_.resize(0, samples.cols());
}

double NoisyExpectedImprovement::log_value(const GaussianProcess& gp, const double* x, double* gradient) const {
  const auto d = static_cast<Eigen::Index>(gp.dimensions());
  const double signal = gp.signal_variance();
  const auto samples = best_.size();
  Eigen::VectorXd mean = Eigen::VectorXd::Zero(samples);
  double variance = signal;
  Eigen::VectorXd k, dv = Eigen::VectorXd::Zero(d);
  Eigen::MatrixXd dk, dm = Eigen::MatrixXd::Zero(d, samples); // dm(c, s) = d mean_s / dx_c
  if (factor_.size() > 0) {
    gp.covariance(x, points_, k, gradient ? &dk : nullptr);
    mean = weights_.transpose() * k;
    const Eigen::VectorXd v = factor_.triangularView<Eigen::Lower>().solve(k);
    variance = signal - v.squaredNorm();
    if (gradient) {
      dm = dk.transpose() * weights_;
      const Eigen::VectorXd kinv_k = factor_.triangularView<Eigen::Lower>().transpose().solve(v);
      dv = -2.0 * (dk.transpose() * kinv_k);
    }
  }
  if (variance < 1e-12 * signal) {
    variance = 1e-12 * signal;
    dv.setZero();
  }
  const double sd = std::sqrt(variance);
  Eigen::VectorXd z = (best_ - mean) / sd, l(samples);
  for (Eigen::Index s = 0; s < samples; ++s) l[s] = log_expected_improvement_factor(z[s]);
  Eigen::VectorXd weights;
  const double value = std::log(sd) + log_mean_exp(l, gradient ? &weights : nullptr);
  if (gradient) {
    for (Eigen::Index c = 0; c < d; ++c) {
      const double dsd = dv[c] / (2.0 * sd);
      double total = dsd / sd;
      for (Eigen::Index s = 0; s < samples; ++s) {
        if (weights[s] == 0.0) continue;
        const double dz = (-dm(c, s) - z[s] * dsd) / sd;
        total += weights[s] * log_expected_improvement_factor_slope(z[s]) * dz;
      }
      gradient[c] = total;
    }
  }
  return value;
}

void NoisyExpectedImprovement::log_values(const GaussianProcess& gp, const Eigen::MatrixXd& x, Eigen::VectorXd& out) const {
  const auto m = x.cols();
  const auto samples = best_.size();
  const double signal = gp.signal_variance();
  Eigen::MatrixXd means = Eigen::MatrixXd::Zero(samples, m);
  Eigen::VectorXd variances = Eigen::VectorXd::Constant(m, signal);
  if (factor_.size() > 0) {
    Eigen::MatrixXd cross = gp.covariance(points_, x);
    means = weights_.transpose() * cross;
    factor_.triangularView<Eigen::Lower>().solveInPlace(cross);
    variances = (signal - cross.colwise().squaredNorm().array()).matrix().transpose();
  }
  out.resize(m);
  Eigen::VectorXd l(samples);
  for (Eigen::Index j = 0; j < m; ++j) {
    const double sd = std::sqrt(std::max(variances[j], 1e-12 * signal));
    for (Eigen::Index s = 0; s < samples; ++s) l[s] = log_expected_improvement_factor((best_[s] - means(s, j)) / sd);
    out[j] = std::log(sd) + log_mean_exp(l, nullptr);
  }
}

} // namespace trimtab::detail
