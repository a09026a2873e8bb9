#include "text_formats.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <system_error>

#include <boost/json/parse.hpp>

namespace trimtab::detail {
namespace {

// Doubles beyond 2^53 are not all whole numbers that int64 can hold exactly.
constexpr double max_exact_integer = 9007199254740992.0;

constexpr std::string_view blanks = " \t";

[[nodiscard]] std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

// The length of the UTF-8 sequence at text[i] and its code point, or 0 when it is malformed.
[[nodiscard]] std::size_t decode_utf8(std::string_view text, std::size_t i, char32_t& code) noexcept {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  if (lead < 0x80) {
    code = lead;
    return 1;
  }
  std::size_t length = 0;
  char32_t min = 0;
  if ((lead & 0xE0) == 0xC0) {
    length = 2, code = lead & 0x1F, min = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3, code = lead & 0x0F, min = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4, code = lead & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    code = (code << 6) | (byte(i + k) & 0x3F);
  }
  if (code < min || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) return 0;
  return length;
}

void append_u_escape(std::string& out, char32_t code) {
  constexpr char hex[] = "0123456789abcdef";
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += hex[(code >> shift) & 0xF];
}

// One line of text: control characters become spaces, runs of them one space.
[[nodiscard]] std::string one_line(std::string_view text) {
  std::string line;
  line.reserve(text.size());
  for (const char c : text) {
    const bool control = static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    if (!control) {
      line += c;
    } else if (line.empty() || line.back() != ' ') {
      line += ' ';
    }
  }
  return line;
}

[[nodiscard]] std::string line_problem(std::size_t line, const std::string& what) {
  return "line " + std::to_string(line) + ": " + what;
}

// The text of a double-quoted string starting at text[start] (a '"'), and where it ends (one past
// the closing quote); an error when it does not end on the line or has escapes JSON lacks.
[[nodiscard]] std::variant<std::pair<std::string, std::size_t>, std::string> read_double_quoted(std::string_view text,
                                                                                                std::size_t start) {
  std::size_t i = start + 1;
  while (i < text.size() && text[i] != '"') i += text[i] == '\\' ? 2 : 1;
  if (i >= text.size()) return std::string("a double-quoted string does not end on its line");
  boost::system::error_code ec;
  const auto json = boost::json::parse(text.substr(start, i + 1 - start), ec);
  if (ec || !json.is_string())
    return std::string("a double-quoted string with an escape this reader does not know (JSON escapes only)");
  return std::pair{std::string(json.get_string()), i + 1};
}

// The same for a single-quoted YAML string, where '' stands for one quote.
[[nodiscard]] std::variant<std::pair<std::string, std::size_t>, std::string> read_single_quoted(std::string_view text,
                                                                                                std::size_t start) {
  std::string value;
  for (std::size_t i = start + 1; i < text.size(); ++i) {
    if (text[i] != '\'') {
      value += text[i];
    } else if (i + 1 < text.size() && text[i + 1] == '\'') {
      value += '\'';
      ++i;
    } else {
      return std::pair{std::move(value), i + 1};
    }
  }
  return std::string("a single-quoted string does not end on its line");
}

// What follows a quoted scalar must be blanks or a comment.
[[nodiscard]] bool only_comment_after(std::string_view text, std::size_t from) {
  const auto rest = trim(text.substr(from));
  return rest.empty() || rest.front() == '#';
}

} // namespace

std::optional<std::string> number_text(double value) {
  if (!std::isfinite(value)) return std::nullopt;
  if (std::trunc(value) == value && std::abs(value) <= max_exact_integer)
    return std::to_string(static_cast<std::int64_t>(value));
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  std::string text(buffer, result.ptr);
  if (const auto e = text.find('e'); e != std::string::npos && text.find('.') == std::string::npos)
    text.insert(e, ".0");
  return text;
}

std::optional<std::string> value_text(const Value& value) {
  if (const auto* i = std::get_if<std::int64_t>(&value)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&value)) return number_text(*d);
  return std::get<std::string>(value);
}

bool valid_utf8(std::string_view text) noexcept {
  for (std::size_t i = 0; i < text.size();) {
    char32_t code = 0;
    const auto length = decode_utf8(text, i, code);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

std::optional<std::string> quoted_string(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (std::size_t i = 0; i < text.size();) {
    char32_t code = 0;
    const auto length = decode_utf8(text, i, code);
    if (length == 0) return std::nullopt;
    switch (code) {
    case '"': out += "\\\""; break;
    case '\\': out += "\\\\"; break;
    case '\b': out += "\\b"; break;
    case '\f': out += "\\f"; break;
    case '\n': out += "\\n"; break;
    case '\r': out += "\\r"; break;
    case '\t': out += "\\t"; break;
    default:
      if (code < 0x20 || code == 0x7f || (code >= 0x80 && code <= 0x9f) || code == 0x2028 || code == 0x2029 ||
          code == 0xFEFF)
        append_u_escape(out, code);
      else
        out.append(text.substr(i, length));
    }
    i += length;
  }
  out += '"';
  return out;
}

Value infer_value(std::string_view text) {
  std::string_view digits = text;
  if (digits.starts_with('+')) {
    digits.remove_prefix(1);
    if (digits.starts_with('+') || digits.starts_with('-')) return std::string(text);
  }
  if (digits.empty()) return std::string(text);
  std::int64_t whole = 0;
  const auto* end = digits.data() + digits.size();
  if (auto [ptr, ec] = std::from_chars(digits.data(), end, whole); ec == std::errc{} && ptr == end) return whole;
  // A number in decimal notation only: from_chars would also take "inf", "nan" and hex floats.
  if (digits.find_first_not_of("0123456789.eE+-") != std::string_view::npos ||
      digits.find_first_of("0123456789") == std::string_view::npos)
    return std::string(text);
  double real = 0.0;
  if (auto [ptr, ec] = std::from_chars(digits.data(), end, real); ec == std::errc{} && ptr == end && std::isfinite(real))
    return real;
  return std::string(text);
}

ParsedValues parse_key_values(std::string_view text) {
  std::map<std::string, Value> values;
  std::size_t number = 0;
  while (!text.empty()) {
    const auto end = text.find('\n');
    auto line = trim(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    ++number;
    if (line.empty() || line.front() == '#') continue;
    if (line.starts_with("export ") || line.starts_with("export\t")) line = trim(line.substr(7));
    const auto equals = line.find('=');
    if (equals == std::string_view::npos || equals == 0)
      return line_problem(number, "expected KEY=value, got '" + quote_head(line, 60) + "'");
    const auto key = trim(line.substr(0, equals));
    const auto raw = trim(line.substr(equals + 1));
    if (raw.size() >= 2 && raw.front() == '"' && raw.back() == '"') {
      std::string value;
      for (std::size_t i = 1; i + 1 < raw.size(); ++i) {
        if (raw[i] == '\\' && i + 2 < raw.size() && std::string_view("\"\\$`").find(raw[i + 1]) != std::string_view::npos)
          ++i;
        value += raw[i];
      }
      values[std::string(key)] = std::move(value);
    } else if (raw.size() >= 2 && raw.front() == '\'' && raw.back() == '\'') {
      values[std::string(key)] = std::string(raw.substr(1, raw.size() - 2));
    } else {
      values[std::string(key)] = infer_value(raw);
    }
  }
  return values;
}

ParsedValues parse_yaml_subset(std::string_view text) {
  std::map<std::string, Value> values;
  std::size_t number = 0;
  while (!text.empty()) {
    const auto end = text.find('\n');
    auto line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (number == 1 && line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3); // a byte order mark
    const auto trimmed = trim(line);
    if (trimmed.empty() || trimmed.front() == '#') continue;
    if (trimmed == "---" || trimmed == "..." || trimmed.starts_with("--- ")) continue;
    if (blanks.find(line.front()) != std::string_view::npos)
      return line_problem(number, "an indented line; only top-level `key: value` lines can be read");

    // The key, and where the text after it starts.
    std::string key;
    std::size_t at = 0;
    if (line.front() == '"' || line.front() == '\'') {
      auto read = line.front() == '"' ? read_double_quoted(line, 0) : read_single_quoted(line, 0);
      if (auto* problem = std::get_if<std::string>(&read)) return line_problem(number, *problem);
      std::tie(key, at) = std::get<0>(std::move(read));
      while (at < line.size() && blanks.find(line[at]) != std::string_view::npos) ++at;
      if (at >= line.size() || line[at] != ':') return line_problem(number, "expected ':' after the key");
    } else {
      if (std::string_view("[]{}&*!|>%@`-?,").find(line.front()) != std::string_view::npos)
        return line_problem(number, "expected `key: value`; lists, flow maps, anchors and tags cannot be read");
      for (at = line.find(':'); at != std::string_view::npos; at = line.find(':', at + 1))
        if (at + 1 == line.size() || blanks.find(line[at + 1]) != std::string_view::npos) break;
      if (at == std::string_view::npos) return line_problem(number, "expected `key: value`");
      key = std::string(trim(line.substr(0, at)));
    }
    ++at; // past the ':'
    while (at < line.size() && blanks.find(line[at]) != std::string_view::npos) ++at;

    const auto rest = line.substr(at);
    if (rest.empty() || rest.front() == '#')
      return line_problem(number, "'" + key + "' has no value (nested maps and lists cannot be read)");
    if (rest.front() == '"' || rest.front() == '\'') {
      auto read = rest.front() == '"' ? read_double_quoted(rest, 0) : read_single_quoted(rest, 0);
      if (auto* problem = std::get_if<std::string>(&read)) return line_problem(number, *problem);
      auto [value, after] = std::get<0>(std::move(read));
      if (!only_comment_after(rest, after))
        return line_problem(number, "unexpected text after the quoted value of '" + key + "'");
      values[key] = std::move(value);
      continue;
    }
    if (std::string_view("[{&*!|>%@`").find(rest.front()) != std::string_view::npos)
      return line_problem(number, "the value of '" + key +
                                      "' is not a plain or quoted scalar (lists, flow maps, anchors, tags and block "
                                      "scalars cannot be read)");
    auto plain = rest;
    for (std::size_t hash = plain.find('#'); hash != std::string_view::npos; hash = plain.find('#', hash + 1))
      if (blanks.find(plain[hash - 1]) != std::string_view::npos) {
        plain = plain.substr(0, hash);
        break;
      }
    values[key] = infer_value(trim(plain));
  }
  return values;
}

std::variant<Value, std::string> json_setting(const boost::json::value& json) {
  switch (json.kind()) {
  case boost::json::kind::int64: return Value{json.get_int64()};
  case boost::json::kind::uint64: return Value{static_cast<double>(json.get_uint64())}; // beyond int64
  case boost::json::kind::double_: return Value{json.get_double()};
  case boost::json::kind::string: return Value{std::string(json.get_string())};
  case boost::json::kind::bool_: return std::string("a boolean");
  case boost::json::kind::null: return std::string("null");
  case boost::json::kind::array: return std::string("an array");
  case boost::json::kind::object: return std::string("an object");
  }
  return std::string("unknown");
}

std::string quote_tail(std::string_view text, std::size_t max_bytes) {
  text = trim(text);
  if (text.size() <= max_bytes) return one_line(text);
  std::size_t start = text.size() - max_bytes;
  while (start < text.size() && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) ++start;
  return "…" + one_line(trim(text.substr(start)));
}

std::string quote_head(std::string_view text, std::size_t max_bytes) {
  text = trim(text);
  if (text.size() <= max_bytes) return one_line(text);
  std::size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return one_line(trim(text.substr(0, end))) + "…";
}

void append_line_head(std::string& out, std::string_view text, std::size_t max_bytes) {
  bool cut = false;
  if (text.size() > max_bytes) {
    std::size_t end = max_bytes;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    text = text.substr(0, end);
    cut = true;
  }
  for (const char c : text) out += static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? ' ' : c;
  if (cut) out += "…";
}

} // namespace trimtab::detail
