// GCC 12 reports a false -Wmaybe-uninitialized inside libstdc++'s regex compiler (its std::function
// temporaries) under -O1 and the sanitizers; the pragma must come before <regex> is first included.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <trimtab/core/signal.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <stdexcept>
#include <utility>

namespace trimtab {

LabelMatcher::LabelMatcher(std::string label, Op op, std::string value)
    : label_(std::move(label)), value_(std::move(value)), op_(op) {
  if (op_ == Op::regex || op_ == Op::not_regex) {
    // libstdc++ compiles a regex by recursion, one frame per nesting level: a pattern nested
    // thousands deep overflows the stack. No label pattern needs more than a handful.
    std::size_t depth = 0, deepest = 0;
    for (char c : value_) {
      if (c == '(') deepest = std::max(deepest, ++depth);
      else if (c == ')' && depth > 0) --depth;
    }
    if (value_.size() > max_pattern_length || deepest > max_pattern_depth)
      throw std::invalid_argument("regex for label '" + label_ + "' is too long or nested too deep (at most " +
                                  std::to_string(max_pattern_length) + " characters and " +
                                  std::to_string(max_pattern_depth) + " levels of parentheses)");
    try {
      regex_.emplace(value_, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      throw std::invalid_argument("bad regex for label '" + label_ + "': \"" + value_ + "\" (" + e.what() + ")");
    }
  }
}

bool LabelMatcher::matches(std::string_view label_value) const {
  switch (op_) {
  case Op::equal:
    return label_value == value_;
  case Op::not_equal:
    return label_value != value_;
  // libstdc++ matches by recursion, about one frame per character: a scraped label value of tens of
  // kilobytes would overflow the stack. Values that long are not what label regexes are written
  // for, so they never match one.
  case Op::regex:
    return label_value.size() <= max_regex_value_length &&
           std::regex_match(label_value.begin(), label_value.end(), *regex_);
  case Op::not_regex:
    return label_value.size() > max_regex_value_length ||
           !std::regex_match(label_value.begin(), label_value.end(), *regex_);
  }
  return false;
}

namespace {

// What every signal read from one metric holds, whatever its kind.
[[nodiscard]] SignalSpec on_metric(std::string name, SignalKind kind, std::string metric,
                                   std::vector<LabelMatcher> matchers, double scale) {
  SignalSpec spec;
  spec.name = std::move(name);
  spec.kind = kind;
  spec.metric = std::move(metric);
  spec.matchers = std::move(matchers);
  spec.scale = scale;
  return spec;
}

} // namespace

SignalSpec SignalSpec::rate(std::string name, std::string metric, std::vector<LabelMatcher> matchers, double scale) {
  return on_metric(std::move(name), SignalKind::rate, std::move(metric), std::move(matchers), scale);
}

SignalSpec SignalSpec::quantile(std::string name, std::string histogram, double q, std::vector<LabelMatcher> matchers,
                                double scale) {
  SignalSpec spec = on_metric(std::move(name), SignalKind::quantile, std::move(histogram), std::move(matchers), scale);
  spec.q = q;
  return spec;
}

SignalSpec SignalSpec::summary_quantile(std::string name, std::string summary, double q,
                                        std::vector<LabelMatcher> matchers, double scale,
                                        std::optional<double> quantile_label) {
  SignalSpec spec = quantile(std::move(name), std::move(summary), q, std::move(matchers), scale);
  spec.source = QuantileSource::summary;
  spec.quantile_label = quantile_label;
  return spec;
}

SignalSpec SignalSpec::gauge(std::string name, std::string metric, GaugeReduce reduce,
                             std::vector<LabelMatcher> matchers, double scale) {
  SignalSpec spec = on_metric(std::move(name), SignalKind::gauge, std::move(metric), std::move(matchers), scale);
  spec.reduce = reduce;
  return spec;
}

SignalSpec SignalSpec::ratio(std::string name, std::string numerator, std::string denominator, double scale) {
  SignalSpec spec;
  spec.name = std::move(name);
  spec.kind = SignalKind::ratio;
  spec.numerator = std::move(numerator);
  spec.denominator = std::move(denominator);
  spec.scale = scale;
  return spec;
}

namespace {

[[nodiscard]] std::string number_text(double value) {
  char buffer[32];
  const int n = std::snprintf(buffer, sizeof buffer, "%.10g", value);
  return std::string(buffer, static_cast<std::size_t>(n));
}

// Far wider than what printing or double arithmetic changes, far narrower than the gap between
// quantiles anyone exposes side by side (0.999 and 0.9999).
[[nodiscard]] bool same_quantile(double a, double b) noexcept {
  constexpr double tolerance = 1e-12;
  return std::abs(a - b) <= tolerance * std::max(std::abs(a), std::abs(b));
}

} // namespace

bool SignalSpec::matches_quantile(double label_q) const noexcept {
  if (quantile_label) return same_quantile(label_q, *quantile_label);
  return same_quantile(label_q, q) || (label_q > 1.0 && same_quantile(label_q, 100.0 * q));
}

void validate_signal_specs(std::span<const SignalSpec> specs) {
  std::map<std::string_view, const SignalSpec*> by_name;
  for (const auto& spec : specs) {
    if (spec.name.empty()) throw std::invalid_argument("a signal has an empty name");
    if (!by_name.emplace(spec.name, &spec).second)
      throw std::invalid_argument("signal '" + spec.name + "' is defined twice");
    if (!std::isfinite(spec.scale))
      throw std::invalid_argument("signal '" + spec.name + "': scale must be finite");
    if (spec.kind != SignalKind::ratio && spec.metric.empty())
      throw std::invalid_argument("signal '" + spec.name + "' names no metric");
    // Written negated so a NaN q is rejected too.
    if (spec.kind == SignalKind::quantile && !(spec.q > 0.0 && spec.q < 1.0))
      throw std::invalid_argument("signal '" + spec.name + "': quantile must be in (0, 1)");
    if (spec.quantile_label) {
      if (spec.kind != SignalKind::quantile || spec.source != QuantileSource::summary)
        throw std::invalid_argument("signal '" + spec.name + "': a quantile label applies to summary quantiles only");
      const double label = *spec.quantile_label;
      if (!same_quantile(label, spec.q) && !same_quantile(label, 100.0 * spec.q))
        throw std::invalid_argument("signal '" + spec.name + "': quantile label " + number_text(label) +
                                    " is neither the quantile (" + number_text(spec.q) +
                                    ") nor the quantile as a percentage (" + number_text(100.0 * spec.q) + ")");
    }
  }
  for (const auto& spec : specs) {
    if (spec.kind != SignalKind::ratio) continue;
    for (const auto* part : {&spec.numerator, &spec.denominator}) {
      if (!by_name.contains(*part))
        throw std::invalid_argument("signal '" + spec.name + "' refers to unknown signal '" + *part + "'");
    }
  }
  // A ratio may divide other ratios; following references from each one must end, or computing it
  // would never end either.
  for (const auto& spec : specs) {
    std::set<std::string_view> on_path;
    // Depth-first over ratio references, with an explicit path so a cycle is found, not recursed.
    std::vector<std::pair<const SignalSpec*, int>> path{{&spec, 0}};
    on_path.insert(spec.name);
    while (!path.empty()) {
      auto& [current, next] = path.back();
      if (current->kind != SignalKind::ratio || next == 2) {
        on_path.erase(current->name);
        path.pop_back();
        continue;
      }
      const std::string& child_name = next++ == 0 ? current->numerator : current->denominator;
      const SignalSpec* child = by_name.at(child_name);
      if (!on_path.insert(child->name).second)
        throw std::invalid_argument("signal '" + spec.name + "' refers to itself through '" + current->name + "'");
      path.emplace_back(child, 0);
    }
  }
}

} // namespace trimtab
