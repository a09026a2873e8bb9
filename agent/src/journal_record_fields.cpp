#include "journal_record_fields.hpp"

#include <cmath>

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

} // namespace trimtab::journal_fields
