#pragma once

#include <string>

#include <trimtab/core/journal_records.hpp>

namespace trimtab {

/// A `decision` record in words, for the log: what happened to which configuration, its value and
/// the incumbent's to 4 significant digits, and why ("kept the incumbent (objective 1013);
/// candidate pool=39 batch=4 scored 1002: not better by the required improvement (-1.1%)").
[[nodiscard]] std::string describe_decision(const DecisionRecord& decision);

} // namespace trimtab
