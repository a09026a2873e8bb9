#include <trimtab/core/evaluation.hpp>

#include <algorithm>
#include <cmath>

#include <trimtab/core/point_set.hpp>

namespace trimtab {

void Evaluation::add(const Observation& observation, std::size_t ordinal) {
  if (measurements == 0) first_told = ordinal;
  last_told = ordinal;
  ++measurements;
  if (observation.failed) {
    ++failures;
    return;
  }
  const double delta = observation.value - mean;
  mean += delta / static_cast<double>(successes());
  squared_deviations += delta * (observation.value - mean);
  if (const auto sem = observation.sem) {
    ++sems_told;
    if (*sem > 0.0) {
      ++positive_sems;
      precision += 1.0 / (*sem * *sem);
      weighted_sum += observation.value / (*sem * *sem);
      variance_sum += *sem * *sem;
    }
  }
  const auto& c = observation.constraints;
  constraint_sums.resize(std::max(constraint_sums.size(), c.size()), 0.0);
  for (std::size_t j = 0; j < c.size(); ++j) constraint_sums[j] += c[j];
}

void Evaluation::merge(const Evaluation& other, std::size_t ordinal_offset) {
  if (other.measurements == 0) return;
  if (measurements == 0) first_told = other.first_told + ordinal_offset;
  last_told = std::max(last_told, other.last_told + ordinal_offset);
  // Chan et al.'s pairwise update of the mean and the squared deviations.
  const auto n = static_cast<double>(successes()), m = static_cast<double>(other.successes());
  if (m > 0) {
    const double delta = other.mean - mean;
    mean += delta * m / (n + m);
    squared_deviations += other.squared_deviations + delta * delta * n * m / (n + m);
  }
  measurements += other.measurements;
  failures += other.failures;
  sems_told += other.sems_told;
  positive_sems += other.positive_sems;
  precision += other.precision;
  weighted_sum += other.weighted_sum;
  variance_sum += other.variance_sum;
  constraint_sums.resize(std::max(constraint_sums.size(), other.constraint_sums.size()), 0.0);
  for (std::size_t j = 0; j < other.constraint_sums.size(); ++j) constraint_sums[j] += other.constraint_sums[j];
}

SampleSummary Evaluation::summary() const noexcept {
  const auto n = successes();
  return SampleSummary{n, mean, n >= 2 ? squared_deviations / static_cast<double>(n - 1) : 0.0};
}

double Evaluation::value() const noexcept {
  if (successes() == 0) return 0.0;
  return positive_sems == successes() ? weighted_sum / precision : mean;
}

double Evaluation::known_variance() const noexcept {
  if (successes() == 0) return 0.0;
  if (positive_sems == successes()) return 1.0 / precision;
  return variance_sum / (static_cast<double>(successes()) * static_cast<double>(successes()));
}

std::optional<double> Evaluation::sem() const noexcept {
  if (successes() == 0 || sems_told != successes()) return std::nullopt;
  return std::sqrt(known_variance());
}

double Evaluation::constraint(std::size_t j) const noexcept {
  return j < constraint_sums.size() && successes() > 0 ? constraint_sums[j] / static_cast<double>(successes()) : 0.0;
}

std::vector<double> Evaluation::constraints() const {
  std::vector<double> means(constraint_sums.size());
  for (std::size_t j = 0; j < means.size(); ++j) means[j] = constraint(j);
  return means;
}

bool Evaluation::feasible() const noexcept {
  if (failures > 0 || successes() == 0) return false;
  for (std::size_t j = 0; j < constraint_sums.size(); ++j)
    if (!(constraint(j) <= 0.0)) return false;
  return true;
}

std::optional<std::size_t> EvaluationHistory::index_of(const Point& point, std::uint64_t fingerprint) const {
  const auto [first, last] = by_fingerprint_.equal_range(fingerprint);
  for (auto it = first; it != last; ++it)
    if (evaluations_[it->second].point == point) return it->second;
  return std::nullopt;
}

std::size_t EvaluationHistory::index_for(const Point& point) {
  const auto fingerprint = PointSet::fingerprint(point);
  if (const auto index = index_of(point, fingerprint)) return *index;
  evaluations_.emplace_back();
  evaluations_.back().point = point;
  by_fingerprint_.emplace(fingerprint, evaluations_.size() - 1);
  return evaluations_.size() - 1;
}

std::size_t EvaluationHistory::add(const Point& point, const Observation& observation) {
  const auto index = index_for(point);
  evaluations_[index].add(observation, measurements_++);
  return index;
}

std::size_t EvaluationHistory::merge(const Evaluation& evaluation, std::size_t ordinal_offset) {
  const auto index = index_for(evaluation.point);
  evaluations_[index].merge(evaluation, ordinal_offset);
  return index;
}

const Evaluation* EvaluationHistory::find(const Point& point) const {
  const auto index = index_of(point, PointSet::fingerprint(point));
  return index ? &evaluations_[*index] : nullptr;
}

} // namespace trimtab
