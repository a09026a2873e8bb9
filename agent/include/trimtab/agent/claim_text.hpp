#pragma once

#include <optional>
#include <string>

#include <boost/json/object.hpp>

#include <trimtab/core/journal_records.hpp>

namespace trimtab {

/// A study's claim (docs/journal.md) in words, for logs, the demo's table and the status page:
/// "+19.8 % (95 % interval +12.1 % to +27.5 %; 3 switchback pairs of best against baseline)".
/// Says what is missing for a claim without an estimate.
[[nodiscard]] std::string describe_claim(const ClaimRecord& claim);

/// Only the estimate and its interval: "+19.8 % [+12.1 %, +27.5 %]", or "—" without one.
[[nodiscard]] std::string claim_interval(const ClaimRecord& claim);

/// The claim in `json` (a `claim` record, as /status shows it), or nothing when it does not read as
/// one (a newer agent's, say).
[[nodiscard]] std::optional<ClaimRecord> claim_from_json(const boost::json::object& json);

} // namespace trimtab
