// libFuzzer target for the objective/constraint language: whatever an operator (or an attacker
// with write access to a config) types must end in a value or an ExpressionError, never a crash,
// a hang or a read out of bounds.
//
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I core/include \
//     core/src/expression.cpp fuzz/expression_fuzz.cpp -o /tmp/fuzz_expr
//   /tmp/fuzz_expr -max_total_time=60 fuzz/corpus/expression/

#include <trimtab/core/expression.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

namespace {

// Values that reach the interesting corners of IEEE arithmetic: zero, negatives, tiny, huge.
std::vector<double> values_for(std::size_t count) {
  static constexpr double palette[] = {1.5, -2.0, 0.0, 1e-300, 1e300, 250.0, -0.0, 3.0};
  std::vector<double> values(count);
  for (std::size_t i = 0; i < count; ++i) values[i] = palette[i % (sizeof palette / sizeof palette[0])];
  return values;
}

void check_column(const trimtab::ExpressionError& error, std::size_t size) {
  // A column outside the text (or 0) would send a config loader's caret somewhere meaningless.
  if (error.column() < 1 || error.column() > size + 1) std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto expression = trimtab::Expression::parse(text);
    (void)expression.evaluate(values_for(expression.variables().size()));
    // What text() keeps must parse again to the same variables.
    const auto again = trimtab::Expression::parse(expression.text());
    if (again.variables() != expression.variables()) std::abort();
  } catch (const trimtab::ExpressionError& error) {
    check_column(error, size);
  }
  try {
    const auto constraint = trimtab::Constraint::parse_constraint(text);
    const auto values = values_for(constraint.variables().size());
    (void)constraint.slack(values);
    if (constraint.left.variables() != constraint.variables() ||
        constraint.right.variables() != constraint.variables())
      std::abort();
  } catch (const trimtab::ExpressionError& error) {
    check_column(error, size);
  }
  return 0;
}
