#pragma once

// The whole tuning.yaml an operator writes, read into typed structs. See config/examples/tuning.yaml
// for every section with its defaults.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <trimtab/config/quantities.hpp>
#include <trimtab/core/expression.hpp>
#include <trimtab/core/signal.hpp>
#include <trimtab/core/space.hpp>
#include <trimtab/core/tuning_loop.hpp>

namespace trimtab {

/// How a metrics source is read: a document in one of three formats (fetched from a URL), or one
/// of the systems trimtab has built-in readers for (no exporter needed), which yield Prometheus
/// series.
enum class MetricsFormat { prometheus, openmetrics, json, pgbouncer, redis, postgres };

/// The format's word as written in YAML ("prometheus", "pgbouncer").
[[nodiscard]] const char* metrics_format_name(MetricsFormat format) noexcept;

/// True for pgbouncer, redis and postgres: read by trimtab itself over the system's own protocol.
[[nodiscard]] bool is_built_in(MetricsFormat format) noexcept;

/// One source of `target.metrics` (the map, or one entry of the list).
struct MetricsSourceConfig {
  /// Names the source in signals (`source: NAME`) and messages; "metrics" when the single-map form
  /// gives none.
  std::string name = "metrics";
  /// http://… or https://… (scraped), or file://… (read; for tests and replays). Empty for the
  /// built-in formats.
  std::string url;
  MetricsFormat format = MetricsFormat::prometheus;
  /// Must be > 0; it may exceed the interval (a slow scrape simply delays the next one).
  std::chrono::milliseconds timeout{2000};
  /// The built-in formats' connection keys as written (`dsn`, `address`, `username`,
  /// `password_env`, `password_file`, the latter relative to the config file's folder); the
  /// reader checks them when it is built. Never shown: a dsn may hold a password.
  std::map<std::string, std::string> options;
  /// Where the entry starts in the file (1-based; 0 when unknown), for the reader's own errors.
  std::size_t line = 0;
  std::size_t column = 0;
};

/// `target.metrics`: where the service's metrics are scraped. Every source is scraped at each
/// interval, and a window is scored from what all of them said.
struct TargetConfig {
  /// At least one; signals read the first unless they name another (SignalSpec::metrics_source).
  std::vector<MetricsSourceConfig> sources;
  std::chrono::milliseconds interval{1000};
};

/// `objective`: exactly one of `maximize: EXPR` or `minimize: EXPR`, over declared signals.
struct ObjectiveConfig {
  Direction direction = Direction::maximize;
  Expression expression;
};

struct SolverConfig {
  /// One of solver_kinds() (core's make_solver.hpp, the one list of them), checked when read.
  std::string kind = "bayes";
  std::uint64_t budget = 50; ///< > 0
  std::uint64_t seed = 0;
  /// Offline results to start from (JSON lines as `trimtab solve --history` reads them: point,
  /// value, constraints, failed), relative to the config file's folder; empty: none.
  std::filesystem::path history;
};

struct WindowConfig {
  std::chrono::milliseconds settle{10'000};   ///< >= 0: ignored time after a change
  std::chrono::milliseconds duration{60'000}; ///< > 0: measured time
  std::size_t min_samples = 5;                ///< >= 2 scrapes per window
  /// A declared signal that measures offered load (request rate). A window in which it differs
  /// from the incumbent's by more than load_band (a percentage) is discarded: the traffic changed,
  /// not the configuration.
  std::string load_signal;
  double load_band_percent = 25.0;
  /// Measure the incumbent again after this many candidate windows (0: never).
  std::size_t remeasure_every = 10;
  /// Windows a close call may give one candidate before it is ruled out (1: one window each).
  std::size_t max_candidate_windows = 3;
  /// End a candidate's window early when a sequential test (mSPRT) finds it clearly worse or
  /// clearly breaking a constraint.
  bool end_early = true;
  /// >= 0: how long the agent waits, after an apply and before `settle` starts, for the adapters
  /// to report it in effect (a pool that still holds more server connections than its new size is
  /// not); past it the window is measured anyway and the journal says so. 0: ask once, never wait.
  std::chrono::milliseconds in_effect_limit{60'000};
};

/// Named sets of guardrail values: `guardrails: {preset: conservative}`. A key written next to the
/// preset overrides it.
enum class GuardrailPreset { none, conservative, balanced, aggressive };

struct GuardrailsConfig {
  GuardrailPreset preset = GuardrailPreset::none;
  /// Per parameter, the largest change in one step ("10" or "20%"). Parameters not named are
  /// unlimited. Every name is a declared param.
  std::map<std::string, Amount> max_delta;
  double max_updates_per_second = 0.05; ///< > 0
  std::chrono::milliseconds min_dwell{60'000};
  bool rollback_on_regression = true;
  /// How much better than the incumbent a configuration must score before it is kept: "10%"
  /// (relative) or an absolute number in the objective's units.
  Amount required_improvement{10.0, true};
  std::uint64_t max_rollbacks_per_hour = 3;
  /// A candidate worse than the incumbent by more than this ("5%" or an absolute amount) is rolled
  /// back at once, when the difference is significant at `confidence`.
  Amount regression_threshold{5.0, true};
  /// How sure a promotion or a regression must be: 1 - the one-sided p-value, in (0, 1).
  double confidence = 0.95;
  /// Reversals of direction in a parameter's last 8 candidate steps before it is held for a step.
  std::size_t max_direction_flips = 4;
  /// Safe mode lifts by itself after this long (an operator's resume lifts it at once).
  std::chrono::milliseconds safe_mode_recovery{3'600'000};
  /// Switchback confirmation before a promotion: incumbent/candidate pairs of windows (0: off,
  /// else at least 2), each window `switchback_window` long (0: half of window.duration).
  std::size_t switchback_pairs = 0;
  std::chrono::milliseconds switchback_window{0};
  /// At the end of the study, best against baseline in this many switchback pairs: the claimed
  /// improvement (0: off, the claim is pooled from the study's windows; else at least 2).
  std::size_t final_confirmation_pairs = 3;
  /// After the study, guard the best: measure it window after window, and when its last
  /// `guard_windows` windows regress, check it against the baseline by switchback pairs and roll
  /// back to the baseline if that is now better (docs/verdicts.md). false: stop measuring.
  bool guard_after_study = true;
  std::size_t guard_windows = 3;
  /// Where each effective value came from, by key ("max_delta.pool_size" for one param's limit):
  /// "default", "preset balanced", or "file:line" where it is written.
  std::map<std::string, std::string> origins;
};

/// The preset's word as written in YAML ("balanced"), or "none".
[[nodiscard]] const char* preset_name(GuardrailPreset preset) noexcept;

enum class AdapterKind { callback, http, file, command, redis, pgbouncer, postgres };

/// One entry of `adapters:`. Every tuned param is owned by exactly one adapter.
struct AdapterConfig {
  std::string name;
  AdapterKind kind = AdapterKind::callback;
  std::vector<std::string> params;
  /// Every other key whose value is a scalar, as written; a map of scalars is flattened to
  /// "key.sub" entries (`names: {cache_mb: maxmemory}` gives "names.cache_mb" = "maxmemory").
  /// The adapter validates them when it is built.
  std::map<std::string, std::string> options;
  /// Every other key whose value is a list of scalars (a command's argv template, say).
  std::map<std::string, std::vector<std::string>> lists;
  /// Where the entry starts in the file (1-based; 0 when unknown), for the adapter's own errors.
  std::size_t line = 0;
  std::size_t column = 0;
};

struct StateConfig {
  /// Where the agent keeps its history; empty means "keep nothing on disk".
  std::filesystem::path dir;
  /// The journal is compacted when it grows past this many MiB (docs/journal.md, "Compaction").
  std::uint64_t journal_limit_mb = 8;
};

struct ControlConfig {
  std::string listen = "127.0.0.1:9464"; ///< host:port
  std::filesystem::path token_file;      ///< empty: no token
};

struct TuningConfig {
  /// `mode: apply` (the default) tunes; `mode: recommend` measures and recommends, applying nothing.
  TuningMode mode = TuningMode::apply;
  TargetConfig target;
  /// In the order written; validated with validate_signal_specs.
  std::vector<SignalSpec> signals;
  ObjectiveConfig objective;
  std::vector<Constraint> constraints;
  Space space;
  SolverConfig solver;
  WindowConfig window;
  GuardrailsConfig guardrails;
  std::vector<AdapterConfig> adapters;
  StateConfig state;
  ControlConfig control;
  /// False when the environment says TRIMTAB_ENABLED=false (or 0, no, off; case ignored): the
  /// agent then observes but never changes anything. true/1/yes/on or unset/empty keep it true.
  bool enabled = true;
};

/// Reads and validates a tuning.yaml. Throws ConfigError ("file:line:column: message"), or
/// ConfigErrors listing every mistake when there are several, for an
/// unreadable file, YAML syntax errors, unknown keys (with a did-you-mean suggestion), values of the
/// wrong type or out of range, expressions that do not parse or name undeclared signals, and
/// params owned by no adapter or by two; and ConfigError (no line) for a bad TRIMTAB_ENABLED.
///
/// Required sections: target, signals, objective, params, adapters. The rest have defaults.
///
/// Signal label matches (`match: {label: "value"}`):
///   "value"   the label equals value
///   "!value"  the label differs from value
///   "~regex"  the label matches regex as a whole (ECMAScript)
///   "!~regex" the label does not match regex
///   "=value"  the label equals value, for literal values starting with '!', '~' or '='
/// A series without the label is matched as if its value were "" (as Prometheus does).
[[nodiscard]] TuningConfig load_tuning_config(const std::filesystem::path& path);

/// The same for text already in memory; `file_name` names it in errors.
[[nodiscard]] TuningConfig parse_tuning_config(const std::string& yaml_text, const std::string& file_name);

} // namespace trimtab
