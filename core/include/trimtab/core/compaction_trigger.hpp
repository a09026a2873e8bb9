#pragma once

// When the journal is compacted (docs/journal.md, "Compaction"): past `limit` bytes, and only once
// what can be dropped exists (the guard's windows after a study, recommend mode's windows): a
// study still under way would be read and written again for nothing. A study larger than the
// limit compacts little, so the next attempt waits until the journal has doubled; a compaction
// that failed is tried again a limit's worth of bytes later. Not rewritten after every record.

#include <algorithm>
#include <cstdint>

namespace trimtab {

class CompactionTrigger {
public:
  explicit CompactionTrigger(std::uint64_t limit_bytes) noexcept : limit_(limit_bytes) {}

  /// `droppable`: the loop guards a finished study, is done, or only recommends.
  [[nodiscard]] bool due(std::uint64_t journal_bytes, bool droppable) const noexcept {
    return droppable && journal_bytes >= std::max(limit_, next_at_);
  }
  void compacted(std::uint64_t bytes_after) noexcept { next_at_ = 2 * bytes_after; }
  void failed(std::uint64_t bytes_before) noexcept { next_at_ = bytes_before + limit_; }

private:
  std::uint64_t limit_;
  std::uint64_t next_at_ = 0;
};

} // namespace trimtab
