#pragma once

// One configuration applied across several adapters, all or nothing (docs/adapters.md), as an
// I/O-free state machine: it says which adapter call comes next and is told how each ended; the
// agent makes the calls. Each adapter whose settings change is applied in turn (config order);
// those that can read back are then asked what runs; when an apply fails, or a read-back shows a
// setting that did not take, every adapter already changed is put back in reverse order, and the
// outcome's message names the adapter at fault and says exactly what the service runs with now.

#include <cstddef>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <trimtab/core/settings.hpp>

namespace trimtab {

/// One adapter's part of an apply: its settings before and the ones asked.
struct AdapterChange {
  std::string adapter;
  Settings before, wanted;
};

/// Give `change.wanted` to adapter `index` (an index into the transaction's changes).
struct ApplyCall {
  std::size_t index = 0;
  Settings settings;
};

/// Ask adapter `index` what it runs now.
struct ReadBackCall {
  std::size_t index = 0;
};

/// Give adapter `index` its settings from before again.
struct UndoCall {
  std::size_t index = 0;
  Settings settings;
};

/// The transaction is over: what the service runs with is the new configuration when `ok`, else
/// the old one, except for the adapters the message says could not be reverted.
struct ApplyOutcome {
  bool ok = true;
  /// Which step failed: an adapter's apply failed, or it said yes and read back otherwise.
  enum class Failure { none, apply_failed, did_not_take } failure = Failure::none;
  std::string adapter;             ///< the adapter at fault
  std::string message;             ///< for people: what failed, then what was reverted
  std::vector<std::string> stuck;  ///< adapters whose undo failed: they run the new settings
};

using ApplyStep = std::variant<ApplyCall, ReadBackCall, UndoCall, ApplyOutcome>;

/// What an adapter's read-back said: the settings it runs, or nothing it can tell (it cannot
/// read back, or the read failed).
struct ReadBack {
  enum class Kind { settings, cannot_tell } kind = Kind::settings;
  Settings reported; ///< for Kind::settings
};

class ApplyTransaction {
public:
  /// `changes` in the order the adapters are to be applied; those whose settings do not change
  /// are left out (they are not called at all).
  explicit ApplyTransaction(std::vector<AdapterChange> changes);

  /// The call to make now, or the outcome once there is none left.
  [[nodiscard]] const ApplyStep& next() const noexcept { return next_; }
  [[nodiscard]] bool finished() const noexcept { return std::holds_alternative<ApplyOutcome>(next_); }

  /// How the ApplyCall ended; `error`, when not `ok`, is what the adapter said, naming itself.
  void applied(bool ok, const std::string& error = {});
  /// How the ReadBackCall ended. An adapter that cannot tell (a command without `current`, a
  /// read that failed) is taken at its word: its apply succeeded.
  void read_back(const ReadBack& answer);
  /// How the UndoCall ended; `error`, when not `ok`, is why.
  void undone(bool ok, const std::string& error = {});

private:
  void fail(ApplyOutcome::Failure failure, std::size_t index, std::string message);
  void undo_next();
  void read_back_next();
  // The call `next()` holds, checked against the answer's kind.
  template <class Call> const Call& expect(const char* answer) const;

  std::vector<AdapterChange> changes_;
  std::size_t applied_ = 0;  // changes_[0, applied_) took their new settings
  std::size_t checked_ = 0;  // read-backs answered
  std::size_t undone_ = 0;   // undo calls answered, from applied_ - 1 down
  ApplyOutcome failure_;     // while undoing: the failure that started it
  std::vector<std::string> reverted_, stuck_reasons_;
  ApplyStep next_;
};

/// The first setting an adapter reports closer to its value before the apply than to the asked
/// one (the apply did not take), described; nothing when every changed setting took. Closer rather
/// than equal, so a service that rounds (14.12 for 14.1234) is not called a liar.
[[nodiscard]] std::optional<std::string> unchanged_setting(const Settings& asked, const Settings& before,
                                                           const Settings& reported);

} // namespace trimtab
