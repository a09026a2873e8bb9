#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace trimtab {

/// One parameter's value: an integer (int params), a real number (float and ordinal params) or a
/// label (categorical params).
using Value = std::variant<std::int64_t, double, std::string>;

/// Whole numbers from min to max in steps of `step`; `log` spreads the search evenly over orders of
/// magnitude (pool sizes from 1 to 1000), and needs step 1 and min >= 1.
struct IntRange {
  std::int64_t min = 0;
  std::int64_t max = 0;
  std::int64_t step = 1;
  bool log = false;
};

/// Real numbers from min to max; `log` needs min > 0.
struct FloatRange {
  double min = 0.0;
  double max = 0.0;
  bool log = false;
};

/// Ordered numeric choices such as batch sizes [4, 8, 16], in strictly increasing order: solvers
/// may assume that neighbouring choices behave alike.
struct OrdinalChoices {
  std::vector<double> choices;
};

/// Unordered labels such as eviction policies [lru, lfu, random]: no choice is "between" two others.
struct CategoricalChoices {
  std::vector<std::string> choices;
};

using Domain = std::variant<IntRange, FloatRange, OrdinalChoices, CategoricalChoices>;

/// One knob of the service being tuned.
struct Param {
  std::string name;
  Domain domain;
  /// The value the service runs with today; solvers try it first. Without one, the middle of the
  /// range (or the first label) stands in.
  std::optional<Value> default_value;
  /// How many values of an int or float range the grid solver visits (both ends included).
  std::optional<std::size_t> grid_points;
};

/// What is wrong with one parameter: the field at fault ("min", "default", "choices", …; empty for
/// the parameter as a whole) so a config loader can point at its line, and a message for people.
struct ParamProblem {
  std::string field;
  std::string message;
};

/// The kind's name as users write it: "int", "float", "ordinal" or "categorical".
[[nodiscard]] std::string_view kind_name(const Domain& domain) noexcept;

/// Checks one parameter on its own (ranges, choices, default, grid_points).
[[nodiscard]] std::optional<ParamProblem> check_param(const Param& param);

/// Checks that `value` is a value `param` can take: the right type, inside the range, on the step,
/// one of the choices. Returns why not, or nothing.
[[nodiscard]] std::optional<std::string> check_value(const Param& param, const Value& value);

/// How many unit-cube coordinates the parameter takes: 1, or one per label for categoricals.
[[nodiscard]] std::size_t encoded_width(const Param& param) noexcept;

/// The number of distinct values, or nothing for float ranges.
[[nodiscard]] std::optional<std::uint64_t> value_count(const Param& param) noexcept;

/// Every value of a parameter with finitely many (int, ordinal, categorical), in order; the caller
/// checks value_count() first, as an int range can hold billions.
[[nodiscard]] std::vector<Value> all_values(const Param& param);

/// Writes `value` as text the way users wrote it: 20, 0.25, lru.
[[nodiscard]] std::string format_value(const Value& value);

} // namespace trimtab
