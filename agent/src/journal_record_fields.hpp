#pragma once

// Reading a journal record's keys for the study's fold and its page, leniently: a key that is
// missing or of the wrong type reads as absent, so journals written by newer versions still fold.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace trimtab::journal_fields {

/// A finite number (an integer read as a double); nothing for anything else.
[[nodiscard]] std::optional<double> number_at(const boost::json::object& record, std::string_view key);
/// An integer, or a double holding a whole number that fits.
[[nodiscard]] std::optional<std::int64_t> integer_at(const boost::json::object& record, std::string_view key);
/// A string; empty for anything else.
[[nodiscard]] std::string text_at(const boost::json::object& record, std::string_view key);
[[nodiscard]] std::optional<bool> bool_at(const boost::json::object& record, std::string_view key);
/// An object; nullptr for anything else.
[[nodiscard]] const boost::json::object* object_at(const boost::json::object& record, std::string_view key);
/// Any number, as a double, finite or not.
[[nodiscard]] std::optional<double> as_number(const boost::json::value& value);

/// Same configuration: the same names, numbers equal as numbers (20 == 20.0), anything else equal.
[[nodiscard]] bool same_point(const boost::json::object& a, const boost::json::object& b);

/// An observation's "signals": numbers, everything else (null, a non-finite number) as empty.
[[nodiscard]] std::map<std::string, std::optional<double>> signals_at(const boost::json::object& record);

/// The start record's "constraints": its strings, or nothing when the key is absent.
[[nodiscard]] std::optional<std::vector<std::string>> texts_at(const boost::json::object& record,
                                                               std::string_view key);

} // namespace trimtab::journal_fields
