#pragma once

// Reading JSON the study's page is given (the agent's /status, points as the report holds them)
// leniently: a key that is missing or of the wrong type reads as absent.

#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace trimtab::journal_fields {

/// A finite number (an integer read as a double); nothing for anything else.
[[nodiscard]] std::optional<double> number_at(const boost::json::object& record, std::string_view key);
/// A string; empty for anything else.
[[nodiscard]] std::string text_at(const boost::json::object& record, std::string_view key);
[[nodiscard]] std::optional<bool> bool_at(const boost::json::object& record, std::string_view key);
/// An object; nullptr for anything else.
[[nodiscard]] const boost::json::object* object_at(const boost::json::object& record, std::string_view key);
/// Any number, as a double, finite or not.
[[nodiscard]] std::optional<double> as_number(const boost::json::value& value);

/// Same configuration: the same names, numbers equal as numbers (20 == 20.0), anything else equal.
[[nodiscard]] bool same_point(const boost::json::object& a, const boost::json::object& b);

} // namespace trimtab::journal_fields
