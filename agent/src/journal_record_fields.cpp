#include "journal_record_fields.hpp"

#include <cmath>
#include <limits>

namespace trimtab::journal_fields {

namespace json = boost::json;

std::optional<double> number_at(const json::object& record, std::string_view key) {
  const auto* value = record.if_contains(key);
  if (value == nullptr) return std::nullopt;
  double d = 0;
  if (value->is_double()) d = value->get_double();
  else if (value->is_int64()) d = static_cast<double>(value->get_int64());
  else if (value->is_uint64()) d = static_cast<double>(value->get_uint64());
  else return std::nullopt;
  if (!std::isfinite(d)) return std::nullopt;
  return d;
}

std::optional<std::int64_t> integer_at(const json::object& record, std::string_view key) {
  const auto* value = record.if_contains(key);
  if (value == nullptr) return std::nullopt;
  if (value->is_int64()) return value->get_int64();
  if (value->is_uint64()) {
    if (value->get_uint64() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
    return static_cast<std::int64_t>(value->get_uint64());
  }
  if (value->is_double()) {
    const double d = value->get_double();
    if (std::isfinite(d) && d == std::trunc(d) && std::abs(d) < 9.0e15) return static_cast<std::int64_t>(d);
  }
  return std::nullopt;
}

std::string text_at(const json::object& record, std::string_view key) {
  const auto* value = record.if_contains(key);
  if (value == nullptr || !value->is_string()) return {};
  return std::string(value->get_string());
}

std::optional<bool> bool_at(const json::object& record, std::string_view key) {
  const auto* value = record.if_contains(key);
  if (value == nullptr || !value->is_bool()) return std::nullopt;
  return value->get_bool();
}

const json::object* object_at(const json::object& record, std::string_view key) {
  const auto* value = record.if_contains(key);
  if (value == nullptr || !value->is_object()) return nullptr;
  return &value->get_object();
}

std::optional<double> as_number(const json::value& value) {
  if (value.is_double()) return value.get_double();
  if (value.is_int64()) return static_cast<double>(value.get_int64());
  if (value.is_uint64()) return static_cast<double>(value.get_uint64());
  return std::nullopt;
}

/// Same configuration: the same names, numbers equal as numbers (20 == 20.0), anything else equal.
bool same_point(const json::object& a, const json::object& b) {
  if (a.size() != b.size()) return false;
  for (const auto& entry : a) {
    const auto* other = b.if_contains(entry.key());
    if (other == nullptr) return false;
    const auto x = as_number(entry.value());
    const auto y = as_number(*other);
    if (x && y) {
      if (*x != *y) return false;
    } else if (entry.value() != *other) {
      return false;
    }
  }
  return true;
}

/// An observation's "signals": numbers, everything else (null, a non-finite number) as empty.
std::map<std::string, std::optional<double>> signals_at(const json::object& record) {
  std::map<std::string, std::optional<double>> signals;
  if (const auto* object = object_at(record, "signals"))
    for (const auto& entry : *object) signals[std::string(entry.key())] = number_at(*object, entry.key());
  return signals;
}

/// The start record's "constraints": its strings, or nothing when the key is absent.
std::optional<std::vector<std::string>> texts_at(const json::object& record, std::string_view key) {
  const auto* value = record.if_contains(key);
  if (value == nullptr || !value->is_array()) return std::nullopt;
  std::vector<std::string> texts;
  for (const auto& item : value->get_array())
    if (item.is_string()) texts.emplace_back(item.get_string());
  return texts;
}

} // namespace trimtab::journal_fields
