#pragma once

// Internal: the models BayesSolver keeps of the objective, the constraints and failures, and the
// acquisition function they make together.

#include <optional>
#include <random>
#include <span>
#include <vector>

#include <trimtab/core/evaluation.hpp>
#include <trimtab/core/space.hpp>

#include "gaussian_process.hpp"
#include "noisy_improvement.hpp"
#include "output_warping.hpp"

namespace trimtab::detail {

/// Whether a model update refits the hyperparameters, `measurements` being every tell so far and
/// `fitted_at` their count at the last fit; otherwise it only refactorises (a few milliseconds at
/// 100 points instead of tens). Hyperparameters move little once there is data: refit on every
/// change while the history is short, then whenever it has grown by a tenth, and at least every
/// 100 measurements. The last rule is for long studies: past max_training_rows the models' data
/// turns over while a tenth of the history grows to hundreds of tells, and hyperparameters left
/// that stale made bench/solvers' long study pick a configuration 14 % off after 10,000
/// evaluations (seed 1; 0.25 % off with this rule). Since the fit sees the models' 128 rows, 10
/// seeds to 10,000 do not rank the rule (bench/solvers/README.md): it is a guard, kept because
/// it costs no measured step time.
[[nodiscard]] bool hyperparameters_due(std::size_t measurements, std::size_t fitted_at);

class BayesModels {
public:
  explicit BayesModels(const Space& space);

  /// Rebuilds every model from `history`, one data point per configuration (all of them up to
  /// max_training_rows, then the ones training_rows() picks), and refits the
  /// hyperparameters (warm-started from the previous fit) as `measurements`, every tell so far,
  /// grows.
  void update(std::span<const Evaluation> history, std::size_t measurements, Direction direction,
              std::mt19937_64& rng);

  /// True when the objective has a model (two successful evaluations or more).
  [[nodiscard]] bool usable() const noexcept { return objective_.has_value(); }

  /// True when the measurements are noisy: some came with a standard error above 0, or the model
  /// has learned noise larger than a trace. The incumbent and the feasibility of evaluated points
  /// then follow the models rather than single measurements; the acquisition is noisy EI when the
  /// noise is known or the learned noise is large (10% of the spread).
  [[nodiscard]] bool noisy() const noexcept { return noisy_; }

  /// Treats the cube points as asked but not yet told: with exact measurements, as evaluated at
  /// their predicted values (kriging believer); with noisy ones, as points whose unknown values the
  /// noisy-EI samples cover. Either way a batch spreads out.
  void add_pending(std::span<const std::vector<double>> points);

  /// The log of (expected improvement x probability of feasibility), or of the probability of
  /// feasibility alone while no evaluation has been feasible; with its gradient when asked.
  [[nodiscard]] double acquisition(const double* x, double* gradient) const;

  /// The acquisition (without gradients) at many cube points at once.
  void acquisition(std::span<const std::vector<double>> points, std::vector<double>& values) const;

  /// Cube points of the best evaluated configurations so far (feasible ones first, by posterior
  /// mean), at most `count`.
  [[nodiscard]] std::vector<std::vector<double>> best_inputs(std::size_t count) const;

  [[nodiscard]] const GaussianProcess& objective() const { return *objective_; }

  /// The index in history of the feasible configuration with the best posterior mean.
  [[nodiscard]] std::optional<std::size_t> incumbent_evaluation() const noexcept { return incumbent_evaluation_; }

private:
  struct ConstraintModel {
    GaussianProcess gp;
    double threshold; // the standardised value at which the constraint stops holding
  };

  struct TrainingData; // what update() gathers from the history, one row per configuration
  struct FitBudget {
    int restarts;    // random restarts of each hyperparameter fit
    int evaluations; // local steps of each fit; 0 keeps the hyperparameters and only refactorises
  };

  [[nodiscard]] FitBudget plan_fit(std::size_t measurements);
  void fit_objective(const TrainingData& data, FitBudget budget, std::mt19937_64& rng);
  void fit_constraints(const TrainingData& data, FitBudget budget, std::mt19937_64& rng);
  void find_incumbent(const TrainingData& data);
  void choose_acquisition(const TrainingData& data, std::mt19937_64& rng);
  void build_noisy_improvement(const std::vector<std::vector<double>>& pending);

  [[nodiscard]] GaussianProcess new_model() const { return GaussianProcess(space_->dimensions(), indicators_); }

  const Space* space_;
  std::vector<std::size_t> indicators_; // cube coordinates that encode a category
  std::optional<GaussianProcess> objective_;
  OutputWarping warping_;
  std::vector<ConstraintModel> constraints_; // the user's, then one for failures when any occurred
  bool noisy_ = false;
  bool use_noisy_improvement_ = false; // noisy EI rather than EI over the best posterior mean
  std::optional<double> incumbent_;           // lowest posterior mean among feasible evaluations
  std::optional<std::size_t> incumbent_evaluation_; // and which configuration has it
  std::vector<std::pair<double, std::vector<double>>> ranked_inputs_;
  std::vector<Eigen::Index> feasible_rows_; // objective data points judged feasible
  std::uint64_t sample_seed_ = 0;
  std::optional<NoisyExpectedImprovement> noisy_improvement_;
  std::size_t fits_ = 0;
  std::size_t fitted_size_ = 0; // measurements at the last hyperparameter fit
};

} // namespace trimtab::detail
