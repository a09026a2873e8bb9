#pragma once

#include <string>

#include <boost/json/object.hpp>

namespace trimtab {

/// A study's `claim` record (docs/journal.md) in words, for logs, the demo's table and the status
/// page: "+19.8 % (95 % interval +12.1 % to +27.5 %; 3 switchback pairs of best against
/// baseline)". Says what is missing rather than throwing for a record without numbers.
[[nodiscard]] std::string describe_claim(const boost::json::object& claim);

/// Only the estimate and its interval: "+19.8 % [+12.1 %, +27.5 %]", or "—" without numbers.
[[nodiscard]] std::string claim_interval(const boost::json::object& claim);

} // namespace trimtab
