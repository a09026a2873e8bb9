#pragma once

// The configuration the service runs with when the agent starts (the baseline a study measures
// first), from what each adapter read back. An adapter that cannot read back (a command without
// `current`, a file not written yet) is stood in for by its params' defaults: the values the
// service starts with. The agent asks the adapters; this decides what their answers make.

#include <optional>
#include <span>
#include <string>
#include <vector>

#include <trimtab/core/point.hpp>
#include <trimtab/core/settings.hpp>
#include <trimtab/core/space.hpp>

namespace trimtab {

/// One adapter's answer to "what do you run?".
struct AdapterReading {
  enum class Kind {
    settings,    ///< it read back `settings`
    cannot_read, ///< it has no way to read back (AdapterError::cannot_read)
    failed,      ///< the read failed
  };
  std::vector<std::string> params; ///< the params the adapter owns
  Kind kind = Kind::settings;
  Settings settings;   ///< Kind::settings
  std::string message; ///< cannot_read, failed: the adapter's words, naming it
};

struct RunningConfig {
  /// What the service runs; nothing when `error` says why it is not known.
  std::optional<Point> point;
  std::string error;
  /// For the log: each adapter whose params' defaults stand in for what it runs.
  std::vector<std::string> notes;
};

/// The running configuration the readings make, adapter by adapter: an error for the first read
/// that failed, for a param without a default behind an adapter that cannot read back (the error
/// asks for one), or for values that are not a configuration of `space`.
[[nodiscard]] RunningConfig running_config_from(const Space& space, std::span<const AdapterReading> readings);

} // namespace trimtab
