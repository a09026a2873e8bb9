#include "bayes_models.hpp"

#include <algorithm>
#include <cmath>

#include "normal_tail.hpp"

namespace trimtab::detail {
namespace {

// Local runs and restarts of each hyperparameter fit. Restarts escape a poor local optimum of the
// likelihood (the common cause of a stalled search); every third fit has them.
constexpr int fit_evaluations = 120;
constexpr int fit_restarts = 2;
constexpr std::size_t always_refit_below = 40;

Eigen::MatrixXd as_matrix(const std::vector<std::vector<double>>& columns, std::size_t dimensions) {
  Eigen::MatrixXd x(static_cast<Eigen::Index>(dimensions), static_cast<Eigen::Index>(columns.size()));
  for (std::size_t j = 0; j < columns.size(); ++j)
    for (std::size_t d = 0; d < dimensions; ++d) x(static_cast<Eigen::Index>(d), static_cast<Eigen::Index>(j)) = columns[j][d];
  return x;
}

// Standardises `values` and says where `limit` lands on the same scale.
Eigen::VectorXd standardise(const std::vector<double>& values, double limit, double& standardised_limit) {
  double mean = 0.0;
  for (double v : values) mean += v;
  mean /= static_cast<double>(values.size());
  double ss = 0.0;
  for (double v : values) ss += (v - mean) * (v - mean);
  double sd = std::sqrt(ss / static_cast<double>(values.size()));
  if (!(sd > 0.0)) sd = std::max(std::abs(mean), 1.0);
  Eigen::VectorXd y(static_cast<Eigen::Index>(values.size()));
  for (std::size_t i = 0; i < values.size(); ++i) y[static_cast<Eigen::Index>(i)] = (values[i] - mean) / sd;
  standardised_limit = (limit - mean) / sd;
  return y;
}

} // namespace

void BayesModels::update(std::span<const Trial> history, Direction direction, std::mt19937_64& rng) {
  const auto dimensions = space_->dimensions();
  std::vector<std::vector<double>> inputs, all_inputs;
  std::vector<double> losses, failures;
  std::vector<bool> feasible;
  std::vector<std::size_t> trial_index; // of each input, in history
  std::size_t constraint_count = 0;
  for (const auto& trial : history) {
    all_inputs.push_back(space_->encode(trial.point));
    failures.push_back(trial.observation.failed ? 1.0 : -1.0);
    if (trial.observation.failed) continue;
    trial_index.push_back(all_inputs.size() - 1);
    inputs.push_back(all_inputs.back());
    losses.push_back(direction == Direction::maximize ? -trial.observation.value : trial.observation.value);
    feasible.push_back(trial.observation.feasible());
    constraint_count = std::max(constraint_count, trial.observation.constraints.size());
  }
  // Hyperparameters move little once there is data: refit them on every change while the history
  // is short, then whenever it has grown by a tenth, and otherwise only refactorise (a few
  // milliseconds at 100 points instead of tens). Every third fit adds random restarts.
  const bool refit = history.size() < always_refit_below || history.size() * 10 >= fitted_size_ * 11;
  const int restarts = refit && fits_ % 3 == 0 ? fit_restarts : 0;
  const int evaluations = refit ? fit_evaluations : 0;
  if (refit) {
    ++fits_;
    fitted_size_ = history.size();
  }

  // The objective.
  if (inputs.size() >= 2) {
    if (!objective_) objective_.emplace(dimensions);
    // Shifted so the worst evaluation sits at 0, the prior mean: far from every evaluation the
    // model expects nothing better than the worst seen, so expected improvement comes from real
    // evidence near good points rather than from the variance at the corners of the cube.
    auto targets = warping_.fit(losses);
    const double worst = *std::max_element(targets.begin(), targets.end());
    for (auto& t : targets) t -= worst;
    objective_->set_data(as_matrix(inputs, dimensions), Eigen::Map<const Eigen::VectorXd>(targets.data(), static_cast<Eigen::Index>(targets.size())));
    objective_->fit(rng, restarts, evaluations);
  } else {
    objective_.reset();
  }

  // Each constraint, on the successful evaluations; a missing value counts as holding.
  std::vector<ConstraintModel> previous = std::move(constraints_);
  constraints_.clear();
  for (std::size_t j = 0; j < constraint_count && inputs.size() >= 2; ++j) {
    std::vector<double> values;
    for (const auto& trial : history) {
      if (trial.observation.failed) continue;
      const auto& c = trial.observation.constraints;
      values.push_back(j < c.size() ? c[j] : 0.0);
    }
    double limit = 0.0;
    const auto y = standardise(values, 0.0, limit);
    ConstraintModel model{j < previous.size() ? previous[j].gp : GaussianProcess(dimensions), limit};
    model.gp.set_data(as_matrix(inputs, dimensions), y);
    model.gp.fit(rng, restarts, evaluations);
    constraints_.push_back(std::move(model));
  }
  // Failures, on every evaluation: +1 failed, -1 succeeded, so "fails" is "above 0".
  if (std::find(failures.begin(), failures.end(), 1.0) != failures.end()) {
    double limit = 0.0;
    const auto y = standardise(failures, 0.0, limit);
    const bool had = previous.size() > constraint_count;
    ConstraintModel model{had ? previous.back().gp : GaussianProcess(dimensions), limit};
    model.gp.set_data(as_matrix(all_inputs, dimensions), y);
    model.gp.fit(rng, restarts, evaluations);
    constraints_.push_back(std::move(model));
  }

  // The incumbent: the best posterior mean among feasible evaluations, robust to a lucky noisy one.
  incumbent_.reset();
  incumbent_trial_.reset();
  ranked_inputs_.clear();
  if (objective_) {
    Eigen::VectorXd means, variances;
    objective_->predict(as_matrix(inputs, dimensions), means, variances);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const double mean = means[static_cast<Eigen::Index>(i)];
      if (feasible[i] && (!incumbent_ || mean < *incumbent_)) {
        incumbent_ = mean;
        incumbent_trial_ = trial_index[i];
      }
      // Feasible points rank ahead of infeasible ones.
      ranked_inputs_.emplace_back(feasible[i] ? mean : 1e6 + mean, inputs[i]);
    }
    std::sort(ranked_inputs_.begin(), ranked_inputs_.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
  }
}

void BayesModels::add_fantasy(std::span<const double> x) {
  if (objective_) {
    // The believed value counts as observed, incumbent included: otherwise the point right next to
    // a fantasy would promise the whole predicted improvement again.
    const double believed = objective_->predict(x.data()).mean;
    objective_->add_point(Eigen::Map<const Eigen::VectorXd>(x.data(), static_cast<Eigen::Index>(x.size())), believed);
    if (incumbent_) incumbent_ = std::min(*incumbent_, believed);
  }
  for (auto& c : constraints_)
    c.gp.add_point(Eigen::Map<const Eigen::VectorXd>(x.data(), static_cast<Eigen::Index>(x.size())), c.gp.predict(x.data()).mean);
}

double BayesModels::acquisition(const double* x, double* gradient) const {
  const auto d = space_->dimensions();
  std::vector<double> dm(gradient ? d : 0), dv(gradient ? d : 0);
  if (gradient) std::fill(gradient, gradient + d, 0.0);
  double value = 0.0;

  if (objective_ && incumbent_) {
    const auto p = objective_->predict(x, gradient ? dm.data() : nullptr, gradient ? dv.data() : nullptr);
    const double sd = std::sqrt(p.variance);
    const double z = (*incumbent_ - p.mean) / sd;
    value += std::log(sd) + log_expected_improvement_factor(z);
    if (gradient) {
      const double slope = log_expected_improvement_factor_slope(z);
      for (std::size_t c = 0; c < d; ++c) {
        const double dsd = dv[c] / (2.0 * sd);
        const double dz = -dm[c] / sd - z * dsd / sd;
        gradient[c] += dsd / sd + slope * dz;
      }
    }
  }
  for (const auto& constraint : constraints_) {
    const auto p = constraint.gp.predict(x, gradient ? dm.data() : nullptr, gradient ? dv.data() : nullptr);
    const double sd = std::sqrt(p.variance);
    const double w = (constraint.threshold - p.mean) / sd;
    value += log_normal_cdf(w);
    if (gradient) {
      const double slope = log_normal_cdf_slope(w);
      for (std::size_t c = 0; c < d; ++c) {
        const double dsd = dv[c] / (2.0 * sd);
        gradient[c] += slope * (-dm[c] / sd - w * dsd / sd);
      }
    }
  }
  return value;
}

void BayesModels::acquisition(std::span<const std::vector<double>> points, std::vector<double>& values) const {
  const auto m = static_cast<Eigen::Index>(points.size());
  const auto d = static_cast<Eigen::Index>(space_->dimensions());
  Eigen::MatrixXd x(d, m);
  for (Eigen::Index j = 0; j < m; ++j) x.col(j) = Eigen::Map<const Eigen::VectorXd>(points[static_cast<std::size_t>(j)].data(), d);
  Eigen::VectorXd total = Eigen::VectorXd::Zero(m), mean, variance;
  if (objective_ && incumbent_) {
    objective_->predict(x, mean, variance);
    for (Eigen::Index j = 0; j < m; ++j) {
      const double sd = std::sqrt(variance[j]);
      total[j] += std::log(sd) + log_expected_improvement_factor((*incumbent_ - mean[j]) / sd);
    }
  }
  for (const auto& constraint : constraints_) {
    constraint.gp.predict(x, mean, variance);
    for (Eigen::Index j = 0; j < m; ++j) total[j] += log_normal_cdf((constraint.threshold - mean[j]) / std::sqrt(variance[j]));
  }
  values.assign(total.data(), total.data() + m);
}

std::vector<std::vector<double>> BayesModels::best_inputs(std::size_t count) const {
  std::vector<std::vector<double>> best;
  for (std::size_t i = 0; i < ranked_inputs_.size() && i < count; ++i) best.push_back(ranked_inputs_[i].second);
  return best;
}

} // namespace trimtab::detail
