#pragma once

#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include <trimtab/agent/study_fold.hpp>

namespace trimtab {

/// A quantity shown before (default) and after (best) in the summary table, e.g. the demo's p99.
struct SummaryRow {
  std::string label;
  std::optional<double> before, after;
  std::string note; ///< after the change, in parentheses
};

/// The table a study ends with, the same for `trimtab run` and `trimtab demo`: each param's
/// default and best value, the objective before and after with its change, any `extra` rows, then
/// the claimed improvement with its interval (docs/verdicts.md) when the study has claimed one.
void print_summary_table(const StudyReport& report, std::span<const std::string> params, std::ostream& out,
                         std::span<const SummaryRow> extra = {});

} // namespace trimtab
