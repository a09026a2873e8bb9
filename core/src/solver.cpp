#include <trimtab/core/solver.hpp>

#include <cmath>
#include <stdexcept>

namespace trimtab {

Solver::Solver(Space space, SolverOptions options) : space_(std::move(space)), options_(options) {}

void Solver::check_trial(const Point& point, const Observation& observation) const {
  if (auto why = space_.check(point)) throw std::invalid_argument(*why);
  if (observation.sem && !(std::isfinite(*observation.sem) && *observation.sem >= 0.0))
    throw std::invalid_argument("the standard error 'sem' must be a finite number >= 0");
  if (observation.failed) return;
  if (!std::isfinite(observation.value))
    throw std::invalid_argument("the value is not a finite number; report the evaluation as failed instead");
  for (double c : observation.constraints)
    if (!std::isfinite(c)) throw std::invalid_argument("a constraint value is not a finite number");
}

void Solver::tell(const Point& point, const Observation& observation) {
  check_trial(point, observation);
  record(Trial{point, observation});
}

void Solver::record(Trial trial) {
  history_.push_back(std::move(trial));
  const auto& added = history_.back();
  if (added.observation.feasible() && (!best_ || better(added.observation.value, history_[*best_].observation.value)))
    best_ = history_.size() - 1;
  on_tell(added);
}

void Solver::check_history(std::span<const Trial> history) const {
  // All or nothing: a bad record anywhere leaves the solver as it was.
  for (std::size_t i = 0; i < history.size(); ++i) {
    try {
      check_trial(history[i].point, history[i].observation);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("history record " + std::to_string(i + 1) + ": " + e.what());
    }
  }
}

void Solver::seed(std::span<const Trial> history) {
  check_history(history);
  for (const auto& trial : history) record(trial);
}

void Solver::seed(std::vector<Trial>&& history) {
  check_history(history);
  for (auto& trial : history) record(std::move(trial));
  history.clear();
}

std::vector<Point> Solver::ask_batch(std::size_t k, const Box& within) {
  std::vector<Point> points;
  for (std::size_t i = 0; i < k; ++i) {
    auto point = ask(within);
    if (!point) break;
    points.push_back(std::move(*point));
  }
  return points;
}

const Trial* Solver::best() const noexcept { return best_ ? &history_[*best_] : nullptr; }

} // namespace trimtab
