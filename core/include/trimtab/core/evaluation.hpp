#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include <trimtab/core/observation.hpp>
#include <trimtab/core/statistics.hpp>

namespace trimtab {

/// Every measurement a solver was told of one configuration, pooled.
///
/// A solver keeps one of these per configuration, not one Trial per measurement: an agent that
/// re-measures its incumbent for weeks holds as many as it has configurations. What each
/// measurement said on its own is gone; what any decision uses of them is kept: how many there
/// were, how many failed, the mean and spread of the values, the pooled standard error and the
/// constraints' means.
struct Evaluation {
  Point point;
  std::size_t measurements = 0; ///< every tell of this configuration, failed ones included
  std::size_t failures = 0;     ///< tells that reported a failure
  /// Which of the solver's tells (counted from 0 over all configurations) first measured this
  /// configuration, and which last did.
  std::size_t first_told = 0, last_told = 0;
  /// The successful measurements' values: their plain mean and sum of squared deviations from it
  /// (Welford's update, see summary()).
  double mean = 0.0, squared_deviations = 0.0;
  /// The successful measurements' standard errors: how many came with one, and the sums an
  /// inverse-variance pooled mean needs (over those above 0).
  std::size_t sems_told = 0, positive_sems = 0;
  double precision = 0.0, weighted_sum = 0.0, variance_sum = 0.0;
  /// Per constraint, the sum of the successful measurements' slack values.
  std::vector<double> constraint_sums;

  /// Pools one more measurement, the `ordinal`-th tell of the solver.
  void add(const Observation& observation, std::size_t ordinal);
  /// Pools the measurements of `other`, of the same configuration, told after this one's: its
  /// ordinals are shifted by `ordinal_offset`.
  void merge(const Evaluation& other, std::size_t ordinal_offset);

  [[nodiscard]] std::size_t successes() const noexcept { return measurements - failures; }

  /// The successful measurements' values as one sample: count, plain mean, unbiased variance.
  [[nodiscard]] SampleSummary summary() const noexcept;

  /// The pooled objective value: weighted by each measurement's inverse variance when every
  /// successful one came with a standard error above 0, else their plain mean. 0 without a
  /// success.
  [[nodiscard]] double value() const noexcept;

  /// The variance of value() that the told standard errors account for (0 when none was told).
  [[nodiscard]] double known_variance() const noexcept;

  /// The standard error of value() when every successful measurement came with one; nothing
  /// otherwise.
  [[nodiscard]] std::optional<double> sem() const noexcept;

  /// The mean slack of constraint `j` over the successful measurements (0, holding, when no
  /// measurement reported it).
  [[nodiscard]] double constraint(std::size_t j) const noexcept;
  [[nodiscard]] std::vector<double> constraints() const;

  /// Measured without a failure, and every constraint holds on average: a configuration that
  /// crashed or could not be measured once is not one to deploy, however well it did otherwise.
  [[nodiscard]] bool feasible() const noexcept;
};

/// A solver's history: one Evaluation per configuration, in the order each was first told.
class EvaluationHistory {
public:
  /// Pools one measurement into its configuration's Evaluation (added when new); returns its index.
  std::size_t add(const Point& point, const Observation& observation);
  /// Pools every measurement of `other` as if told after this history's, one configuration at a
  /// time; calls `pooled(index)` after each.
  template <typename Pooled> void merge(const EvaluationHistory& other, Pooled&& pooled) {
    const auto offset = measurements_;
    for (const auto& evaluation : other.evaluations_) pooled(merge(evaluation, offset));
    measurements_ += other.measurements_;
  }

  /// The configuration's Evaluation, or nothing when it was never told.
  [[nodiscard]] const Evaluation* find(const Point& point) const;

  [[nodiscard]] std::span<const Evaluation> all() const noexcept { return evaluations_; }
  [[nodiscard]] std::size_t size() const noexcept { return evaluations_.size(); }
  [[nodiscard]] const Evaluation& operator[](std::size_t i) const { return evaluations_[i]; }
  /// Every measurement told so far, over all configurations.
  [[nodiscard]] std::size_t measurements() const noexcept { return measurements_; }

private:
  std::size_t merge(const Evaluation& evaluation, std::size_t ordinal_offset);
  [[nodiscard]] std::size_t index_for(const Point& point);
  [[nodiscard]] std::optional<std::size_t> index_of(const Point& point, std::uint64_t fingerprint) const;

  std::vector<Evaluation> evaluations_;
  // By PointSet's fingerprint; a shared fingerprint is told apart by comparing the points.
  std::unordered_multimap<std::uint64_t, std::size_t> by_fingerprint_;
  std::size_t measurements_ = 0;
};

} // namespace trimtab
