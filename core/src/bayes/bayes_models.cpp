#include "bayes_models.hpp"

#include <algorithm>
#include <cmath>

#include "normal_tail.hpp"
#include "training_rows.hpp"

namespace trimtab::detail {
namespace {

// Local runs and restarts of each hyperparameter fit. Restarts escape a poor local optimum of the
// likelihood (the common cause of a stalled search); every third fit has them.
constexpr int fit_evaluations = 120;
constexpr int fit_restarts = 2;
constexpr std::size_t always_refit_below = 40;
// See hyperparameters_due().
constexpr std::size_t refit_at_least_every = 100;
// Noise variance, relative to the (standardised) spread of the warped losses, from which the models
// count as noisy (see noisy()): 1% of the spread, as a standard deviation.
constexpr double noticeable_noise = 1e-4;
// Learned noise variance from which the acquisition is noisy EI (see
// choose_acquisition()): 10% of the spread,
// as a standard deviation.
constexpr double learned_noise_for_noisy_improvement = 1e-2;

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

// One data point per configuration measured successfully (of those training_rows() picks), at
// the pooled value of its measurements with the noise of a mean (shares below, and the known
// variance the told standard errors give). One row per configuration rather than one per
// measurement keeps the kernel matrix well conditioned (no duplicate inputs), the warping fitted to
// configurations rather than to however often each was measured, and costs less.
struct BayesModels::TrainingData {
  TrainingData(std::span<const Evaluation> evaluations, std::span<const std::size_t> picked, const Space& space,
               Direction direction);

  // Row r's mean value of constraint j (it holds at 0 or below).
  [[nodiscard]] double constraint_mean(std::size_t row, std::size_t j) const {
    return history[rows[row]].constraint(j);
  }
  [[nodiscard]] bool measured_feasible(std::size_t row) const {
    for (std::size_t j = 0; j < constraint_count; ++j)
      if (constraint_mean(row, j) > 0.0) return false;
    return true;
  }
  void cap_infeasible_losses();

  std::span<const Evaluation> history;
  std::vector<std::size_t> rows;               // indexes in history
  std::vector<std::vector<double>> all_inputs; // every picked configuration's cube point, failed or not
  std::vector<double> failures;                // every picked configuration's balance of failures
  std::vector<std::vector<double>> inputs;     // the rows' cube points
  std::vector<double> losses;                  // the rows' values, as minimised
  Eigen::VectorXd shares;                      // the rows' noise, relative: one share per success
  std::size_t constraint_count = 0;
  bool known_noise = false; // some measurement came with a standard error
};

BayesModels::TrainingData::TrainingData(std::span<const Evaluation> evaluations, std::span<const std::size_t> picked,
                                        const Space& space, Direction direction)
    : history(evaluations) {
  for (std::size_t e : picked) {
    const auto& evaluation = history[e];
    all_inputs.push_back(space.encode(evaluation.point));
    // +1 when every measurement failed, -1 when none did, the balance in between.
    failures.push_back((static_cast<double>(evaluation.failures) - static_cast<double>(evaluation.successes())) /
                       static_cast<double>(evaluation.measurements));
    if (evaluation.successes() == 0) continue;
    rows.push_back(e);
    inputs.push_back(all_inputs.back());
    losses.push_back(direction == Direction::maximize ? -evaluation.value() : evaluation.value());
    known_noise = known_noise || evaluation.positive_sems > 0;
    constraint_count = std::max(constraint_count, evaluation.constraint_sums.size());
  }
  shares.resize(static_cast<Eigen::Index>(rows.size()));
  for (std::size_t r = 0; r < rows.size(); ++r)
    shares[static_cast<Eigen::Index>(r)] = 1.0 / static_cast<double>(history[rows[r]].successes());
}

// An infeasible configuration's objective enters the model no worse than the worst feasible one.
// Its value was measured in another regime (an overloaded service's latency is 50 to 90 times
// a healthy one's), and the constraint models already steer away from it; left as measured, it
// becomes the worst evaluation, which sets the prior mean below, so every unexplored region
// looks as bad as an overload and is never tried (bench/live: the column of short batch
// timeouts, where the best configurations are, measured only with an overloaded pool of 2).
// Capped from above only: an infeasible configuration that scores well (a pool too small to
// meet the latency limit, under `minimize: pool`) keeps its value, and the constraints decide.
void BayesModels::TrainingData::cap_infeasible_losses() {
  std::optional<double> worst_feasible;
  for (std::size_t r = 0; r < rows.size(); ++r)
    if (measured_feasible(r)) worst_feasible = std::max(worst_feasible.value_or(losses[r]), losses[r]);
  for (std::size_t r = 0; worst_feasible && r < rows.size(); ++r)
    if (!measured_feasible(r)) losses[r] = std::min(losses[r], *worst_feasible);
}

BayesModels::BayesModels(const Space& space) : space_(&space) {
  for (std::size_t i = 0; i < space.size(); ++i)
    if (std::holds_alternative<CategoricalChoices>(space.params()[i].domain))
      for (std::size_t c = 0; c < encoded_width(space.params()[i]); ++c) indicators_.push_back(space.offset(i) + c);
}

void BayesModels::update(std::span<const Evaluation> history, std::size_t measurements, Direction direction,
                         std::mt19937_64& rng) {
  const auto picked = training_rows(history, direction, incumbent_evaluation_);
  TrainingData data(history, picked, *space_, direction);
  data.cap_infeasible_losses();
  const FitBudget budget = plan_fit(measurements);
  fit_objective(data, budget, rng);
  noisy_ = objective_ && (data.known_noise || objective_->noise_variance() >= noticeable_noise);
  fit_constraints(data, budget, rng);
  find_incumbent(data);
  choose_acquisition(data, rng);
}

bool hyperparameters_due(std::size_t measurements, std::size_t fitted_at) {
  return measurements < always_refit_below || measurements * 10 >= fitted_at * 11 ||
         measurements >= fitted_at + refit_at_least_every;
}

// Every third fit adds random restarts.
BayesModels::FitBudget BayesModels::plan_fit(std::size_t measurements) {
  const bool refit = hyperparameters_due(measurements, fitted_size_);
  const FitBudget budget{refit && fits_ % 3 == 0 ? fit_restarts : 0, refit ? fit_evaluations : 0};
  if (refit) {
    ++fits_;
    fitted_size_ = measurements;
  }
  return budget;
}

void BayesModels::fit_objective(const TrainingData& data, FitBudget budget, std::mt19937_64& rng) {
  if (data.inputs.size() < 2) {
    objective_.reset();
    return;
  }
  if (!objective_) objective_.emplace(new_model());
  // Shifted so the worst evaluation sits at 0, the prior mean: far from every evaluation the
  // model expects nothing better than the worst seen, so expected improvement comes from real
  // evidence near good points rather than from the variance at the corners of the cube.
  auto targets = warping_.fit(data.losses);
  const double worst = *std::max_element(targets.begin(), targets.end());
  for (auto& t : targets) t -= worst;
  // Known standard errors in target units, by the delta method through the warping.
  Eigen::VectorXd known(static_cast<Eigen::Index>(data.rows.size()));
  for (std::size_t r = 0; r < data.rows.size(); ++r) {
    const double slope = warping_.slope(data.losses[r]);
    known[static_cast<Eigen::Index>(r)] = data.history[data.rows[r]].known_variance() * slope * slope;
  }
  objective_->set_data(as_matrix(data.inputs, space_->dimensions()),
                       Eigen::Map<const Eigen::VectorXd>(targets.data(), static_cast<Eigen::Index>(targets.size())),
                       data.shares, known);
  objective_->fit(rng, budget.restarts, budget.evaluations);
}

// Each constraint, on the configurations that were measured (a missing value counts as holding);
// then failures, on every configuration: "fails" is "above 0". Each warm-starts from its
// previous fit.
void BayesModels::fit_constraints(const TrainingData& data, FitBudget budget, std::mt19937_64& rng) {
  const auto dimensions = space_->dimensions();
  std::vector<ConstraintModel> previous = std::move(constraints_);
  constraints_.clear();
  for (std::size_t j = 0; j < data.constraint_count && data.inputs.size() >= 2; ++j) {
    std::vector<double> values;
    for (std::size_t r = 0; r < data.rows.size(); ++r) values.push_back(data.constraint_mean(r, j));
    double limit = 0.0;
    const auto y = standardise(values, 0.0, limit);
    ConstraintModel model{j < previous.size() ? previous[j].gp : new_model(), limit};
    model.gp.set_data(as_matrix(data.inputs, dimensions), y, data.shares);
    model.gp.fit(rng, budget.restarts, budget.evaluations);
    constraints_.push_back(std::move(model));
  }
  // A balance above -1: some measurement of that configuration failed.
  if (std::any_of(data.failures.begin(), data.failures.end(), [](double balance) { return balance > -1.0; })) {
    double limit = 0.0;
    const auto y = standardise(data.failures, 0.0, limit);
    const bool had = previous.size() > data.constraint_count;
    ConstraintModel model{had ? previous.back().gp : new_model(), limit};
    model.gp.set_data(as_matrix(data.all_inputs, dimensions), y);
    model.gp.fit(rng, budget.restarts, budget.evaluations);
    constraints_.push_back(std::move(model));
  }
}

// The incumbent: the best posterior mean among feasible evaluations, robust to a lucky noisy one.
// With noisy measurements a constraint whose model has learned noise is judged by its posterior
// mean too, so one lucky measurement does not make a configuration feasible either. Ranks the
// evaluated inputs on the way (best_inputs()).
void BayesModels::find_incumbent(const TrainingData& data) {
  incumbent_.reset();
  incumbent_evaluation_.reset();
  ranked_inputs_.clear();
  feasible_rows_.clear();
  noisy_improvement_.reset();
  if (!objective_) return;
  const Eigen::MatrixXd x = as_matrix(data.inputs, space_->dimensions());
  Eigen::VectorXd means, variances;
  std::vector<Eigen::VectorXd> constraint_means(data.constraint_count);
  for (std::size_t j = 0; j < data.constraint_count; ++j)
    if (noisy_ && constraints_[j].gp.noise_variance() >= noticeable_noise)
      constraints_[j].gp.predict(x, constraint_means[j], variances);
  objective_->predict(x, means, variances);
  for (std::size_t r = 0; r < data.rows.size(); ++r) {
    const auto i = static_cast<Eigen::Index>(r);
    bool feasible = true;
    for (std::size_t j = 0; j < data.constraint_count; ++j)
      feasible = feasible && (constraint_means[j].size() ? constraint_means[j][i] <= constraints_[j].threshold
                                                         : data.constraint_mean(r, j) <= 0.0);
    const double mean = means[i];
    if (feasible) feasible_rows_.push_back(i);
    if (feasible && (!incumbent_ || mean < *incumbent_)) {
      incumbent_ = mean;
      incumbent_evaluation_ = data.rows[r];
    }
    // Feasible points rank ahead of infeasible ones.
    ranked_inputs_.emplace_back(feasible ? mean : 1e6 + mean, data.inputs[r]);
  }
  std::sort(ranked_inputs_.begin(), ranked_inputs_.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
}

// Noisy EI once the noise is known, or learned large enough to blur what EI acts on; learned
// noise of a few percent of the spread (ripples the kernel cannot follow, on an exact function)
// is better served by plain EI's sharper polishing.
void BayesModels::choose_acquisition(const TrainingData& data, std::mt19937_64& rng) {
  use_noisy_improvement_ =
      objective_ && (data.known_noise || objective_->noise_variance() >= learned_noise_for_noisy_improvement);
  if (use_noisy_improvement_) {
    sample_seed_ = rng();
    build_noisy_improvement({});
  }
}

void BayesModels::build_noisy_improvement(const std::vector<std::vector<double>>& pending) {
  noisy_improvement_.reset();
  if (!incumbent_) return; // nothing feasible yet: the acquisition is the probability of feasibility
  const auto& data = objective_->inputs();
  Eigen::MatrixXd points(data.rows(), data.cols() + static_cast<Eigen::Index>(pending.size()));
  points.leftCols(data.cols()) = data;
  std::vector<Eigen::Index> baseline = feasible_rows_;
  for (std::size_t p = 0; p < pending.size(); ++p) {
    const auto column = data.cols() + static_cast<Eigen::Index>(p);
    points.col(column) = Eigen::Map<const Eigen::VectorXd>(pending[p].data(), data.rows());
    baseline.push_back(column);
  }
  noisy_improvement_.emplace(*objective_, std::move(points), baseline, sample_seed_);
}

void BayesModels::add_pending(std::span<const std::vector<double>> points) {
  if (points.empty()) return;
  for (const auto& x : points) {
    const Eigen::Map<const Eigen::VectorXd> column(x.data(), static_cast<Eigen::Index>(x.size()));
    if (objective_ && !use_noisy_improvement_) {
      // The believed value counts as observed, incumbent included: otherwise the point right next
      // to a fantasy would promise the whole predicted improvement again.
      const double believed = objective_->predict(x.data()).mean;
      objective_->add_point(column, believed);
      if (incumbent_) incumbent_ = std::min(*incumbent_, believed);
    }
    for (auto& c : constraints_) c.gp.add_point(column, c.gp.predict(x.data()).mean);
  }
  if (objective_ && use_noisy_improvement_) build_noisy_improvement({points.begin(), points.end()});
}

double BayesModels::acquisition(const double* x, double* gradient) const {
  const auto d = space_->dimensions();
  std::vector<double> dm(gradient ? d : 0), dv(gradient ? d : 0);
  if (gradient) std::fill(gradient, gradient + d, 0.0);
  double value = 0.0;

  if (noisy_improvement_) {
    value += noisy_improvement_->log_value(*objective_, x, gradient);
  } else if (objective_ && incumbent_) {
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
  if (noisy_improvement_) {
    noisy_improvement_->log_values(*objective_, x, total);
  } else if (objective_ && incumbent_) {
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
