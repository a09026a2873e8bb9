// Recommend mode: what the loop would apply, and how sure it is, published instead of applied.
#include <trimtab/core/tuning_loop.hpp>

#include <trimtab/core/number_text.hpp>

namespace trimtab {

void TuningLoop::recommend(TimePoint now) {
  const double sign = policy_.direction == Direction::maximize ? 1.0 : -1.0;
  // Window values per configuration, from the solver's history: this run's windows and whatever
  // seeded it (an earlier run's journal, offline results), pooled.
  auto windows_at = [&](const Point& at) {
    const Evaluation* evaluation = solver_->evaluation(at);
    return evaluation ? evaluation->summary() : SampleSummary{};
  };
  RecommendationRecord r;
  r.running = named(applied_);
  const auto running = windows_at(applied_);
  r.running_windows = running.count;
  if (running.count > 0) r.running_value = running.mean;
  const Evaluation* best = nullptr;
  try {
    best = solver_->recommendation();
  } catch (const std::exception&) {
    best = solver_->best(); // the model could not be fitted: the best pooled measurements stand in
  }
  if (best == nullptr) {
    r.reason = "nothing measured meets the constraints yet";
  } else {
    const auto evidence = best->summary();
    const double value = evidence.mean;
    r.point = named(best->point);
    r.value = value;
    r.windows = evidence.count;
    r.same_as_running = best->point == applied_;
    if (best->point == applied_) {
      r.reason = "keep what runs: nothing measured is better";
    } else if (running.count > 0) {
      const double base = running.mean;
      const double gain = sign * (value - base);
      const double effect = base != 0.0 ? gain / std::abs(base) : gain;
      RecommendationRecord::Comparison comparison{effect, std::nullopt, std::nullopt};
      const auto test = welch_t_test(SampleSummary{running.count, sign * running.mean, running.variance},
                                     SampleSummary{evidence.count, sign * evidence.mean, evidence.variance});
      std::string reason = (gain >= 0 ? "better by " : "worse by ") + number_text(std::abs(effect) * 100) + "% over " +
                           std::to_string(evidence.count) + " window(s) against " + std::to_string(running.count) +
                           " of what runs";
      if (test) {
        comparison.p_value = test->p_greater;
        comparison.confidence = 1.0 - test->p_greater;
        reason += " (confidence " + number_text((1.0 - test->p_greater) * 100) + "%)";
      } else {
        reason += "; too few windows for a confidence (two of each are needed)";
      }
      r.comparison = comparison;
      r.reason = std::move(reason);
    }
  }
  recommendation_ = r;
  record(std::move(r));
  begin_measurement(now, Purpose::remeasure);
}

} // namespace trimtab
