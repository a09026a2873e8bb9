#include <trimtab/agent/study_fold.hpp>

#include <algorithm>
#include <cmath>

#include <boost/json/value.hpp>

#include <trimtab/core/expression.hpp>
#include <trimtab/core/journal_codec.hpp>
#include <trimtab/core/overloaded.hpp>

#include "journal_record_fields.hpp"

namespace trimtab {
namespace json = boost::json;
using namespace journal_fields;

std::size_t StudyCounts::refusals_total() const {
  std::size_t total = 0;
  for (const auto& [reason, count] : refusals) total += count;
  return total;
}

namespace {

// A finite number, or nothing: the report shows no NaN.
std::optional<double> finite(std::optional<double> value) {
  return value && std::isfinite(*value) ? value : std::nullopt;
}

/// An observation as a window. Its index is the record's `window`; without one (older journals),
/// counted on from the window before it, as a candidate counts.
WindowSummary observed_window(const ObservationRecord& r, std::int64_t time_ms, const std::vector<WindowSummary>& windows) {
  WindowSummary window;
  window.purpose = purpose_name(r.purpose);
  const std::int64_t previous = windows.empty() ? 0 : windows.back().index;
  const bool counted = r.purpose == Purpose::candidate;
  window.index = r.window ? static_cast<std::int64_t>(*r.window) : previous + (counted ? 1 : 0);
  window.time_ms = time_ms;
  window.point = settings_to_json(r.point);
  if (!r.failed) window.value = finite(r.value);
  for (const auto& [name, value] : r.signals) window.signals[name] = finite(value);
  return window;
}

/// A decision onto the window it decided: its verdict, the count of that verdict and the
/// incumbent that followed.
void fold_decision(StudyReport& report, const DecisionRecord& r, std::int64_t time_ms) {
  if (report.windows.empty() || !report.windows.back().verdict.empty()) {
    // A decision with no observation before it (a window discarded before it was scored): it
    // shares the index of the window before it.
    WindowSummary window;
    window.index = report.windows.empty() ? 0 : report.windows.back().index;
    window.time_ms = time_ms;
    if (r.point) window.point = settings_to_json(*r.point);
    report.windows.push_back(std::move(window));
  }
  auto& window = report.windows.back();
  window.verdict = verdict_name(r.verdict);
  window.reason = r.reason;
  window.effect = finite(r.effect);
  window.p_value = finite(r.p_value);
  if (!window.value) window.value = finite(r.value);
  switch (r.verdict) {
  case DecisionVerdict::promote:
    ++report.counts.promotions;
    window.incumbent_value = window.value ? window.value : finite(r.incumbent_value);
    return;
  case DecisionVerdict::keep: ++report.counts.keeps; break;
  case DecisionVerdict::rollback: ++report.counts.rollbacks; break;
  case DecisionVerdict::discard: ++report.counts.discards; break;
  case DecisionVerdict::extend: ++report.counts.extensions; break;
  case DecisionVerdict::confirm: ++report.counts.confirmations; break;
  }
  window.incumbent_value = finite(r.incumbent_value);
  if (!window.incumbent_value) window.incumbent_value = report.incumbent_value;
}

} // namespace

StudyFold::StudyFold(std::size_t max_windows) : max_windows_(std::max(max_windows, trend_windows + 10)) {}

void StudyFold::forget_old_windows() {
  // In chunks, so forgetting costs O(1) a window rather than moving the whole vector each time.
  if (max_windows_ == 0 || report_.windows.size() <= max_windows_ + max_windows_ / 4) return;
  auto& windows = report_.windows;
  const auto forget = windows.size() - max_windows_;
  if (forgotten_windows_ == 0) {
    first_window_purpose_ = windows.front().purpose;
    first_window_value_ = windows.front().value;
  }
  // report() falls back on the first window's point for a baseline no start record named.
  if (!report_.baseline) report_.baseline = windows.front().point;
  for (std::size_t i = 0; i < forget; ++i) {
    const auto& window = windows[i];
    if (!forgotten_baseline_window_value_ && window.value && window.purpose == "baseline")
      forgotten_baseline_window_value_ = window.value;
    if (!forgotten_baseline_point_value_ && window.value && same_point(window.point, *report_.baseline))
      forgotten_baseline_point_value_ = window.value;
  }
  windows.erase(windows.begin(), windows.begin() + static_cast<std::ptrdiff_t>(forget));
  forgotten_windows_ += forget;
}

void StudyFold::add(const json::object& record) {
  try {
    add(decode_line(record));
  } catch (const std::invalid_argument&) {
    ++report_.records; // a record this build cannot read says nothing the report could show
  }
}

void StudyFold::add(const JournalLine& line) {
  ++report_.records;
  if (report_.first_time_ms == 0) report_.first_time_ms = line.time_ms;
  report_.last_time_ms = std::max(report_.last_time_ms, line.time_ms);
  std::visit(detail::overloaded{
                 [&](const StartRecord& r) { fold_start(r); },
                 [&](const AppliedRecord& r) { report_.applied = settings_to_json(r.point); },
                 [&](const ApplyFailedRecord&) { ++report_.counts.apply_failures; },
                 [&](const ObservationRecord& r) {
                   report_.windows.push_back(observed_window(r, line.time_ms, report_.windows));
                   forget_old_windows();
                 },
                 [&](const DecisionRecord& r) { fold_decision(report_, r, line.time_ms); },
                 [&](const IncumbentRecord& r) { fold_incumbent(r); },
                 [&](const RefusalRecord& r) { ++report_.counts.refusals[r.reason.empty() ? std::string("unknown") : r.reason]; },
                 [&](const SafeModeRecord& r) {
                   report_.safe_mode = r.entered;
                   report_.safe_mode_reason = r.reason;
                 },
                 [&](const OperatorRecord& r) {
                   if (r.action == OperatorCommand::pause) report_.paused = true;
                   else if (r.action == OperatorCommand::resume) report_.paused = false;
                   else if (r.action == OperatorCommand::rollback) ++report_.counts.operator_rollbacks;
                 },
                 [&](const ModeRecord& r) {
                   report_.mode = mode_name(r.mode);
                   if (r.mode != TuningMode::recommend) report_.recommendation.reset();
                 },
                 [&](const RecommendationRecord& r) { report_.recommendation = r; },
                 [&](const ClaimRecord& r) { report_.claim = r; },
                 [&](const DoneRecord& r) {
                   report_.done = true;
                   report_.done_reason = r.reason;
                   if (r.best) report_.best = settings_to_json(*r.best);
                   report_.best_value = finite(r.best_value);
                 },
                 // Any other kind (apply, in_effect, kinds from newer versions) does not change the summary.
                 [](const auto&) {},
             },
             line.record);
}

void StudyFold::fold_start(const StartRecord& r) {
  if (!report_.baseline) report_.baseline = settings_to_json(r.baseline);
  report_.enabled = r.enabled;
  report_.mode = mode_name(r.mode);
  if (r.mode != TuningMode::recommend) report_.recommendation.reset();
  if (r.resumed) ++report_.counts.restarts;
  report_.maximize = r.direction == Direction::maximize;
  if (!r.objective.empty()) report_.objective_expression = r.objective;
  constraints_ = r.constraints;
}

void StudyFold::fold_incumbent(const IncumbentRecord& r) {
  const auto point = settings_to_json(r.point);
  report_.incumbent = point;
  report_.incumbent_value = finite(r.value);
  if (report_.incumbent_value) {
    if (report_.baseline) {
      // Matched now rather than kept: remeasures write one of these every few windows.
      if (same_point(point, *report_.baseline)) baseline_incumbent_value_ = report_.incumbent_value;
    } else {
      incumbent_points_.push_back(point);
      incumbent_values_.push_back(*report_.incumbent_value);
    }
  }
  // The incumbent a decision led to (a promotion, a remeasure) is written right after it.
  if (!report_.windows.empty() && !report_.windows.back().verdict.empty() && report_.incumbent_value)
    report_.windows.back().incumbent_value = report_.incumbent_value;
}

StudyReport StudyFold::report() const {
  StudyReport report = report_;
  std::optional<double> baseline_from_incumbent; // fallback for the baseline's value

  report.counts.windows = report.windows.size() + forgotten_windows_;
  if (!report.baseline && !report.windows.empty()) report.baseline = report.windows.front().point;
  report.baseline_value = forgotten_baseline_window_value_;
  for (std::size_t i = 0; !report.baseline_value && i < report.windows.size(); ++i)
    if (report.windows[i].value && report.windows[i].purpose == "baseline") report.baseline_value = report.windows[i].value;
  if (report.baseline && !report.baseline_value) {
    report.baseline_value = forgotten_baseline_point_value_;
    for (std::size_t i = 0; !report.baseline_value && i < report.windows.size(); ++i)
      if (report.windows[i].value && same_point(report.windows[i].point, *report.baseline))
        report.baseline_value = report.windows[i].value;
    for (std::size_t i = 0; !report.baseline_value && i < incumbent_points_.size(); ++i)
      if (same_point(incumbent_points_[i], *report.baseline)) baseline_from_incumbent = incumbent_values_[i];
    if (baseline_incumbent_value_) baseline_from_incumbent = baseline_incumbent_value_; // the later ones
    if (!report.baseline_value) report.baseline_value = baseline_from_incumbent;
  }
  // Neither: the first window measured what was live when the agent started, if it says so.
  if (!report.baseline_value && forgotten_windows_ > 0) {
    if (first_window_purpose_ == "remeasure") report.baseline_value = first_window_value_;
  } else if (!report.baseline_value && !report.windows.empty()) {
    const auto& first = report.windows.front();
    if (first.purpose == "remeasure") report.baseline_value = first.value;
  }
  if (report.baseline_value && report.incumbent_value) {
    const double better = (report.maximize ? 1 : -1) * (*report.incumbent_value - *report.baseline_value);
    const double improvement =
        *report.baseline_value != 0 ? better / std::abs(*report.baseline_value) : better;
    if (std::isfinite(improvement)) {
      report.improvement = improvement;
      report.improvement_method = "as measured";
    }
  }
  if (report.claim) {
    report.improvement_method = report.claim->method;
    if (const auto& estimate = report.claim->estimate; estimate && std::isfinite(estimate->improvement)) {
      report.improvement = estimate->improvement;
      report.improvement_low = finite(estimate->low);
      report.improvement_high = finite(estimate->high);
    }
  }
  report.constraints = constraints_;
  compute_trends(report, goodness_from_constraints(constraints_));
  return report;
}

StudyReport study_report_from_journal(std::span<const json::object> records) {
  StudyFold fold;
  for (const auto& record : records) fold.add(record);
  return fold.report();
}

namespace {

/// Earlier windows flag_anomalies() compares each window with.
constexpr std::size_t anomaly_lookback = 10;

/// One quantity's values, in journal order, and where each came from in StudyReport::windows.
struct Series {
  std::vector<double> values;
  std::vector<std::size_t> positions;

  void add(const std::optional<double>& value, std::size_t position) {
    if (!value) return;
    values.push_back(*value);
    positions.push_back(position);
  }
};

/// The trend of the last trend_windows values of `series`; the windows whose value is an anomaly
/// are added to `anomalous` as positions in `windows`.
SignalTrend series_trend(std::string name, Goodness goodness, const Series& series,
                         const std::vector<WindowSummary>& windows, std::vector<std::size_t>& anomalous) {
  SignalTrend result;
  result.name = std::move(name);
  result.goodness = goodness;
  const std::span<const double> values(series.values);
  result.windows_used = std::min(values.size(), trend_windows);
  const std::size_t from = values.size() - result.windows_used;
  result.trend = analyse_trend(values.subspan(from));
  result.label = result.trend ? trend_label(result.trend->direction, goodness) : "too few windows";
  // The windows before the analysed ones serve as history, so the first analysed can be flagged.
  const std::size_t history_from = from - std::min(from, anomaly_lookback);
  const auto flags = flag_anomalies(values.subspan(history_from), anomaly_lookback);
  for (std::size_t k = from; k < values.size(); ++k) {
    if (!flags[k - history_from]) continue;
    result.anomalous_windows.push_back(windows[series.positions[k]].index);
    anomalous.push_back(series.positions[k]);
  }
  return result;
}

} // namespace

void compute_trends(StudyReport& report, const std::map<std::string, Goodness>& goodness) {
  report.trends.clear();
  Series objective;
  std::map<std::string, Series> signals;
  for (std::size_t i = 0; i < report.windows.size(); ++i) {
    auto& window = report.windows[i];
    window.anomaly = false;
    objective.add(window.value, i);
    for (const auto& [name, value] : window.signals) signals[name].add(value, i);
  }

  std::vector<std::size_t> anomalous;
  report.trends.push_back(series_trend("objective", report.maximize ? Goodness::higher_better : Goodness::lower_better,
                                       objective, report.windows, anomalous));
  for (const std::size_t i : anomalous) report.windows[i].anomaly = true;
  for (const auto& [name, series] : signals) {
    const auto known = goodness.find(name);
    anomalous.clear();
    report.trends.push_back(series_trend(name, known == goodness.end() ? Goodness::unknown : known->second, series,
                                         report.windows, anomalous));
  }
}

std::map<std::string, Goodness> goodness_from_constraints(const std::vector<std::string>& constraint_texts) {
  std::map<std::string, Goodness> goodness;
  std::vector<std::string> ambiguous;
  for (const auto& text : constraint_texts) {
    std::optional<Constraint> constraint;
    try {
      constraint = Constraint::parse_constraint(text);
    } catch (const ExpressionError&) {
      continue;
    }
    // A lone signal name: the side's text is exactly one of the constraint's variables.
    const auto& names = constraint->variables();
    const std::string name(constraint->left.text());
    if (std::find(names.begin(), names.end(), name) == names.end()) continue;
    const bool below = constraint->relation == Relation::less || constraint->relation == Relation::less_equal;
    const Goodness way = below ? Goodness::lower_better : Goodness::higher_better;
    const auto [at, inserted] = goodness.emplace(name, way);
    if (!inserted && at->second != way) ambiguous.push_back(name);
  }
  for (const auto& name : ambiguous) goodness.erase(name);
  return goodness;
}

json::object study_statistics_json(const StudyReport& report) {
  const auto number = [](const std::optional<double>& v) {
    return v && std::isfinite(*v) ? json::value(*v) : json::value(nullptr);
  };
  const auto& c = report.counts;
  json::object refusals;
  for (const auto& [reason, n] : c.refusals) refusals[reason] = n;
  json::array trends;
  for (const auto& trend : report.trends) {
    json::array anomalous;
    for (const auto index : trend.anomalous_windows) anomalous.emplace_back(index);
    trends.emplace_back(json::object{
        {"signal", trend.name},
        {"label", trend.label},
        {"slope", number(trend.trend ? std::optional<double>(trend.trend->slope) : std::nullopt)},
        {"p_value", number(trend.trend ? std::optional<double>(trend.trend->p_value) : std::nullopt)},
        {"windows", trend.windows_used},
        {"anomalous_windows", std::move(anomalous)},
    });
  }
  return {
      {"windows", c.windows},
      {"promotions", c.promotions},
      {"rollbacks", c.rollbacks},
      {"keeps", c.keeps},
      {"discards", c.discards},
      {"extensions", c.extensions},
      {"confirmations", c.confirmations},
      {"apply_failures", c.apply_failures},
      {"refusals", std::move(refusals)},
      {"refusals_total", c.refusals_total()},
      {"baseline_value", number(report.baseline_value)},
      {"incumbent_value", number(report.incumbent_value)},
      {"improvement", number(report.improvement)},
      {"improvement_low", number(report.improvement_low)},
      {"improvement_high", number(report.improvement_high)},
      {"improvement_method", report.improvement_method.empty() ? json::value(nullptr) : json::value(report.improvement_method)},
      {"trends", std::move(trends)},
  };
}

std::string study_state(const StudyReport& report) {
  if (report.done) return "done";
  if (report.safe_mode) return "safe mode";
  if (report.paused) return "paused";
  return "tuning";
}

} // namespace trimtab
