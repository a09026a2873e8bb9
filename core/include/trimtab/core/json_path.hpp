#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/json/value.hpp>

namespace trimtab {

/// Thrown for a malformed path; names the column (1-based) at fault.
class JsonPathError : public std::invalid_argument {
public:
  JsonPathError(std::size_t column, const std::string& message);
  [[nodiscard]] std::size_t column() const noexcept { return column_; }

private:
  std::size_t column_;
};

/// The address of one number in a JSON document, for services that expose their metrics as JSON:
/// `stats.pool.busy`, `workers[0].queue`, `caches["l1.hits"]` (brackets quote keys that hold dots).
/// Parsed once at start-up, then applied to every scrape without allocating.
class JsonPath {
public:
  /// Throws JsonPathError for an empty path, an empty key, an unclosed bracket or quote, or a
  /// bracket that holds neither an index nor a quoted key.
  explicit JsonPath(std::string_view text);

  [[nodiscard]] const std::string& text() const noexcept { return text_; }

  /// The number at this path in `document`, or why there is none ("'pool' is not in the object at
  /// 'stats'", "'busy' is a string, not a number"): the step named is the first that failed.
  /// Booleans read as 0 and 1, so flags can be gauges.
  [[nodiscard]] std::variant<double, std::string> read(const boost::json::value& document) const;

private:
  using Step = std::variant<std::string, std::size_t>; // a key, or an index
  std::string text_;
  std::vector<Step> steps_;
  std::vector<std::size_t> ends_; // where each step ends in text_, for naming it in messages
};

} // namespace trimtab
