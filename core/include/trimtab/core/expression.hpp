#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trimtab {

/// A mistake in an expression or constraint an operator wrote. what() is the message alone
/// ("unknown function 'lg' (did you mean 'log'?)"); column() says where, so a config loader can
/// prefix its own file:line and point at the character.
class ExpressionError : public std::invalid_argument {
public:
  ExpressionError(std::size_t column, const std::string& message)
      : std::invalid_argument(message), column_(column) {}

  /// 1-based byte offset of the offending character or token in the text that was parsed (for a
  /// constraint, the whole constraint); one past the end for "unexpected end of expression".
  [[nodiscard]] std::size_t column() const noexcept { return column_; }

private:
  std::size_t column_;
};

/// An arithmetic expression over named signals, as operators write objectives:
/// `rps - 10 * errors`, `errors / rps`, `max(p99_ms, 2 * p50_ms)`.
///
/// Grammar: numbers (`12`, `0.5`, `.5`, `1e-3`), signal names ([A-Za-z_][A-Za-z0-9_.]*), binary
/// `+ - * /` with the usual precedence and left associativity, unary `-` and `+`, parentheses, and
/// the functions min(a, b, ...) and max(a, b, ...) (two or more arguments), abs, log (natural),
/// sqrt and exp (one argument each). Function names are reserved: no signal may be called `log`.
///
/// Parsing compiles to a flat postfix program, so evaluation is one loop over it with no
/// allocation and no recursion: cheap enough to score every window of every replica.
///
/// Evaluation is plain IEEE arithmetic: division by zero gives an infinity or NaN, log of a
/// negative number NaN, and min/max propagate NaN rather than ignore it. Callers treat a
/// non-finite result as "this window cannot be scored" (no traffic, a signal missing), never as a
/// very good or very bad score.
class Expression {
public:
  /// Longest text accepted, in bytes: an objective is a line, not a program.
  static constexpr std::size_t max_length = 4096;
  /// Deepest nesting of parentheses and function calls accepted, so hostile input cannot exhaust
  /// the parser's stack.
  static constexpr std::size_t max_depth = 64;

  /// Parses `text`; throws ExpressionError naming the first mistake and its column.
  [[nodiscard]] static Expression parse(std::string_view text);

  /// The value with values[i] standing for variables()[i]. Throws std::invalid_argument when
  /// values.size() != variables().size(); otherwise never throws (see the class comment for
  /// non-finite results).
  [[nodiscard]] double evaluate(std::span<const double> values) const;

  /// Each distinct signal name once, in order of first appearance: the order evaluate() wants
  /// their values in.
  [[nodiscard]] const std::vector<std::string>& variables() const noexcept { return variables_; }

  /// The text parsed, without surrounding whitespace.
  [[nodiscard]] std::string_view text() const noexcept { return text_; }

private:
  friend class ExpressionCompiler;

  enum class OpCode : std::uint8_t {
    constant, // push value
    variable, // push values[index]
    add,
    subtract,
    multiply,
    divide,
    negate,
    min,
    max,
    abs,
    log,
    sqrt,
    exp,
  };

  struct Op {
    OpCode code;
    std::uint32_t index = 0;
    double value = 0.0;
  };

  /// Evaluation keeps its operands in a fixed array of this size. The depth limit bounds how many
  /// operands a program can leave pending (at most three per nesting level), and the compiler
  /// checks every program against it.
  static constexpr std::size_t stack_capacity = 3 * (max_depth + 1) + 8;

  Expression(std::string text, std::vector<std::string> variables, std::vector<Op> program)
      : text_(std::move(text)), variables_(std::move(variables)), program_(std::move(program)) {}

  std::string text_;
  std::vector<std::string> variables_;
  std::vector<Op> program_;
};

enum class Relation { less, less_equal, greater, greater_equal };

/// The operator as written: "<", "<=", ">" or ">=".
[[nodiscard]] std::string_view relation_text(Relation relation) noexcept;

/// A limit an operator sets on a configuration: `p99_ms <= 250`, `errors / rps < 0.01`.
///
/// Both sides are compiled against one shared variable table, so left.variables() and
/// right.variables() both equal variables() (the union, in order of first appearance across the
/// whole constraint) and one values vector serves both. Build constraints with parse_constraint():
/// sides parsed separately would not share a table.
struct Constraint {
  Expression left;
  Relation relation;
  Expression right;
  /// The whole constraint as written, without surrounding whitespace.
  std::string text;

  /// Parses `left op right` with exactly one comparison (<, <=, > or >=) outside parentheses.
  /// Throws ExpressionError with a column counted in `text` as a whole.
  [[nodiscard]] static Constraint parse_constraint(std::string_view text);

  /// The signals both sides read, each once: the order slack() wants their values in.
  [[nodiscard]] const std::vector<std::string>& variables() const noexcept {
    return left.variables();
  }

  /// How far the constraint is from breaking, in the form solvers take (Observation::constraints):
  /// <= 0 when it holds. left - right for < and <=, right - left for > and >=. Strict and
  /// non-strict comparisons score alike (a value exactly on the limit counts as holding for `<`
  /// too): a measured signal landing exactly on the limit is noise, and solvers need a continuous
  /// value, not a verdict; `relation` stays for display. Non-finite when a side is (see
  /// Expression): the window cannot be judged.
  [[nodiscard]] double slack(std::span<const double> values) const;
};

} // namespace trimtab
