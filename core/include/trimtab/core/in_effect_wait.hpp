#pragma once

// The wait after an apply until the service runs what was applied (docs/adapters.md, "Applied
// means in effect"), as an I/O-free state machine: it says which adapter to ask next or how long
// to sleep, and is told each answer and each wake-up; the agent makes the calls and keeps the
// clock.
//
// An apply that reads back is not always one the service runs yet (a pool keeps its server
// connections past a smaller size until they are recycled). Each adapter the apply changed is
// asked, every `poll` interval, until all say the change is in effect or `limit` has passed since
// the wait began; the loop hears of the apply only then, so `settle` starts from a service that
// runs the change. Past the limit the window is measured anyway (skipping it would stall the study
// on a service that never drains, and the loop decides what to measure) and the journal's
// in_effect record says what was still not in effect. A record is written only when there was a
// wait or something was still not in effect.

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <trimtab/core/journal_records.hpp>
#include <trimtab/core/settings.hpp>

namespace trimtab {

/// Ask adapter `index` (an index into the wait's adapters) whether its change is in effect.
struct InEffectAsk {
  std::size_t index = 0;
};

/// Sleep until `until`, then call woke().
struct InEffectSleep {
  std::chrono::steady_clock::time_point until;
};

/// The wait is over: journal `record` if there is one, then tell the loop the apply is done.
struct InEffectDone {
  std::optional<InEffectRecord> record;
};

using InEffectStep = std::variant<InEffectAsk, InEffectSleep, InEffectDone>;

class InEffectWait {
public:
  /// `adapters`: the names of the adapters whose settings the apply changed; `applied`: the whole
  /// configuration applied (what the record names). With no adapters the wait is done at once.
  InEffectWait(std::vector<std::string> adapters, Settings applied, std::chrono::steady_clock::time_point started,
               std::chrono::milliseconds limit, std::chrono::milliseconds poll = std::chrono::seconds(1));

  [[nodiscard]] const InEffectStep& next() const noexcept { return next_; }

  /// The answer to the InEffectAsk in next(), at `now`: in effect, not yet (the adapter's own
  /// words), or the question itself failed.
  void in_effect(std::chrono::steady_clock::time_point now);
  void not_in_effect(const std::string& detail, std::chrono::steady_clock::time_point now);
  void cannot_tell(const std::string& message, std::chrono::steady_clock::time_point now);

  /// After an InEffectSleep. `stopping`: the agent is stopping, so the wait ends where it is.
  void woke(std::chrono::steady_clock::time_point now, bool stopping);

private:
  void answered(std::optional<std::string> why_not, std::chrono::steady_clock::time_point now);
  void end_round(std::chrono::steady_clock::time_point now);
  void finish(std::chrono::steady_clock::time_point now);

  std::vector<std::string> adapters_;
  Settings applied_;
  std::chrono::steady_clock::time_point started_, deadline_;
  std::chrono::milliseconds poll_;
  std::vector<std::size_t> asking_;   // this round's adapters, still to be asked or answered
  std::size_t position_ = 0;          // the one asked now, in asking_
  std::vector<std::size_t> pending_;  // those that said no this round
  std::string detail_;                // what they said
  bool waited_ = false;
  InEffectStep next_;
};

} // namespace trimtab
