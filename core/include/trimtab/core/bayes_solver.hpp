#pragma once

#include <cstddef>
#include <memory>
#include <random>
#include <vector>

#include <trimtab/core/point_set.hpp>
#include <trimtab/core/sobol_sequence.hpp>
#include <trimtab/core/solver.hpp>

namespace trimtab {

struct BayesOptions {
  /// Space-filling (Sobol) points before the model takes over; 0 picks one per cube dimension plus
  /// one, at least 5.
  std::size_t initial_points = 0;
};

/// Bayesian optimisation: a Gaussian-process model of the objective (and of each constraint, and
/// of where evaluations fail) proposes the configuration with the highest expected improvement,
/// weighted by the probability that it is feasible and will not fail.
///
/// - Model: Matérn-5/2 kernel with a lengthscale per cube coordinate, learned noise, fitted by
///   maximum a posteriori from the previous fit plus random restarts (a categorical label's one-hot
///   coordinates start from longer lengthscales, so labels begin related); losses go through a robust
///   monotone warping first, so heavy-tailed latencies do not dominate. A measurement's standard
///   error (Observation::sem) is its own known noise on top of the learned floor, carried through
///   the warping by its slope. Repeated measurements of one configuration pool into one data point:
///   their mean (inverse-variance weighted when all have a sem), with the noise of a mean.
/// - Acquisition: with exact measurements, log expected improvement over the best posterior mean
///   seen, which keeps a slope far from the incumbent instead of rounding to zero. With noisy ones
///   (a sem above 0 was told, or the model learned noise), log noisy expected improvement (Letham et
///   al. 2019): EI averaged over joint posterior samples of the evaluated points, each sample's
///   incumbent its own best value, so a lucky draw does not set the bar and re-measuring it
///   promises nothing. The prior mean is the worst value seen, so unexplored corners do not look
///   promising for their variance alone.
/// - Two asks in three search a region around the incumbent (TuRBO-shaped: wider along smooth
///   coordinates) that doubles after an improvement and halves after a miss (two misses in a row
///   once the model has learned noise); the third searches the whole box. The first polishes the
///   best basin to high precision, the second keeps looking for better basins.
/// - Search: scores Sobol and local candidates, then refines the best by gradient steps on the
///   continuous coordinates alternated with moves to neighbouring values of ints, ordinals and
///   labels, so discrete parameters are searched as what they are rather than rounded afterwards.
/// - Pending asks (batches, or asks before their tells) enter the model as if they had returned
///   their predicted value (kriging believer) with exact measurements; with noisy ones, noisy EI's
///   samples cover them as points whose value is still unknown. Either way a batch spreads out.
/// Deterministic for a given seed and sequence of calls.
class BayesSolver final : public Solver {
public:
  BayesSolver(Space space, SolverOptions options, BayesOptions bayes = {});
  ~BayesSolver() override;

  using Solver::ask;
  [[nodiscard]] std::optional<Point> ask(const Box& within) override;
  void cancel(const Point& point) override;
  /// With noisy measurements (a sem above 0 was told, or the model learned noise larger than a
  /// trace): the evaluated configuration, feasible, with the best posterior mean, where feasibility
  /// follows a constraint's model when that model learned noise (unlike best(), a configuration
  /// that failed once is not excluded). best() otherwise, where measurements are exact.
  [[nodiscard]] const Evaluation* recommendation() override;

  /// The number of initial space-filling points.
  [[nodiscard]] std::size_t initial_points() const noexcept { return initial_points_; }

private:
  void on_tell(std::size_t index) override;
  [[nodiscard]] std::optional<Point> design_point(const UnitBox& box);
  void refresh_models();
  [[nodiscard]] std::optional<Point> model_point(const UnitBox& box, bool local);
  [[nodiscard]] UnitBox local_box(const UnitBox& box) const;

  std::size_t initial_points_;
  std::mt19937_64 rng_;
  SobolSequence design_;
  PointSet visited_; // told or pending
  std::vector<Point> pending_;
  std::vector<Point> pending_local_; // pending asks that came from the local region
  // The local region's side relative to the cube, following how well local steps do (see above).
  double local_length_;
  std::size_t model_asks_ = 0; // model-based asks so far; every third one is global
  int local_misses_ = 0;       // local steps in a row that did not improve
  std::vector<std::size_t> local_results_; // local steps told since the models were refreshed
  // The models and the acquisition search, kept out of this header (Eigen, NLopt).
  struct State;
  std::unique_ptr<State> state_;
};

} // namespace trimtab
