// libFuzzer target for the file adapter's readers of a service's config file
// (adapters/src/text_formats.hpp): the file is the service's, and anyone who can write it may put
// anything there, so no content may crash the agent, read out of bounds (ASan) or reach undefined
// behaviour (UBSan). The same bytes go to each reader. Checked:
// - parse_yaml_subset and parse_key_values end in values or in "line N: …" with N a line of the
//   text;
// - every value they (or boost::json with json_setting, the JSON reader) find reads back the same
//   when written the way the file adapter writes it (quoted_string, value_text), numbers as
//   numbers: what trimtab writes it can read (but see the known finding below);
// - quoted_string succeeds exactly for valid_utf8 text, gives a JSON string of that text with no
//   raw control characters;
// - number_text of the first 8 bytes as a double reads back through infer_value as the same
//   number, with a '.' before any exponent;
// - quote_head and quote_tail, which quote a failing command's output, give one line of at most
//   max_bytes plus "…", valid UTF-8 when the text is.
//
// Known finding: boost::json 1.81 reads numbers with an exponent or many digits imprecisely (it
// has no parse_options for exact numbers before 1.83), so a double the JSON file adapter writes
// may read back a few ulp away: number_text(1e30) is "1.0e+30", which boost::json reads as
// 9.9999999999999988e+29 (from_chars, which the YAML and env readers use, reads it exactly). About
// one double in five with 17 significant digits moves so. Until the JSON readers read numbers
// exactly, a JSON read-back within a relative 1e-15 passes; TRIMTAB_FUZZ_KNOWN_FINDINGS=1 wants
// it exact.
//
//   scripts/fuzz.sh builds it (build-fuzz/fuzz/text_formats_fuzz) and runs it on
//   fuzz/corpus/text_formats/.

#include "text_formats.hpp"

#include "fuzz_input.hpp"

#include <boost/json/parse.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace detail = trimtab::detail;
using trimtab::Value;

namespace {

std::optional<double> number(const Value& value) {
  if (const auto* i = std::get_if<std::int64_t>(&value)) return static_cast<double>(*i);
  if (const auto* d = std::get_if<double>(&value)) return *d;
  return std::nullopt;
}

// The same setting: equal strings, or equal numbers whether written as int or double (the writer
// puts 8.0 as "8").
bool same_setting(const Value& a, const Value& b) {
  if (std::holds_alternative<std::string>(a) || std::holds_alternative<std::string>(b)) return a == b;
  if (std::holds_alternative<std::int64_t>(a) && std::holds_alternative<std::int64_t>(b)) return a == b;
  return *number(a) == *number(b);
}

// The same setting read back by boost::json: exact for strings and int64, near for doubles (see the
// known finding above).
bool same_json_setting(const Value& read, const Value& written) {
  if (same_setting(read, written)) return true;
  if (trimtab::fuzz::check_known_findings() || !std::holds_alternative<double>(written)) return false;
  const auto a = number(read), b = number(written);
  return a && std::abs(*a - *b) <= 1e-15 * std::abs(*b);
}

// A value as the file adapter writes it in JSON and YAML, or nothing where it refuses to.
std::optional<std::string> written(const Value& value) {
  if (const auto* text = std::get_if<std::string>(&value)) return detail::quoted_string(*text);
  return detail::value_text(value);
}

// "line N: …" with N in 1..lines.
void check_problem(const std::string& problem, std::size_t lines) {
  if (!problem.starts_with("line ")) std::abort();
  std::size_t at = 5, line = 0;
  while (at < problem.size() && problem[at] >= '0' && problem[at] <= '9') line = line * 10 + (problem[at++] - '0');
  if (at == 5 || line < 1 || line > lines || problem.compare(at, 2, ": ") != 0) std::abort();
}

void check_yaml(std::string_view text, std::size_t lines) {
  const auto parsed = detail::parse_yaml_subset(text);
  if (const auto* problem = std::get_if<std::string>(&parsed)) return check_problem(*problem, lines);
  for (const auto& [key, value] : std::get<0>(parsed)) {
    const auto key_text = detail::quoted_string(key);
    const auto value_text = written(value);
    if (!key_text || !value_text) continue;
    const auto again = detail::parse_yaml_subset(*key_text + ": " + *value_text + "\n");
    const auto* values = std::get_if<0>(&again);
    if (values == nullptr || values->size() != 1 || values->begin()->first != key ||
        !same_setting(values->begin()->second, value))
      std::abort();
  }
}

void check_key_values(std::string_view text, std::size_t lines) {
  const auto parsed = detail::parse_key_values(text);
  if (const auto* problem = std::get_if<std::string>(&parsed)) return check_problem(*problem, lines);
  for (const auto& [key, value] : std::get<0>(parsed)) {
    if (key.empty() || key.find('=') != std::string::npos) std::abort();
    if (const auto* d = std::get_if<double>(&value); d != nullptr && !std::isfinite(*d)) std::abort();
  }
}

void check_json(std::string_view text) {
  boost::system::error_code ec;
  const auto json = boost::json::parse(text, ec);
  if (ec) return;
  if (!json.is_object()) {
    const auto setting = detail::json_setting(json);
    if (const auto* kind = std::get_if<std::string>(&setting); kind != nullptr && kind->empty()) std::abort();
    return;
  }
  for (const auto& [key, member] : json.get_object()) {
    const auto setting = detail::json_setting(member);
    const auto* value = std::get_if<Value>(&setting);
    if (value == nullptr) {
      if (std::get<std::string>(setting).empty()) std::abort();
      continue;
    }
    const auto key_text = detail::quoted_string(key);
    if (!key_text) std::abort(); // boost::json keeps only valid UTF-8
    const auto value_text = written(*value);
    if (!value_text) continue; // not finite
    const auto again = boost::json::parse("{\n  " + *key_text + ": " + *value_text + "\n}\n", ec);
    if (ec || !again.is_object() || again.get_object().size() != 1) std::abort();
    const auto* back = again.get_object().if_contains(key);
    if (back == nullptr) std::abort();
    const auto reread = detail::json_setting(*back);
    if (!std::holds_alternative<Value>(reread) || !same_json_setting(std::get<Value>(reread), *value)) std::abort();
  }
}

void check_quoting(std::string_view text) {
  const auto quoted = detail::quoted_string(text);
  if (quoted.has_value() != detail::valid_utf8(text)) std::abort();
  if (!quoted) return;
  for (const char c : *quoted)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) std::abort();
  boost::system::error_code ec;
  const auto json = boost::json::parse(*quoted, ec);
  if (ec || !json.is_string() || json.get_string() != text) std::abort();
}

void check_one_line(const std::string& line, std::size_t max_bytes, bool utf8) {
  if (line.size() > max_bytes + std::strlen("…")) std::abort();
  for (const char c : line)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) std::abort();
  if (utf8 && !detail::valid_utf8(line)) std::abort();
}

void check_numbers(const std::uint8_t* data, std::size_t size) {
  if (size < sizeof(double)) return;
  double real = 0;
  std::int64_t whole = 0;
  std::memcpy(&real, data, sizeof real);
  std::memcpy(&whole, data, sizeof whole);
  if (const auto text = detail::number_text(real)) {
    if (!std::isfinite(real)) std::abort();
    if (const auto e = text->find('e'); e != std::string::npos && text->rfind('.', e) == std::string::npos) std::abort();
    if (!same_setting(detail::infer_value(*text), Value{real})) std::abort();
  } else if (std::isfinite(real)) {
    std::abort();
  }
  if (detail::infer_value(*detail::value_text(Value{whole})) != Value{whole}) std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = trimtab::fuzz::text_of(data, size);
  const auto lines = trimtab::fuzz::split_lines(text).size();

  check_yaml(text, lines);
  check_key_values(text, lines);
  check_json(text);
  check_quoting(text);
  check_numbers(data, size);

  const bool utf8 = detail::valid_utf8(text);
  const std::size_t max_bytes = size > 0 ? data[0] : 0;
  check_one_line(detail::quote_head(text, max_bytes), max_bytes, utf8);
  check_one_line(detail::quote_tail(text, max_bytes), max_bytes, utf8);

  // infer_value sees one trimmed value, as the readers hand it over.
  const auto value = detail::infer_value(lines > 1 ? text.substr(0, text.find('\n')) : text);
  if (const auto* d = std::get_if<double>(&value); d != nullptr && !std::isfinite(*d)) std::abort();
  return 0;
}
