#pragma once

// RESP2, the protocol Redis speaks: an encoder for commands and a parser for replies, as pure
// functions over bytes (no I/O), so they are tested and fuzzed without a server.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace trimtab::resp {

/// The kinds of RESP2 replies. A null bulk string ($-1) and a null array (*-1) are both `null`.
enum class Type { simple_string, error, integer, bulk_string, array, null };

/// One reply, possibly nested (arrays of replies).
struct Reply {
  Type type = Type::null;
  /// The text of a simple string, an error ("ERR unknown command…", without the '-') or a bulk
  /// string (any bytes); empty for the other types.
  std::string text{};
  /// The value of an integer reply; 0 for the other types.
  std::int64_t integer = 0;
  /// The elements of an array; empty for the other types.
  std::vector<Reply> elements{};

  [[nodiscard]] bool is_error() const noexcept { return type == Type::error; }
  /// True for a simple or a bulk string.
  [[nodiscard]] bool is_string() const noexcept { return type == Type::simple_string || type == Type::bulk_string; }

  friend bool operator==(const Reply&, const Reply&) = default;
};

/// Bounds on what the parser accepts, so a broken or hostile peer cannot make it allocate without
/// limit or recurse deeply. The defaults are generous for the replies of CONFIG GET, AUTH and
/// CONFIG SET, and small next to the memory of the agent.
struct Limits {
  /// Longest bulk string, in bytes.
  std::size_t max_bulk_bytes = std::size_t{1} << 20;
  /// Longest line (a simple string, an error, an integer or a length), without its CRLF.
  std::size_t max_line_bytes = std::size_t{64} << 10;
  /// Most elements of one array.
  std::size_t max_array_elements = std::size_t{1} << 16;
  /// Deepest nesting of arrays; a reply that is no array has depth 0.
  std::size_t max_depth = 8;
};

/// What parse() found at the start of its input.
enum class Status {
  complete,   ///< a whole reply, `consumed` bytes long
  incomplete, ///< the start of a valid reply: call again with more bytes appended
  invalid,    ///< not RESP2, or beyond the limits: the connection cannot be trusted further
};

struct ParseResult {
  Status status = Status::incomplete;
  /// The reply, when complete.
  Reply reply{};
  /// How many bytes of the input the reply took, when complete; 0 otherwise.
  std::size_t consumed = 0;
  /// Why the input is invalid, for people ("unknown type byte 'H' at offset 0"); empty otherwise.
  std::string error{};
};

/// Parses the first reply in `input`, which holds the bytes received so far. Incremental by
/// re-parsing: when the result is incomplete, append what arrives next and call again with the
/// whole; when it is complete, drop `consumed` bytes before parsing the next reply. Never throws
/// for any input (only std::bad_alloc), never reads past `input`, and never allocates more than the
/// limits allow.
[[nodiscard]] ParseResult parse(std::string_view input, const Limits& limits = {});

/// A command as Redis reads it: an array of bulk strings, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n" for
/// {"GET", "k"}. Arguments may hold any bytes.
[[nodiscard]] std::string encode_command(std::span<const std::string> arguments);

/// A reply as one line for messages: an error or a string as its text (controls as spaces, cut
/// after `max_chars` bytes on a UTF-8 boundary with "…"), an integer in decimal, "(nil)" for null,
/// an array as "[a, b]".
[[nodiscard]] std::string describe(const Reply& reply, std::size_t max_chars = 200);

} // namespace trimtab::resp
