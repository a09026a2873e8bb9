#include <trimtab/core/json_path.hpp>

#include <cctype>
#include <charconv>

#include "quoted.hpp"

namespace trimtab {
JsonPathError::JsonPathError(std::size_t column, const std::string& message)
    : std::invalid_argument("column " + std::to_string(column) + ": " + message), column_(column) {}

JsonPath::JsonPath(std::string_view text) : text_(text) {
  if (text.empty()) throw JsonPathError(1, "the path is empty; write it like stats.pool.busy");
  std::size_t i = 0;
  bool expect_key = true; // at the start and after a dot
  while (i < text.size()) {
    const char c = text[i];
    if (c == '[') {
      const auto close = text.find(']', i);
      if (close == std::string_view::npos) throw JsonPathError(i + 1, "'[' is never closed");
      const auto inside = text.substr(i + 1, close - i - 1);
      if (inside.size() >= 2 && inside.front() == '"' && inside.back() == '"') {
        steps_.emplace_back(std::string(inside.substr(1, inside.size() - 2)));
      } else {
        std::size_t index = 0;
        const auto result = std::from_chars(inside.data(), inside.data() + inside.size(), index);
        if (inside.empty() || result.ec != std::errc{} || result.ptr != inside.data() + inside.size())
          throw JsonPathError(i + 2, "a bracket holds an index such as [0] or a quoted key such as [\"l1.hits\"]");
        steps_.emplace_back(index);
      }
      i = close + 1;
      ends_.push_back(i);
      expect_key = false;
      continue;
    }
    if (c == '.') {
      if (expect_key) throw JsonPathError(i + 1, "an empty key before '.'");
      expect_key = true;
      ++i;
      continue;
    }
    if (!expect_key) throw JsonPathError(i + 1, "expected '.' or '[' after ']'");
    const auto end = text.find_first_of(".[", i);
    const auto key = text.substr(i, end == std::string_view::npos ? std::string_view::npos : end - i);
    steps_.emplace_back(std::string(key));
    i += key.size();
    ends_.push_back(i);
    expect_key = false;
  }
  if (expect_key) throw JsonPathError(text.size(), "the path ends with '.'");
}

std::variant<double, std::string> JsonPath::read(const boost::json::value& document) const {
  // How the path reads up to step `count`, for messages: 'stats.pool', 'workers[0]'.
  auto where = [&](std::size_t count) {
    return count == 0 ? std::string("the top") : detail::quoted(std::string_view(text_).substr(0, ends_[count - 1]));
  };
  const boost::json::value* at = &document;
  for (std::size_t k = 0; k < steps_.size(); ++k) {
    if (const auto* key = std::get_if<std::string>(&steps_[k])) {
      const auto* object = at->if_object();
      if (!object) return "expected an object at " + where(k);
      at = object->if_contains(*key);
      if (!at) return "'" + *key + "' is not in the object at " + where(k);
    } else {
      const auto index = std::get<std::size_t>(steps_[k]);
      const auto* array = at->if_array();
      if (!array) return "expected an array at " + where(k);
      if (index >= array->size())
        return "index " + std::to_string(index) + " is past the end of the array at " + where(k) + " (" +
               std::to_string(array->size()) + " elements)";
      at = &(*array)[index];
    }
  }
  if (at->is_double()) return at->get_double();
  if (at->is_int64()) return static_cast<double>(at->get_int64());
  if (at->is_uint64()) return static_cast<double>(at->get_uint64());
  if (at->is_bool()) return at->get_bool() ? 1.0 : 0.0;
  const char* kind = at->is_string() ? "a string" : at->is_null() ? "null" : at->is_object() ? "an object" : "an array";
  return where(steps_.size()) + " is " + kind + ", not a number";
}

} // namespace trimtab
