#include <boost/test/unit_test.hpp>

#include <trimtab/core/expression.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

using namespace trimtab;

namespace {

// The value of an expression that reads no signals.
double value_of(std::string_view text) { return Expression::parse(text).evaluate({}); }

struct Malformed {
  std::string text;
  std::size_t column;
  std::string message;
};

} // namespace

BOOST_AUTO_TEST_SUITE(expression)

BOOST_AUTO_TEST_CASE(numbers_in_every_written_form) {
  BOOST_TEST(value_of("12") == 12.0);
  BOOST_TEST(value_of("0.25") == 0.25);
  BOOST_TEST(value_of(".5") == 0.5);
  BOOST_TEST(value_of("5.") == 5.0);
  BOOST_TEST(value_of("1e-3") == 1e-3);
  BOOST_TEST(value_of("2.5E+2") == 250.0);
}

BOOST_AUTO_TEST_CASE(precedence_and_left_associativity) {
  BOOST_TEST(value_of("2 - 3 - 4") == -5.0);
  BOOST_TEST(value_of("2 / 4 / 8") == 0.0625);
  BOOST_TEST(value_of("-2 * 3") == -6.0);
  BOOST_TEST(value_of("2 * -3") == -6.0);
  BOOST_TEST(value_of("2 + 3 * 4") == 14.0);
  BOOST_TEST(value_of("2 * 3 + 4") == 10.0);
  BOOST_TEST(value_of("10 - 4 / 2") == 8.0);
  BOOST_TEST(value_of("(2 + 3) * 4") == 20.0);
  BOOST_TEST(value_of("2 * (3 + (4 - (1 + 1)))") == 10.0);
  BOOST_TEST(value_of("((((7))))") == 7.0);
  BOOST_TEST(value_of("- -2") == 2.0);
  BOOST_TEST(value_of("+2 - +3") == -1.0);
  BOOST_TEST(value_of("2 - -3") == 5.0);
  BOOST_TEST(value_of("-(2 - 5)") == 3.0);
  BOOST_TEST(value_of("1-2") == -1.0); // no whitespace needed
}

BOOST_AUTO_TEST_CASE(whitespace_is_allowed_anywhere_between_tokens) {
  BOOST_TEST(value_of(" \t( 1 +\n2 ) *\r\n3 ") == 9.0);
  BOOST_TEST(value_of("max ( 1 , 2 )") == 2.0);
  BOOST_TEST(Expression::parse("  a + 1  ").text() == "a + 1");
}

BOOST_AUTO_TEST_CASE(every_function) {
  BOOST_TEST(value_of("min(3, 1, 2)") == 1.0);
  BOOST_TEST(value_of("min(3, 4)") == 3.0);
  BOOST_TEST(value_of("max(3, 1, 2)") == 3.0);
  BOOST_TEST(value_of("max(-3, -4)") == -3.0);
  BOOST_TEST(value_of("abs(-2.5)") == 2.5);
  BOOST_TEST(value_of("abs(2.5)") == 2.5);
  BOOST_TEST(value_of("log(1)") == 0.0);
  BOOST_TEST(value_of("log(exp(2))") == 2.0, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(value_of("exp(0)") == 1.0);
  BOOST_TEST(value_of("sqrt(16)") == 4.0);
  BOOST_TEST(value_of("max(min(1, 2), abs(-3)) * 2") == 6.0);
}

BOOST_AUTO_TEST_CASE(variables_in_order_of_first_appearance_each_once) {
  const auto e = Expression::parse("b * a + b / c.d - a + _x1");
  BOOST_TEST(e.variables() == (std::vector<std::string>{"b", "a", "c.d", "_x1"}), boost::test_tools::per_element());
  const std::vector<double> values{2.0, 3.0, 4.0, 5.0};
  BOOST_TEST(e.evaluate(values) == 2.0 * 3.0 + 2.0 / 4.0 - 3.0 + 5.0);
  BOOST_TEST(Expression::parse("1 + 2").variables().empty());
}

BOOST_AUTO_TEST_CASE(the_readme_objective) {
  const auto e = Expression::parse("rps - 10 * errors");
  BOOST_TEST(e.variables() == (std::vector<std::string>{"rps", "errors"}), boost::test_tools::per_element());
  const std::vector<double> values{1200.0, 3.0};
  BOOST_TEST(e.evaluate(values) == 1170.0);
  BOOST_TEST(e.text() == "rps - 10 * errors");
}

BOOST_AUTO_TEST_CASE(evaluation_needs_one_value_per_variable) {
  const auto e = Expression::parse("rps - errors");
  const std::vector<double> one{1.0};
  BOOST_CHECK_THROW((void)e.evaluate(one), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(evaluation_follows_ieee_so_callers_see_non_finite_results) {
  BOOST_TEST(std::isinf(value_of("1 / 0")));
  BOOST_TEST(std::isnan(value_of("0 / 0")));
  BOOST_TEST(std::isnan(value_of("log(-1)")));
  BOOST_TEST(std::isnan(value_of("sqrt(-1)")));
  BOOST_TEST(std::isinf(value_of("exp(1000)")));
  // A missing signal (NaN) spoils min and max whichever argument it is.
  const auto e = Expression::parse("min(a, b) + max(b, a)");
  const double nan = std::numeric_limits<double>::quiet_NaN();
  BOOST_TEST(std::isnan(e.evaluate(std::vector<double>{nan, 1.0})));
  BOOST_TEST(std::isnan(e.evaluate(std::vector<double>{1.0, nan})));
}

BOOST_AUTO_TEST_CASE(the_readme_constraint) {
  const auto c = Constraint::parse_constraint("p99_ms <= 250");
  BOOST_TEST(c.variables() == (std::vector<std::string>{"p99_ms"}), boost::test_tools::per_element());
  BOOST_TEST(relation_text(c.relation) == "<=");
  BOOST_TEST(c.left.text() == "p99_ms");
  BOOST_TEST(c.right.text() == "250");
  BOOST_TEST(c.text == "p99_ms <= 250");
  BOOST_TEST(c.slack(std::vector<double>{200.0}) == -50.0); // holds
  BOOST_TEST(c.slack(std::vector<double>{300.0}) == 50.0);  // broken
}

BOOST_AUTO_TEST_CASE(slack_is_non_positive_exactly_when_the_constraint_holds) {
  struct Case {
    std::string text;
    Relation relation;
  };
  for (const auto& [text, relation] : std::vector<Case>{{"x < 10", Relation::less},
                                                        {"x <= 10", Relation::less_equal},
                                                        {"10 > x", Relation::greater},
                                                        {"10 >= x", Relation::greater_equal}}) {
    BOOST_TEST_CONTEXT(text) {
      const auto c = Constraint::parse_constraint(text);
      BOOST_TEST(relation_text(c.relation) == relation_text(relation));
      BOOST_TEST(c.slack(std::vector<double>{4.0}) == -6.0);
      BOOST_TEST(c.slack(std::vector<double>{10.0}) == 0.0); // on the limit: strict alike
      BOOST_TEST(c.slack(std::vector<double>{13.0}) == 3.0);
    }
  }
  // With the limit on the right of > and >=, the signal must stay above it.
  BOOST_TEST(Constraint::parse_constraint("x > 10").slack(std::vector<double>{13.0}) == -3.0);
  BOOST_TEST(Constraint::parse_constraint("x >= 10").slack(std::vector<double>{4.0}) == 6.0);
  BOOST_TEST(relation_text(Relation::less) == "<");
  BOOST_TEST(relation_text(Relation::less_equal) == "<=");
  BOOST_TEST(relation_text(Relation::greater) == ">");
  BOOST_TEST(relation_text(Relation::greater_equal) == ">=");
}

BOOST_AUTO_TEST_CASE(both_sides_of_a_constraint_share_one_variable_table) {
  const auto c = Constraint::parse_constraint(" errors / rps < max(0.01, budget / rps) ");
  const std::vector<std::string> all{"errors", "rps", "budget"};
  BOOST_TEST(c.variables() == all, boost::test_tools::per_element());
  BOOST_TEST(c.left.variables() == all, boost::test_tools::per_element());
  BOOST_TEST(c.right.variables() == all, boost::test_tools::per_element());
  BOOST_TEST(c.text == "errors / rps < max(0.01, budget / rps)");
  BOOST_TEST(c.left.text() == "errors / rps");
  BOOST_TEST(c.right.text() == "max(0.01, budget / rps)");
  const std::vector<double> values{5.0, 100.0, 2.0}; // 0.05 < max(0.01, 0.02): broken by 0.03
  BOOST_TEST(c.slack(values) == 0.03, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(c.left.evaluate(values) == 0.05, boost::test_tools::tolerance(1e-12));
}

BOOST_AUTO_TEST_CASE(nesting_up_to_the_limit_is_accepted) {
  const std::size_t depth = Expression::max_depth;
  BOOST_TEST(value_of(std::string(depth, '(') + "1" + std::string(depth, ')')) == 1.0);
  std::string calls;
  for (std::size_t i = 0; i < depth; ++i) calls += "max(1, 2 * ";
  calls += "x";
  calls += std::string(depth, ')');
  const std::vector<double> x{3.0};
  BOOST_TEST(Expression::parse(calls).evaluate(x) == 3.0 * std::pow(2.0, static_cast<double>(depth)));
  // The worst case for pending operands: every level leaves a sum, a product and a call
  // argument waiting. Evaluation keeps them in a fixed array; this must fit (ASan checks).
  std::string worst = "1 + 1 * ";
  for (std::size_t i = 0; i < depth; ++i) worst += "min(9, 1 + 1 * ";
  worst += "1" + std::string(depth, ')');
  BOOST_TEST(value_of(worst) == 10.0); // 1 + 1 * min(9, ...) climbs by one per level up to 9
  // Long flat chains and sign runs are not nesting.
  std::string sum = "1";
  for (int i = 0; i < 1000; ++i) sum += "+1";
  BOOST_TEST(value_of(sum) == 1001.0);
  BOOST_TEST(value_of(std::string(2000, '-') + "5") == 5.0);
  std::string many = "min(9";
  for (int i = 0; i < 500; ++i) many += ", " + std::to_string(i + 10);
  BOOST_TEST(value_of(many + ")") == 9.0);
}

BOOST_AUTO_TEST_CASE(malformed_expressions_are_named_with_their_column) {
  const std::size_t limit = Expression::max_length;
  const std::vector<Malformed> corpus{
      {"", 1, "empty expression"},
      {"   ", 1, "empty expression"},
      {"lg(rps)", 1, "unknown function 'lg' (did you mean 'log'?)"},
      {"2 * Sqrt(x)", 5, "unknown function 'Sqrt' (did you mean 'sqrt'?)"},
      {"foo(1)", 1, "unknown function 'foo' (functions: min, max, abs, log, sqrt, exp)"},
      {"abs(1, 2)", 1, "abs takes 1 argument, got 2"},
      {"1 + log()", 5, "log takes 1 argument, got 0"},
      {"min(x)", 1, "min takes at least 2 arguments, got 1"},
      {"log + 1", 1, "'log' is a function; write log(...)"},
      {"(1 + 2", 7, "expected ')' to close '(' at column 1"},
      {"2 * (1 + (3 4)", 13, "expected ')' to close '(' at column 10"},
      {"max(1, 2", 9, "expected ',' or ')' to close '(' at column 4"},
      {"min(1 2)", 7, "expected ',' or ')' to close '(' at column 4"},
      {"min(1,)", 7, "unexpected ')'"},
      {"1 + 2)", 6, "unexpected ')'"},
      {"()", 2, "unexpected ')'"},
      {"1 +", 4, "unexpected end of expression"},
      {"rps -", 6, "unexpected end of expression"},
      {"* 2", 1, "unexpected '*'"},
      {"1 + / 2", 5, "unexpected '/'"},
      {"1,2", 2, "expected an operator before ','"},
      {"rps errors", 5, "expected an operator before 'errors'"},
      {"2 (3)", 3, "expected an operator before '('"},
      {"1e", 1, "malformed number '1e'"},
      {"x * 1e+", 5, "malformed number '1e+'"},
      {"1.2.3", 1, "malformed number '1.2.3'"},
      {"2x", 1, "malformed number '2x'"},
      {"1e999", 1, "number '1e999' is out of range"},
      {"rps $ 2", 5, "unexpected character '$'"},
      {"a ^ 2", 3, "unexpected character '^'"},
      {"p99\xC2\xA0+ 1", 4, "unexpected character '\\xC2'"}, // a non-breaking space pasted in
      {"x <= 3", 3, "unexpected '<=' (only a constraint compares)"},
      {"a == b", 3, "unexpected '==' (constraints use <, <=, > or >=)"},
      {std::string(65, '(') + "1" + std::string(65, ')'), 65,
       "nested more than 64 levels deep (parentheses and calls)"},
      {std::string(64, '(') + "abs(1)" + std::string(64, ')'), 68,
       "nested more than 64 levels deep (parentheses and calls)"},
      {std::string(limit + 1, '1'), limit + 1, "expression is 4097 characters long; the limit is 4096"},
  };
  for (const auto& [text, column, message] : corpus) {
    BOOST_TEST_CONTEXT(text.substr(0, 40)) {
      try {
        (void)Expression::parse(text);
        BOOST_ERROR("parsed without error");
      } catch (const ExpressionError& e) {
        BOOST_TEST(e.column() == column);
        BOOST_TEST(std::string(e.what()) == message);
      }
    }
  }
  // Exactly at the length limit is fine.
  BOOST_TEST(value_of(std::string(limit - 1, '0') + "7") == 7.0);
}

BOOST_AUTO_TEST_CASE(malformed_constraints_are_named_with_their_column) {
  const std::vector<Malformed> corpus{
      {"", 1, "empty constraint"},
      {"p99_ms", 7, "constraint has no comparison (<, <=, > or >=)"},
      {"p99_ms 250", 8, "expected an operator before '250'"},
      {"a <= b <= c", 8, "a constraint takes one comparison; this is a second '<=' (write two constraints)"},
      {"1 < x > 2", 7, "a constraint takes one comparison; this is a second '>' (write two constraints)"},
      {"<= 250", 1, "expected a value before '<='"},
      {"p99_ms <=", 10, "unexpected end of constraint"},
      {"p99_ms <= <= 3", 11, "expected a value before '<='"},
      {"a < (b < c)", 8, "expected ')' to close '(' at column 5"},
      {"(a <= 3)", 4, "expected ')' to close '(' at column 1"},
      {"p99_ms = 250", 8, "unexpected '=' (constraints use <, <=, > or >=)"},
      {"p99_ms <= 250)", 14, "unexpected ')'"},
      {"errors / rps < lg(0.01)", 16, "unknown function 'lg' (did you mean 'log'?)"},
      {std::string(Expression::max_length + 10, ' '), Expression::max_length + 1,
       "constraint is 4106 characters long; the limit is 4096"},
  };
  for (const auto& [text, column, message] : corpus) {
    BOOST_TEST_CONTEXT(text.substr(0, 40)) {
      try {
        (void)Constraint::parse_constraint(text);
        BOOST_ERROR("parsed without error");
      } catch (const ExpressionError& e) {
        BOOST_TEST(e.column() == column);
        BOOST_TEST(std::string(e.what()) == message);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(expression_errors_are_invalid_arguments) {
  // Config loaders that catch std::invalid_argument for every bad field catch these too.
  BOOST_CHECK_THROW((void)Expression::parse("1 +"), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()
