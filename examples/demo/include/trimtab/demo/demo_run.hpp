#pragma once

// One run of the demo: the demo service and its load on loopback, trimtab embedded in it through a
// callback adapter, a line per window as the study goes, and a summary at the end. `trimtab demo`
// is this plus option parsing; bench/live runs it many times with other solvers.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include <trimtab/agent/study_fold.hpp>

#include <trimtab/config/tuning_config.hpp>

namespace trimtab::demo {

struct DemoOptions {
  /// The tuning config's text; empty means the bundled examples/demo/tuning.yaml. Its target url's
  /// port is replaced with the demo service's, and it must have one callback adapter owning the
  /// service's knobs (any subset of pool_size, batch_size, batch_timeout_ms, cache_mb).
  std::string config_yaml{};
  std::string config_name = "tuning.yaml (bundled)";
  /// The run ends when the study does (its budget spent) or after this long, whichever is first.
  std::chrono::milliseconds duration{std::chrono::seconds(120)};
  double rate = 2500; ///< requests per second of load
  /// Where the journal and the report go; empty: a fresh directory under the system's temp dir.
  std::filesystem::path state_dir{};
  std::optional<std::string> solver{}; ///< one of solver_kinds()
  std::optional<std::uint64_t> seed{};
  std::optional<std::size_t> budget{};
  /// Where the line per window goes; nullptr for none.
  std::ostream* progress = nullptr;
  /// Also log the agent's warnings and errors to `progress`.
  bool log_warnings = true;
  /// End the run early, with its summary, on SIGINT or SIGTERM.
  bool stop_on_signals = false;
};

/// A scored window as the demo prints it.
struct DemoWindow {
  std::int64_t index = 0;
  std::string purpose;                 ///< baseline, candidate, remeasure, rollback…
  boost::json::object point;
  std::optional<double> value;         ///< the objective
  std::optional<double> p99_ms;        ///< the p99_ms signal, when the config has one
  std::string verdict;                 ///< promote, keep, rollback, discard
  std::string reason;
  double seconds = 0;                  ///< since the run started
};

struct DemoSummary {
  std::string objective;               ///< "minimize latency_ms"
  bool maximize = false;
  std::vector<std::string> params;     ///< in the config's order
  boost::json::object baseline;
  boost::json::object best;            ///< the incumbent at the end (the baseline when nothing beat it)
  std::optional<double> baseline_value, best_value;
  /// The study as its journal tells it (the claimed improvement included), for the closing table.
  StudyReport report_data;
  std::optional<double> baseline_p99_ms, best_p99_ms;
  std::size_t windows = 0;             ///< scored windows, the baseline's included
  std::size_t candidates = 0;          ///< candidate windows
  std::size_t promotions = 0, rollbacks = 0;
  std::vector<DemoWindow> history;
  double seconds = 0;
  std::filesystem::path state_dir;
  std::filesystem::path report;        ///< the HTML report
  std::string stop_reason;             ///< "budget", "time"…
  std::uint64_t requests = 0, failed_requests = 0; ///< as the load generator saw them
};

/// Runs the demo to its end. Throws ConfigError for a config that does not load, and
/// std::runtime_error when the service or the agent cannot start.
[[nodiscard]] DemoSummary run_demo(const DemoOptions& options);

/// The closing table: default vs best configuration, objective and p99 before and after, windows,
/// rollbacks, and the report's path.
void print_summary(const DemoSummary& summary, std::ostream& out);

/// A window as one line of progress.
[[nodiscard]] std::string describe_window(const DemoWindow& window, const std::vector<std::string>& params);

} // namespace trimtab::demo
