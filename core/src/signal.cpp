// GCC 12 reports a false -Wmaybe-uninitialized inside libstdc++'s regex compiler (its std::function
// temporaries) under -O1 and the sanitizers; the pragma must come before <regex> is first included.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <trimtab/core/signal.hpp>

#include <cmath>
#include <map>
#include <set>
#include <stdexcept>
#include <utility>

namespace trimtab {

LabelMatcher::LabelMatcher(std::string label, Op op, std::string value)
    : label_(std::move(label)), value_(std::move(value)), op_(op) {
  if (op_ == Op::regex || op_ == Op::not_regex) {
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
  case Op::regex:
    return std::regex_match(label_value.begin(), label_value.end(), *regex_);
  case Op::not_regex:
    return !std::regex_match(label_value.begin(), label_value.end(), *regex_);
  }
  return false;
}

SignalSpec SignalSpec::rate(std::string name, std::string metric, std::vector<LabelMatcher> matchers, double scale) {
  SignalSpec spec;
  spec.name = std::move(name);
  spec.kind = SignalKind::rate;
  spec.metric = std::move(metric);
  spec.matchers = std::move(matchers);
  spec.scale = scale;
  return spec;
}

SignalSpec SignalSpec::quantile(std::string name, std::string histogram, double q, std::vector<LabelMatcher> matchers,
                                double scale) {
  SignalSpec spec;
  spec.name = std::move(name);
  spec.kind = SignalKind::quantile;
  spec.metric = std::move(histogram);
  spec.q = q;
  spec.matchers = std::move(matchers);
  spec.scale = scale;
  return spec;
}

SignalSpec SignalSpec::gauge(std::string name, std::string metric, GaugeReduce reduce,
                             std::vector<LabelMatcher> matchers, double scale) {
  SignalSpec spec;
  spec.name = std::move(name);
  spec.kind = SignalKind::gauge;
  spec.metric = std::move(metric);
  spec.reduce = reduce;
  spec.matchers = std::move(matchers);
  spec.scale = scale;
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
