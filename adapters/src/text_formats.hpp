#pragma once

// Settings as text, and back: the value formats the file and command adapters write and read.
// Internal to the adapters library.

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <boost/json/value.hpp>

#include <trimtab/core/param.hpp>

namespace trimtab::detail {

/// The shortest text that reads back as the same double. Whole numbers up to 2^53 are written as
/// integers ("8": an ordinal batch size of 8.0 is 8 to a service), others with a '.' before any
/// exponent, so YAML 1.1 readers see a float too ("0.25", "1.0e+20"). Nothing for NaN and infinities.
[[nodiscard]] std::optional<std::string> number_text(double value);

/// An int in decimal, a double as number_text, a string as it is; nothing for NaN and infinities.
[[nodiscard]] std::optional<std::string> value_text(const Value& value);

/// Whether `text` is well-formed UTF-8 (no overlong forms, no surrogates).
[[nodiscard]] bool valid_utf8(std::string_view text) noexcept;

/// `text` between double quotes, escaped so that it is both a JSON string and a YAML double-quoted
/// scalar: \" \\ \n \t …, and \uXXXX for other control characters, DEL, C1 controls, U+2028,
/// U+2029 and U+FEFF. Nothing when `text` is not valid UTF-8.
[[nodiscard]] std::optional<std::string> quoted_string(std::string_view text);

/// A value from text that carries no type: an int64 for "20" or "-3", a double for "1.5", "1e-7"
/// or a whole number beyond int64, else the text itself ("lru", "", "nan").
[[nodiscard]] Value infer_value(std::string_view text);

/// Values by key, or why the text cannot be read ("line 3: …").
using ParsedValues = std::variant<std::map<std::string, Value>, std::string>;

/// Reads KEY=value lines: blank lines and lines starting with '#' are skipped, an `export ` prefix
/// is allowed, values are trimmed; a value in double quotes (with \" \\ \$ \` escapes) or single
/// quotes is a string, any other is typed by infer_value. A key given twice keeps its last value.
[[nodiscard]] ParsedValues parse_key_values(std::string_view text);

/// Reads the YAML subset the file adapter writes: one `key: value` line per setting at the top
/// level, with comments, blank lines and `---`; keys and values plain, 'single-' or "double-quoted"
/// (JSON escapes only). A plain value is typed by infer_value; a quoted one is a string. Nested
/// maps, lists, anchors, tags and block scalars are refused with the line.
[[nodiscard]] ParsedValues parse_yaml_subset(std::string_view text);

/// A JSON value as a setting (int64, double for other numbers, string), or what it is instead:
/// "a boolean", "null", "an array", "an object".
[[nodiscard]] std::variant<Value, std::string> json_setting(const boost::json::value& json);

/// The end of `text` as one line of at most `max_bytes` bytes (plus a leading "…" when cut), cut
/// on a UTF-8 character boundary, with surrounding blanks trimmed and each run of control
/// characters (newlines, tabs) shown as one space: what a failure message quotes of a stderr.
[[nodiscard]] std::string quote_tail(std::string_view text, std::size_t max_bytes);

/// The start of `text`, the same way: what a failure message quotes of unreadable output.
[[nodiscard]] std::string quote_head(std::string_view text, std::size_t max_bytes);

/// Appends the start of `text` as one line of at most `max_bytes` bytes (plus "…" when cut), cut on
/// a UTF-8 character boundary, each control character shown as a space but nothing trimmed: what
/// a message quotes of a reply or a body.
void append_line_head(std::string& out, std::string_view text, std::size_t max_bytes);

} // namespace trimtab::detail
