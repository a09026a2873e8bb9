#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include <trimtab/core/box.hpp>
#include <trimtab/core/evaluation.hpp>
#include <trimtab/core/observation.hpp>
#include <trimtab/core/space.hpp>

namespace trimtab {

struct SolverOptions {
  /// Whether larger or smaller objective values are better.
  Direction direction = Direction::minimize;
  /// Every random choice a solver makes derives from this seed: same seed, same proposals.
  std::uint64_t seed = 0;
};

/// The ask/tell interface every solver implements.
///
/// ask() proposes a configuration; tell() reports what it did. Asks need not alternate with tells
/// (several candidates may be out at once), and tell() accepts configurations the solver never
/// proposed, so results from elsewhere count too. Solvers never propose a configuration twice.
class Solver {
public:
  Solver(Space space, SolverOptions options);
  virtual ~Solver() = default;
  Solver(const Solver&) = delete;
  Solver& operator=(const Solver&) = delete;

  /// The next configuration to evaluate, or nothing when the solver has nothing left to propose.
  [[nodiscard]] std::optional<Point> ask() { return ask(Box{}); }

  /// The next configuration to evaluate within `within` (the region the guardrails let the service
  /// reach in one step): the best the solver can propose there, rather than a far point that would
  /// be cut short later. Nothing when no configuration is left there. Throws std::invalid_argument
  /// for a box that does not fit the space.
  [[nodiscard]] virtual std::optional<Point> ask(const Box& within) = 0;

  /// Up to k configurations to evaluate at once (several replicas), all different. The default asks
  /// k times; model-based solvers make each ask aware of the ones before it.
  [[nodiscard]] virtual std::vector<Point> ask_batch(std::size_t k, const Box& within = {});

  /// Records an evaluation; a configuration may be told more than once (repeated measurements).
  /// Throws std::invalid_argument when the point is not a configuration of the space, the sem is
  /// negative or not finite, or the observation is not failed yet has a non-finite value or
  /// constraint.
  void tell(const Point& point, const Observation& observation);

  /// Withdraws a proposal that will not be evaluated (its apply failed before anything was
  /// measured, an operator vetoed it): the solver stops counting it as pending. Grid and random
  /// solvers still never propose it again; the Bayesian solver may, if it remains the best bet.
  virtual void cancel(const Point& /*point*/) {}

  /// Warm-starts from earlier evaluations (a journal, an offline study), all or nothing: throws
  /// std::invalid_argument naming the first bad record and then records none.
  void seed(std::span<const Trial> history);
  /// The same from measurements already pooled, each of which passed check(): a journal's replay
  /// pools its windows as it reads them rather than holding one Trial per window. Throws
  /// std::invalid_argument, and records none, when a configuration does not fit the space or a
  /// pooled value is not finite.
  void seed(const EvaluationHistory& pooled);

  /// Throws std::invalid_argument saying why tell() would refuse this measurement.
  void check(const Point& point, const Observation& observation) const;

  [[nodiscard]] const Space& space() const noexcept { return space_; }
  [[nodiscard]] const SolverOptions& options() const noexcept { return options_; }
  /// Every configuration told so far, each with its measurements pooled (Evaluation), in the order
  /// each was first told.
  [[nodiscard]] std::span<const Evaluation> history() const noexcept { return history_.all(); }
  /// The configuration's pooled measurements, or nothing when it was never told.
  [[nodiscard]] const Evaluation* evaluation(const Point& point) const { return history_.find(point); }
  /// Every measurement told so far (seeded ones included), over all configurations.
  [[nodiscard]] std::size_t measurements() const noexcept { return history_.measurements(); }

  /// The feasible configuration with the best pooled value (Evaluation::value), by the solver's
  /// direction; nothing while none is feasible. What to deploy is recommendation().
  [[nodiscard]] const Evaluation* best() const noexcept;

  /// The evaluated configuration the solver would run now. best() for solvers without a model; a
  /// model-based solver whose measurements are noisy (told with a standard error, or noise it has
  /// learned) picks the best posterior mean instead, so one lucky configuration among many
  /// measured once does not decide what gets deployed.
  [[nodiscard]] virtual const Evaluation* recommendation() { return best(); }

  /// True when `a` is a better objective value than `b` in the solver's direction.
  [[nodiscard]] bool better(double a, double b) const noexcept {
    return options_.direction == Direction::maximize ? a > b : a < b;
  }

protected:
  /// Called after a measurement is pooled into history()[index].
  virtual void on_tell(std::size_t /*index*/) {}

private:
  void check_history(std::span<const Trial> history) const;
  void record(const Point& point, const Observation& observation);
  [[nodiscard]] bool beats_best(std::size_t index) const noexcept;
  void find_best();

  Space space_;
  SolverOptions options_;
  EvaluationHistory history_;
  std::optional<std::size_t> best_;
};

} // namespace trimtab
