#include <trimtab/core/expression.hpp>

#include <trimtab/core/did_you_mean.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>

namespace trimtab {
namespace {

enum class TokenKind {
  end,
  number,
  name,
  plus,
  minus,
  star,
  slash,
  open,
  close,
  comma,
  less,
  less_equal,
  greater,
  greater_equal,
};

struct Token {
  TokenKind kind = TokenKind::end;
  std::size_t begin = 0; // byte offsets into the text
  std::size_t end = 0;
  std::string_view text;
  double number = 0.0;

  [[nodiscard]] std::size_t column() const noexcept { return begin + 1; }
};

[[nodiscard]] bool is_comparison(TokenKind kind) noexcept {
  return kind == TokenKind::less || kind == TokenKind::less_equal || kind == TokenKind::greater ||
         kind == TokenKind::greater_equal;
}

[[nodiscard]] Relation relation_of(TokenKind kind) noexcept {
  switch (kind) {
  case TokenKind::less: return Relation::less;
  case TokenKind::less_equal: return Relation::less_equal;
  case TokenKind::greater: return Relation::greater;
  default: return Relation::greater_equal;
  }
}

// Spelled out rather than <cctype>, whose answers depend on the locale and are undefined for
// negative chars: names must mean the same on every machine.
[[nodiscard]] bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
[[nodiscard]] bool is_name_start(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
[[nodiscard]] bool is_name_char(char c) noexcept { return is_name_start(c) || is_digit(c) || c == '.'; }
[[nodiscard]] bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// A character as an error message shows it: itself when printable, else \xHH, so a stray byte
// from a copy-paste (a non-breaking space, a smart quote) is visible rather than blank.
[[nodiscard]] std::string shown(char c) {
  if (c > ' ' && c < 0x7f) return std::string(1, c);
  static constexpr char hex[] = "0123456789ABCDEF";
  const auto byte = static_cast<unsigned char>(c);
  return std::string("\\x") + hex[byte >> 4] + hex[byte & 0xf];
}

[[nodiscard]] std::string_view trimmed(std::string_view text) noexcept {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

} // namespace

// Lexes on demand, one token ahead, so the leftmost mistake is the one reported; parses by
// recursive descent (one function per precedence level) and emits postfix ops as it goes.
class ExpressionCompiler {
public:
  ExpressionCompiler(std::string_view text, std::string_view noun) : text_(text), noun_(noun) {
    if (text.size() > Expression::max_length)
      fail(Expression::max_length + 1, std::string(noun_) + " is " + std::to_string(text.size()) +
                                           " characters long; the limit is " +
                                           std::to_string(Expression::max_length));
    advance();
    if (current_.kind == TokenKind::end) fail(1, "empty " + std::string(noun_));
  }

  [[nodiscard]] Expression expression() {
    Side side = parse_side();
    if (current_.kind != TokenKind::end) fail_after_operand();
    return Expression(std::string(side.text), std::move(variables_), std::move(side.program));
  }

  [[nodiscard]] Constraint constraint() {
    Side left = parse_side();
    if (current_.kind == TokenKind::end)
      fail(current_.column(), "constraint has no comparison (<, <=, > or >=)");
    if (!is_comparison(current_.kind)) fail_after_operand();
    const Relation relation = relation_of(current_.kind);
    advance();
    Side right = parse_side();
    if (is_comparison(current_.kind))
      fail(current_.column(), "a constraint takes one comparison; this is a second '" +
                                  std::string(current_.text) + "' (write two constraints)");
    if (current_.kind != TokenKind::end) fail_after_operand();
    // Both sides share the one table, so one values vector serves both.
    return Constraint{Expression(std::string(left.text), variables_, std::move(left.program)), relation,
                      Expression(std::string(right.text), std::move(variables_), std::move(right.program)),
                      std::string(trimmed(text_))};
  }

private:
  using Op = Expression::Op;
  using OpCode = Expression::OpCode;

  struct Function {
    std::string_view name;
    OpCode code;
    bool variadic; // min and max take two or more arguments; the rest exactly one
  };
  static constexpr std::array<Function, 6> functions{{
      {"min", OpCode::min, true},
      {"max", OpCode::max, true},
      {"abs", OpCode::abs, false},
      {"log", OpCode::log, false},
      {"sqrt", OpCode::sqrt, false},
      {"exp", OpCode::exp, false},
  }};

  struct Side {
    std::vector<Op> program;
    std::string_view text;
  };

  [[noreturn]] static void fail(std::size_t column, const std::string& message) {
    throw ExpressionError(column, message);
  }

  // --- lexing -------------------------------------------------------------------------------

  void advance() {
    previous_end_ = current_.end;
    while (next_ < text_.size() && is_space(text_[next_])) ++next_;
    const std::size_t begin = next_;
    if (begin == text_.size()) {
      current_ = Token{TokenKind::end, begin, begin, {}, 0.0};
      return;
    }
    const char c = text_[begin];
    if (is_digit(c) || (c == '.' && begin + 1 < text_.size() && is_digit(text_[begin + 1]))) {
      lex_number();
      return;
    }
    if (is_name_start(c)) {
      std::size_t end = begin + 1;
      while (end < text_.size() && is_name_char(text_[end])) ++end;
      set_token(TokenKind::name, end);
      return;
    }
    const char after = begin + 1 < text_.size() ? text_[begin + 1] : '\0';
    switch (c) {
    case '+': set_token(TokenKind::plus, begin + 1); return;
    case '-': set_token(TokenKind::minus, begin + 1); return;
    case '*': set_token(TokenKind::star, begin + 1); return;
    case '/': set_token(TokenKind::slash, begin + 1); return;
    case '(': set_token(TokenKind::open, begin + 1); return;
    case ')': set_token(TokenKind::close, begin + 1); return;
    case ',': set_token(TokenKind::comma, begin + 1); return;
    case '<':
      if (after == '=') set_token(TokenKind::less_equal, begin + 2);
      else set_token(TokenKind::less, begin + 1);
      return;
    case '>':
      if (after == '=') set_token(TokenKind::greater_equal, begin + 2);
      else set_token(TokenKind::greater, begin + 1);
      return;
    case '=': // a slack has no sign for equality, and measured doubles are never equal anyway
      fail(begin + 1, std::string("unexpected '") + (after == '=' ? "==" : "=") +
                          "' (constraints use <, <=, > or >=)");
    default: fail(begin + 1, "unexpected character '" + shown(c) + "'");
    }
  }

  void set_token(TokenKind kind, std::size_t end) {
    current_ = Token{kind, next_, end, text_.substr(next_, end - next_), 0.0};
    next_ = end;
  }

  // digits [. digits] [e [+-] digits], or . digits [...]; anything name-like stuck to the end
  // ("2x", "1.2.3", "1e") makes the whole run one malformed number rather than two tokens.
  void lex_number() {
    const std::size_t begin = next_;
    std::size_t end = begin;
    const auto digits = [&] {
      while (end < text_.size() && is_digit(text_[end])) ++end;
    };
    digits();
    if (end < text_.size() && text_[end] == '.') {
      ++end;
      digits();
    }
    bool malformed = false;
    if (end < text_.size() && (text_[end] == 'e' || text_[end] == 'E')) {
      ++end;
      if (end < text_.size() && (text_[end] == '+' || text_[end] == '-')) ++end;
      if (end < text_.size() && is_digit(text_[end])) digits();
      else malformed = true;
    }
    if (end < text_.size() && is_name_char(text_[end])) malformed = true;
    if (malformed) {
      while (end < text_.size() && is_name_char(text_[end])) ++end;
      fail(begin + 1, "malformed number '" + std::string(text_.substr(begin, end - begin)) + "'");
    }
    double value = 0.0;
    const auto result = std::from_chars(text_.data() + begin, text_.data() + end, value);
    if (result.ec == std::errc::result_out_of_range) // 1e999, or 1e-999: no signal needs either
      fail(begin + 1, "number '" + std::string(text_.substr(begin, end - begin)) + "' is out of range");
    if (result.ec != std::errc() || result.ptr != text_.data() + end) {
      fail(begin + 1, "malformed number '" + std::string(text_.substr(begin, end - begin)) + "'");
    }
    set_token(TokenKind::number, end);
    current_.number = value;
  }

  // --- parsing ------------------------------------------------------------------------------

  // One side: an expression up to the first token that cannot continue it.
  [[nodiscard]] Side parse_side() {
    program_.clear();
    stack_ = max_stack_ = 0;
    const std::size_t begin = current_.begin;
    parse_sum();
    // The depth limit bounds the operands a program can leave pending; evaluate() relies on it.
    if (max_stack_ > Expression::stack_capacity)
      throw std::logic_error("expression compiler: operand stack bound exceeded");
    return Side{std::move(program_), text_.substr(begin, previous_end_ - begin)};
  }

  void parse_sum() {
    parse_product();
    while (current_.kind == TokenKind::plus || current_.kind == TokenKind::minus) {
      const OpCode code = current_.kind == TokenKind::plus ? OpCode::add : OpCode::subtract;
      advance();
      parse_product();
      emit(Op{code});
    }
  }

  void parse_product() {
    parse_unary();
    while (current_.kind == TokenKind::star || current_.kind == TokenKind::slash) {
      const OpCode code = current_.kind == TokenKind::star ? OpCode::multiply : OpCode::divide;
      advance();
      parse_unary();
      emit(Op{code});
    }
  }

  // A loop, not recursion: "- - - ... x" must not consume stack per sign.
  void parse_unary() {
    bool negative = false;
    while (current_.kind == TokenKind::plus || current_.kind == TokenKind::minus) {
      if (current_.kind == TokenKind::minus) negative = !negative;
      advance();
    }
    parse_primary();
    if (negative) emit(Op{OpCode::negate});
  }

  void parse_primary() {
    const Token token = current_;
    switch (token.kind) {
    case TokenKind::number:
      emit(Op{OpCode::constant, 0, token.number});
      advance();
      return;
    case TokenKind::name: {
      advance();
      const Function* function = find_function(token.text);
      if (current_.kind == TokenKind::open) {
        parse_call(token, function);
        return;
      }
      if (function != nullptr)
        fail(token.column(), "'" + std::string(token.text) + "' is a function; write " +
                                 std::string(token.text) + "(...)");
      emit(Op{OpCode::variable, variable_index(token.text)});
      return;
    }
    case TokenKind::open: {
      enter(token);
      advance();
      parse_sum();
      if (current_.kind != TokenKind::close)
        fail(current_.column(), "expected ')' to close '(' at column " + std::to_string(token.column()));
      advance();
      --depth_;
      return;
    }
    case TokenKind::end:
      fail(token.column(), "unexpected end of " + std::string(noun_));
    case TokenKind::less:
    case TokenKind::less_equal:
    case TokenKind::greater:
    case TokenKind::greater_equal:
      if (noun_ == "constraint") fail(token.column(), "expected a value before '" + std::string(token.text) + "'");
      fail(token.column(), "unexpected '" + std::string(token.text) + "' (only a constraint compares)");
    default: fail(token.column(), "unexpected '" + std::string(token.text) + "'");
    }
  }

  void parse_call(const Token& name, const Function* function) {
    if (function == nullptr) fail(name.column(), unknown_function(name.text));
    const Token open = current_;
    enter(open);
    advance();
    std::size_t arguments = 0;
    if (current_.kind != TokenKind::close) {
      for (;;) {
        parse_sum();
        ++arguments;
        // min(a, b, c) runs as min(min(a, b), c): pending operands stay bounded however many
        // arguments there are.
        if (function->variadic && arguments >= 2) emit(Op{function->code});
        if (current_.kind == TokenKind::close) break;
        if (current_.kind != TokenKind::comma)
          fail(current_.column(), "expected ',' or ')' to close '(' at column " + std::to_string(open.column()));
        advance();
      }
    }
    advance();
    --depth_;
    const std::string called(function->name);
    if (function->variadic && arguments < 2)
      fail(name.column(), called + " takes at least 2 arguments, got " + std::to_string(arguments));
    if (!function->variadic && arguments != 1)
      fail(name.column(), called + " takes 1 argument, got " + std::to_string(arguments));
    if (!function->variadic) emit(Op{function->code});
  }

  [[noreturn]] void fail_after_operand() const {
    if (current_.kind == TokenKind::close) fail(current_.column(), "unexpected ')'");
    if (is_comparison(current_.kind))
      fail(current_.column(), "unexpected '" + std::string(current_.text) + "' (only a constraint compares)");
    fail(current_.column(), "expected an operator before '" + std::string(current_.text) + "'");
  }

  void enter(const Token& open) {
    if (++depth_ > Expression::max_depth)
      fail(open.column(), "nested more than " + std::to_string(Expression::max_depth) +
                              " levels deep (parentheses and calls)");
  }

  void emit(Op op) {
    switch (op.code) {
    case OpCode::constant:
    case OpCode::variable: max_stack_ = std::max(max_stack_, ++stack_); break;
    case OpCode::add:
    case OpCode::subtract:
    case OpCode::multiply:
    case OpCode::divide:
    case OpCode::min:
    case OpCode::max: --stack_; break;
    default: break; // one operand in, one out
    }
    program_.push_back(op);
  }

  [[nodiscard]] std::uint32_t variable_index(std::string_view name) {
    const auto found = std::find(variables_.begin(), variables_.end(), name);
    if (found != variables_.end()) return static_cast<std::uint32_t>(found - variables_.begin());
    variables_.emplace_back(name);
    return static_cast<std::uint32_t>(variables_.size() - 1);
  }

  [[nodiscard]] static const Function* find_function(std::string_view name) noexcept {
    for (const Function& function : functions)
      if (function.name == name) return &function;
    return nullptr;
  }

  [[nodiscard]] static std::string unknown_function(std::string_view name) {
    std::array<std::string_view, std::size(functions)> names{};
    for (std::size_t i = 0; i < names.size(); ++i) names[i] = functions[i].name;
    const auto hint = did_you_mean(name, names);
    return "unknown function '" + std::string(name) + "'" +
           (hint.empty() ? " (functions: min, max, abs, log, sqrt, exp)" : hint);
  }

  std::string_view text_;
  std::string_view noun_; // "expression" or "constraint", for messages
  std::size_t next_ = 0;  // first byte not yet lexed
  Token current_;
  std::size_t previous_end_ = 0; // end of the last token consumed
  std::vector<std::string> variables_;
  std::vector<Op> program_;
  std::size_t depth_ = 0;
  std::size_t stack_ = 0;
  std::size_t max_stack_ = 0;
};

Expression Expression::parse(std::string_view text) {
  return ExpressionCompiler(text, "expression").expression();
}

double Expression::evaluate(std::span<const double> values) const {
  if (values.size() != variables_.size())
    throw std::invalid_argument("'" + text_ + "' reads " + std::to_string(variables_.size()) +
                                " values, got " + std::to_string(values.size()));
  constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  std::array<double, stack_capacity> stack; // filled before read: every program is well formed
  std::size_t top = 0;                      // one past the topmost operand
  for (const Op& op : program_) {
    switch (op.code) {
    case OpCode::constant: stack[top++] = op.value; break;
    case OpCode::variable: stack[top++] = values[op.index]; break;
    case OpCode::add: --top; stack[top - 1] += stack[top]; break;
    case OpCode::subtract: --top; stack[top - 1] -= stack[top]; break;
    case OpCode::multiply: --top; stack[top - 1] *= stack[top]; break;
    case OpCode::divide: --top; stack[top - 1] /= stack[top]; break;
    case OpCode::negate: stack[top - 1] = -stack[top - 1]; break;
    // std::min would return either operand when one is NaN, depending on the order: a missing
    // signal must spoil the result, whichever side it is on.
    case OpCode::min: {
      --top;
      const double a = stack[top - 1], b = stack[top];
      stack[top - 1] = std::isnan(a) || std::isnan(b) ? nan : (b < a ? b : a);
      break;
    }
    case OpCode::max: {
      --top;
      const double a = stack[top - 1], b = stack[top];
      stack[top - 1] = std::isnan(a) || std::isnan(b) ? nan : (b > a ? b : a);
      break;
    }
    case OpCode::abs: stack[top - 1] = std::fabs(stack[top - 1]); break;
    case OpCode::log: stack[top - 1] = std::log(stack[top - 1]); break;
    case OpCode::sqrt: stack[top - 1] = std::sqrt(stack[top - 1]); break;
    case OpCode::exp: stack[top - 1] = std::exp(stack[top - 1]); break;
    }
  }
  return stack[0];
}

std::string_view relation_text(Relation relation) noexcept {
  switch (relation) {
  case Relation::less: return "<";
  case Relation::less_equal: return "<=";
  case Relation::greater: return ">";
  case Relation::greater_equal: return ">=";
  }
  return "?";
}

Constraint Constraint::parse_constraint(std::string_view text) {
  return ExpressionCompiler(text, "constraint").constraint();
}

double Constraint::slack(std::span<const double> values) const {
  const double l = left.evaluate(values), r = right.evaluate(values);
  return relation == Relation::less || relation == Relation::less_equal ? l - r : r - l;
}

} // namespace trimtab
