#include <trimtab/adapters/resp.hpp>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <optional>

#include "text_formats.hpp"

namespace trimtab::resp {
namespace {

// How many elements of an announced array are reserved up front: the count is the peer's word,
// and the elements may never come.
constexpr std::size_t reserve_at_most = 64;

[[nodiscard]] std::string describe_byte(char c) {
  const auto u = static_cast<unsigned char>(c);
  char buffer[16];
  if (u > 0x20 && u < 0x7f)
    std::snprintf(buffer, sizeof buffer, "'%c' (0x%02x)", c, u);
  else
    std::snprintf(buffer, sizeof buffer, "0x%02x", u);
  return buffer;
}

// "-?[0-9]+" that fits in int64, or nothing.
[[nodiscard]] std::optional<std::int64_t> parse_integer(std::string_view text) {
  const bool negative = !text.empty() && text.front() == '-';
  if (negative) text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  // Accumulate as a negative number, whose range is the larger one.
  std::int64_t value = 0;
  constexpr std::int64_t lowest = std::numeric_limits<std::int64_t>::min();
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const int digit = c - '0';
    if (value < (lowest + digit) / 10) return std::nullopt;
    value = value * 10 - digit;
  }
  if (negative) return value;
  if (value == lowest) return std::nullopt;
  return -value;
}

class Parser {
public:
  Parser(std::string_view input, const Limits& limits) : input_(input), limits_(limits) {}

  ParseResult run() {
    ParseResult result;
    Reply reply;
    result.status = parse_reply(reply, 0);
    if (result.status == Status::complete) {
      result.reply = std::move(reply);
      result.consumed = pos_;
    } else if (result.status == Status::invalid) {
      result.error = std::move(error_);
    }
    return result;
  }

private:
  std::string_view input_;
  const Limits& limits_;
  std::size_t pos_ = 0;
  std::string error_;

  Status invalid(std::string why) {
    error_ = std::move(why);
    return Status::invalid;
  }

  // The line at pos_ (just after a type byte), up to its CRLF, which it steps over.
  Status line(std::string_view& out) {
    const std::size_t start = pos_;
    const std::size_t end = std::min(input_.size(), start + limits_.max_line_bytes + 1);
    for (std::size_t i = start; i < end; ++i) {
      if (input_[i] == '\n') return invalid("a line feed without a carriage return at offset " + std::to_string(i));
      if (input_[i] != '\r') continue;
      if (i + 1 == input_.size()) return Status::incomplete;
      if (input_[i + 1] != '\n') return invalid("a carriage return without a line feed at offset " + std::to_string(i));
      out = input_.substr(start, i - start);
      pos_ = i + 2;
      return Status::complete;
    }
    if (end - start > limits_.max_line_bytes)
      return invalid("a line longer than " + std::to_string(limits_.max_line_bytes) + " bytes at offset " +
                     std::to_string(start - 1)); // where its reply starts, at the type byte
    return Status::incomplete;
  }

  // A length line ("$5", "*2"): -1 for null, else 0 to `max`.
  Status length(std::int64_t& out, std::size_t max, const char* what) {
    const std::size_t start = pos_;
    std::string_view text;
    if (const auto status = line(text); status != Status::complete) return status;
    const auto value = parse_integer(text);
    if (!value || *value < -1)
      return invalid(std::string("a bad ") + what + " length at offset " + std::to_string(start));
    if (*value > 0 && static_cast<std::uint64_t>(*value) > max)
      return invalid(std::string(what[0] == 'a' ? "an " : "a ") + what + " of " + std::to_string(*value) +
                     (what[0] == 'a' ? " elements" : " bytes") + ", more than the limit of " + std::to_string(max));
    out = *value;
    return Status::complete;
  }

  Status parse_reply(Reply& reply, std::size_t depth) {
    if (pos_ >= input_.size()) return Status::incomplete;
    const std::size_t start = pos_;
    const char type = input_[pos_++];
    std::string_view text;
    switch (type) {
    case '+':
    case '-': {
      if (const auto status = line(text); status != Status::complete) return status;
      reply.type = type == '+' ? Type::simple_string : Type::error;
      reply.text = std::string(text);
      return Status::complete;
    }
    case ':': {
      if (const auto status = line(text); status != Status::complete) return status;
      const auto value = parse_integer(text);
      if (!value) return invalid("a bad integer at offset " + std::to_string(start));
      reply.type = Type::integer;
      reply.integer = *value;
      return Status::complete;
    }
    case '$': {
      std::int64_t size = 0;
      if (const auto status = length(size, limits_.max_bulk_bytes, "bulk string"); status != Status::complete)
        return status;
      if (size < 0) {
        reply.type = Type::null;
        return Status::complete;
      }
      const auto bytes = static_cast<std::size_t>(size);
      const std::size_t available = input_.size() - pos_;
      if (available > bytes && input_[pos_ + bytes] != '\r')
        return invalid("a bulk string not followed by CRLF at offset " + std::to_string(pos_ + bytes));
      if (available > bytes + 1 && input_[pos_ + bytes + 1] != '\n')
        return invalid("a bulk string not followed by CRLF at offset " + std::to_string(pos_ + bytes));
      if (available < bytes + 2) return Status::incomplete;
      reply.type = Type::bulk_string;
      reply.text = std::string(input_.substr(pos_, bytes));
      pos_ += bytes + 2;
      return Status::complete;
    }
    case '*': {
      if (depth + 1 > limits_.max_depth)
        return invalid("arrays nested deeper than " + std::to_string(limits_.max_depth) + " at offset " +
                       std::to_string(start));
      std::int64_t count = 0;
      if (const auto status = length(count, limits_.max_array_elements, "array"); status != Status::complete)
        return status;
      if (count < 0) {
        reply.type = Type::null;
        return Status::complete;
      }
      reply.type = Type::array;
      reply.elements.reserve(std::min(static_cast<std::size_t>(count), reserve_at_most));
      for (std::int64_t i = 0; i < count; ++i) {
        Reply element;
        if (const auto status = parse_reply(element, depth + 1); status != Status::complete) return status;
        reply.elements.push_back(std::move(element));
      }
      return Status::complete;
    }
    default:
      return invalid("unknown type byte " + describe_byte(type) + " at offset " + std::to_string(start));
    }
  }
};

void describe_into(std::string& out, const Reply& reply, std::size_t max_chars) {
  switch (reply.type) {
  case Type::simple_string:
  case Type::error:
  case Type::bulk_string: {
    const std::size_t room = max_chars > out.size() ? max_chars - out.size() : 0;
    detail::append_line_head(out, reply.text, room);
    return;
  }
  case Type::integer: out += std::to_string(reply.integer); return;
  case Type::null: out += "(nil)"; return;
  case Type::array:
    out += '[';
    for (std::size_t i = 0; i < reply.elements.size(); ++i) {
      if (out.size() >= max_chars) {
        out += "…";
        break;
      }
      if (i > 0) out += ", ";
      describe_into(out, reply.elements[i], max_chars);
    }
    out += ']';
    return;
  }
}

} // namespace

ParseResult parse(std::string_view input, const Limits& limits) { return Parser(input, limits).run(); }

std::string encode_command(std::span<const std::string> arguments) {
  std::size_t size = 16;
  for (const auto& argument : arguments) size += argument.size() + 24;
  std::string out;
  out.reserve(size);
  out += '*';
  out += std::to_string(arguments.size());
  out += "\r\n";
  for (const auto& argument : arguments) {
    out += '$';
    out += std::to_string(argument.size());
    out += "\r\n";
    out += argument;
    out += "\r\n";
  }
  return out;
}

std::string describe(const Reply& reply, std::size_t max_chars) {
  std::string out;
  describe_into(out, reply, max_chars);
  return out;
}

} // namespace trimtab::resp
