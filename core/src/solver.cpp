#include <trimtab/core/solver.hpp>

#include <cmath>
#include <stdexcept>

namespace trimtab {

Solver::Solver(Space space, SolverOptions options) : space_(std::move(space)), options_(options) {}

void Solver::check(const Point& point, const Observation& observation) const {
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
  check(point, observation);
  record(point, observation);
}

void Solver::record(const Point& point, const Observation& observation) {
  const auto index = history_.add(point, observation);
  // Another measurement moves its configuration's pooled value either way: when it was the best,
  // another may be now.
  if (best_ == index) find_best();
  else if (beats_best(index)) best_ = index;
  on_tell(index);
}

bool Solver::beats_best(std::size_t index) const noexcept {
  return history_[index].feasible() && (!best_ || better(history_[index].value(), history_[*best_].value()));
}

void Solver::find_best() {
  best_.reset();
  for (std::size_t i = 0; i < history_.size(); ++i)
    if (beats_best(i)) best_ = i;
}

void Solver::check_history(std::span<const Trial> history) const {
  // All or nothing: a bad record anywhere leaves the solver as it was.
  for (std::size_t i = 0; i < history.size(); ++i) {
    try {
      check(history[i].point, history[i].observation);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument("history record " + std::to_string(i + 1) + ": " + e.what());
    }
  }
}

void Solver::seed(std::span<const Trial> history) {
  check_history(history);
  for (const auto& trial : history) record(trial.point, trial.observation);
}

void Solver::seed(const EvaluationHistory& pooled) {
  for (const auto& evaluation : pooled.all()) {
    if (auto why = space_.check(evaluation.point)) throw std::invalid_argument(*why);
    bool finite = std::isfinite(evaluation.value()) && std::isfinite(evaluation.known_variance());
    for (double sum : evaluation.constraint_sums) finite = finite && std::isfinite(sum);
    if (!finite) throw std::invalid_argument("the pooled measurements are not finite");
  }
  history_.merge(pooled, [this](std::size_t index) { on_tell(index); });
  find_best();
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

const Evaluation* Solver::best() const noexcept { return best_ ? &history_[*best_] : nullptr; }

} // namespace trimtab
