#include <trimtab/core/param.hpp>

#include <trimtab/core/overloaded.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>
#include <stdexcept>
#include <type_traits>

#include "quoted.hpp"

namespace trimtab {
namespace {

using detail::overloaded;

std::string quoted(const Value& value) { return detail::quoted(format_value(value)); }

std::uint64_t int_value_count(const IntRange& r) noexcept {
  // Unsigned difference: max - min overflows int64 for ranges wider than half the type.
  const auto span = static_cast<std::uint64_t>(r.max) - static_cast<std::uint64_t>(r.min);
  return span / static_cast<std::uint64_t>(r.step) + 1;
}

std::optional<ParamProblem> check_int(const IntRange& r) {
  if (r.step < 1) return ParamProblem{"step", "step must be at least 1, not " + std::to_string(r.step)};
  if (r.min >= r.max)
    return ParamProblem{"min", "min (" + std::to_string(r.min) + ") must be below max (" + std::to_string(r.max) +
                                   "); remove the parameter to keep a value fixed"};
  const auto span = static_cast<std::uint64_t>(r.max) - static_cast<std::uint64_t>(r.min);
  if (span % static_cast<std::uint64_t>(r.step) != 0) {
    const auto below = r.max - static_cast<std::int64_t>(span % static_cast<std::uint64_t>(r.step));
    return ParamProblem{"max", "max (" + std::to_string(r.max) + ") is not min (" + std::to_string(r.min) +
                                   ") plus a whole number of steps of " + std::to_string(r.step) + "; use " +
                                   std::to_string(below) + " or " + std::to_string(below + r.step)};
  }
  if (r.log && r.step != 1) return ParamProblem{"log", "log applies to int ranges with step 1 only"};
  if (r.log && r.min < 1) return ParamProblem{"log", "log needs min >= 1, not " + std::to_string(r.min)};
  return std::nullopt;
}

std::optional<ParamProblem> check_float(const FloatRange& r) {
  if (!std::isfinite(r.min)) return ParamProblem{"min", "min must be a finite number"};
  if (!std::isfinite(r.max)) return ParamProblem{"max", "max must be a finite number"};
  if (r.min >= r.max)
    return ParamProblem{"min", "min (" + format_value(r.min) + ") must be below max (" + format_value(r.max) +
                                   "); remove the parameter to keep a value fixed"};
  if (r.log && r.min <= 0) return ParamProblem{"log", "log needs min > 0, not " + format_value(r.min)};
  return std::nullopt;
}

std::optional<ParamProblem> check_ordinal(const OrdinalChoices& o) {
  if (o.choices.size() < 2) return ParamProblem{"choices", "an ordinal needs at least two choices"};
  for (std::size_t i = 0; i < o.choices.size(); ++i) {
    if (!std::isfinite(o.choices[i]))
      return ParamProblem{"choices", "choice " + std::to_string(i + 1) + " is not a finite number"};
    if (i > 0 && o.choices[i] <= o.choices[i - 1])
      return ParamProblem{"choices", "ordinal choices must be in increasing order, but " +
                                         format_value(o.choices[i]) + " follows " + format_value(o.choices[i - 1]) +
                                         " (use categorical for unordered choices)"};
  }
  return std::nullopt;
}

std::optional<ParamProblem> check_categorical(const CategoricalChoices& c) {
  if (c.choices.size() < 2) return ParamProblem{"choices", "a categorical needs at least two choices"};
  std::set<std::string_view> seen;
  for (const auto& label : c.choices) {
    if (label.empty()) return ParamProblem{"choices", "a choice is an empty string"};
    if (!seen.insert(label).second) return ParamProblem{"choices", "choice '" + label + "' appears twice"};
  }
  return std::nullopt;
}

} // namespace

std::string_view kind_name(const Domain& domain) noexcept {
  return std::visit(overloaded{[](const IntRange&) { return std::string_view{"int"}; },
                               [](const FloatRange&) { return std::string_view{"float"}; },
                               [](const OrdinalChoices&) { return std::string_view{"ordinal"}; },
                               [](const CategoricalChoices&) { return std::string_view{"categorical"}; }},
                    domain);
}

std::optional<ParamProblem> check_param(const Param& param) {
  if (param.name.empty()) return ParamProblem{"", "a parameter has an empty name"};
  auto problem = std::visit(overloaded{[](const IntRange& r) { return check_int(r); },
                                       [](const FloatRange& r) { return check_float(r); },
                                       [](const OrdinalChoices& o) { return check_ordinal(o); },
                                       [](const CategoricalChoices& c) { return check_categorical(c); }},
                            param.domain);
  if (problem) return problem;
  if (param.default_value) {
    if (auto why = check_value(param, *param.default_value)) return ParamProblem{"default", "default " + *why};
  }
  if (param.grid_points) {
    const bool range = std::holds_alternative<IntRange>(param.domain) || std::holds_alternative<FloatRange>(param.domain);
    if (!range)
      return ParamProblem{"grid_points", "grid_points applies to int and float ranges; a grid visits every choice of " +
                                             std::string(kind_name(param.domain)) + " parameters"};
    if (*param.grid_points < 1) return ParamProblem{"grid_points", "grid_points must be at least 1"};
  }
  return std::nullopt;
}

std::optional<std::string> check_value(const Param& param, const Value& value) {
  return std::visit(
      overloaded{
          [&](const IntRange& r) -> std::optional<std::string> {
            const auto* v = std::get_if<std::int64_t>(&value);
            if (!v) return quoted(value) + " is not a whole number";
            if (*v < r.min || *v > r.max)
              return format_value(value) + " is outside [" + std::to_string(r.min) + ", " + std::to_string(r.max) + "]";
            const auto from_min = static_cast<std::uint64_t>(*v) - static_cast<std::uint64_t>(r.min);
            if (from_min % static_cast<std::uint64_t>(r.step) != 0)
              return format_value(value) + " is not min (" + std::to_string(r.min) + ") plus a whole number of steps of " +
                     std::to_string(r.step);
            return std::nullopt;
          },
          [&](const FloatRange& r) -> std::optional<std::string> {
            const auto* v = std::get_if<double>(&value);
            if (!v) return quoted(value) + " is not a number";
            if (!(*v >= r.min && *v <= r.max))
              return format_value(value) + " is outside [" + format_value(r.min) + ", " + format_value(r.max) + "]";
            return std::nullopt;
          },
          [&](const OrdinalChoices& o) -> std::optional<std::string> {
            const auto* v = std::get_if<double>(&value);
            if (!v || std::find(o.choices.begin(), o.choices.end(), *v) == o.choices.end())
              return quoted(value) + " is not one of the choices";
            return std::nullopt;
          },
          [&](const CategoricalChoices& c) -> std::optional<std::string> {
            const auto* v = std::get_if<std::string>(&value);
            if (!v || std::find(c.choices.begin(), c.choices.end(), *v) == c.choices.end())
              return quoted(value) + " is not one of the choices";
            return std::nullopt;
          }},
      param.domain);
}

std::size_t encoded_width(const Param& param) noexcept {
  if (const auto* c = std::get_if<CategoricalChoices>(&param.domain)) return c->choices.size();
  return 1;
}

std::optional<std::uint64_t> value_count(const Param& param) noexcept {
  return std::visit(overloaded{[](const IntRange& r) -> std::optional<std::uint64_t> { return int_value_count(r); },
                               [](const FloatRange&) -> std::optional<std::uint64_t> { return std::nullopt; },
                               [](const OrdinalChoices& o) -> std::optional<std::uint64_t> { return o.choices.size(); },
                               [](const CategoricalChoices& c) -> std::optional<std::uint64_t> {
                                 return c.choices.size();
                               }},
                    param.domain);
}

std::vector<Value> all_values(const Param& param) {
  return std::visit(
      overloaded{[&](const IntRange& r) {
                   std::vector<Value> values;
                   const auto n = int_value_count(r);
                   values.reserve(n);
                   for (std::uint64_t i = 0; i < n; ++i)
                     values.emplace_back(static_cast<std::int64_t>(static_cast<std::uint64_t>(r.min) +
                                                                   i * static_cast<std::uint64_t>(r.step)));
                   return values;
                 },
                 [](const FloatRange&) -> std::vector<Value> {
                   throw std::invalid_argument("a float range has no finite list of values");
                 },
                 [](const OrdinalChoices& o) { return std::vector<Value>(o.choices.begin(), o.choices.end()); },
                 [](const CategoricalChoices& c) { return std::vector<Value>(c.choices.begin(), c.choices.end()); }},
      param.domain);
}

std::string format_value(const Value& value) {
  return std::visit(overloaded{[](std::int64_t v) { return std::to_string(v); },
                               [](double v) {
                                 // Shortest text that reads back to the same double.
                                 char buffer[32];
                                 const auto result = std::to_chars(buffer, buffer + sizeof buffer, v);
                                 return std::string(buffer, result.ptr);
                               },
                               [](const std::string& v) { return v; }},
                    value);
}

} // namespace trimtab
