#pragma once

// What the agent's log says of each journal record it writes.

#include <optional>
#include <string>

#include <trimtab/agent/agent.hpp>
#include <trimtab/core/journal_records.hpp>

namespace trimtab {

struct RecordLogLine {
  LogLevel level = LogLevel::info;
  std::string text;
};

/// The line for `record`, or nothing for records the log leaves to the journal (proposals,
/// observations, incumbents, …: the decision that follows says it in words).
[[nodiscard]] std::optional<RecordLogLine> record_log_line(const JournalRecord& record);

} // namespace trimtab
