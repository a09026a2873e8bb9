// Scoring a window: its scrapes into the objective, the constraints' slack, per-interval samples
// and the evidence the verdicts weigh.
#include <trimtab/core/tuning_loop.hpp>

#include "loop_score.hpp"

#include <trimtab/core/window.hpp>

namespace trimtab {

std::chrono::milliseconds TuningLoop::window_duration(Purpose purpose) const noexcept {
  return purpose == Purpose::switchback ? policy_.switchback_duration : policy_.duration;
}

TuningLoop::Score TuningLoop::score_window(const Measurement& measured) const {
  Score score;
  score.purpose = measured.purpose;
  Window window(policy_.signals);
  for (const auto& scrape : measured.scrapes) window.add(scrape);
  for (const auto& spec : policy_.signals) score.signals.push_back(window.value(spec.name));

  auto gather = [&](const std::vector<std::size_t>& inputs, const std::vector<std::optional<double>>& signals,
                    std::vector<double>& values) {
    values.clear();
    for (auto index : inputs) {
      if (!signals[index]) return false;
      values.push_back(*signals[index]);
    }
    return true;
  };
  std::vector<double> values;
  if (gather(objective_inputs_, score.signals, values)) {
    const double value = policy_.objective.evaluate(values);
    if (std::isfinite(value)) score.value = value;
    else score.missing = "the objective is not a finite number over this window";
  } else {
    for (auto index : objective_inputs_)
      if (!score.signals[index]) {
        score.missing = "signal '" + policy_.signals[index].name + "' has no value over this window";
        break;
      }
  }
  for (std::size_t c = 0; c < policy_.constraints.size(); ++c)
    score.constraints.push_back(gather(constraint_inputs_[c], score.signals, values) ? policy_.constraints[c].slack(values)
                                                                                       : NAN);
  // Per-interval objective and constraint values, gathered scrape by scrape (add_interval).
  score.samples = measured.interval_objective;
  score.constraint_samples = measured.interval_constraints;
  score.constraint_samples.resize(policy_.constraints.size()); // no interval yet: none each
  return score;
}

void TuningLoop::add_interval(Measurement& window) const {
  // The interval between the last two scrapes: the spread behind each window's standard error and
  // the sequential test. Computed once per scrape, not again for every check of the window.
  window.interval_constraints.resize(policy_.constraints.size());
  Window pair(policy_.signals);
  pair.add(window.scrapes[window.scrapes.size() - 2]);
  pair.add(window.scrapes.back());
  std::vector<std::optional<double>> signals;
  for (const auto& spec : policy_.signals) signals.push_back(pair.value(spec.name));
  std::vector<double> values;
  auto gather = [&](const std::vector<std::size_t>& inputs) {
    values.clear();
    for (auto index : inputs) {
      if (!signals[index]) return false;
      values.push_back(*signals[index]);
    }
    return true;
  };
  if (gather(objective_inputs_)) {
    const double value = policy_.objective.evaluate(values);
    if (std::isfinite(value)) window.interval_objective.push_back(value);
  }
  for (std::size_t c = 0; c < policy_.constraints.size(); ++c)
    if (gather(constraint_inputs_[c])) {
      const double slack = policy_.constraints[c].slack(values);
      if (std::isfinite(slack)) window.interval_constraints[c].push_back(slack);
    }
}

Observation TuningLoop::solver_observation(const Score& score) const {
  Observation observation{*score.value, score.constraints, false};
  // The window's standard error is the point's own noise for the solver; unknown with fewer
  // than two intervals.
  const auto evidence = window_evidence(score);
  if (evidence.intervals >= 2) observation.sem = evidence.sem;
  return observation;
}

WindowEvidence TuningLoop::window_evidence(const Score& score) const {
  WindowEvidence evidence;
  evidence.value = score.value.value_or(0.0);
  const auto spread = summarize(score.samples);
  evidence.intervals = spread.count;
  evidence.sem = spread.count >= 2 ? std::sqrt(spread.variance / static_cast<double>(spread.count)) : 0.0;
  evidence.constraints = score.constraints;
  return evidence;
}

void TuningLoop::record_observation(const Point& point, const Score& score, bool failed) {
  ObservationRecord r;
  r.point = named(point);
  r.purpose = score.purpose;
  for (std::size_t i = 0; i < policy_.signals.size(); ++i) r.signals.emplace_back(policy_.signals[i].name, score.signals[i]);
  r.samples = score.samples.size();
  r.window = score.purpose == Purpose::candidate ? windows_scored_ : 0;
  r.guard = guarding() && (score.purpose == Purpose::remeasure || score.purpose == Purpose::switchback);
  r.failed = failed;
  if (!failed) {
    r.value = *score.value;
    r.sem = window_evidence(score).sem;
    for (double c : score.constraints) r.constraints.emplace_back(std::isfinite(c) ? std::optional<double>(c) : std::nullopt);
  }
  record(std::move(r));
}

} // namespace trimtab
