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
#include <trimtab/core/metrics_format.hpp>
#include <trimtab/core/signal.hpp>
#include <trimtab/core/space.hpp>
#include <trimtab/core/tuning_policy.hpp>

namespace trimtab {

/// One source of `target.metrics` (the map, or one entry of the list).
struct MetricsSourceConfig {
  /// Names the source in signals (`source: NAME`) and messages; "metrics" when the single-map form
  /// gives none.
  std::string name = "metrics";
  /// http://… or https://… (scraped), or file://… (read; for tests and replays). Empty for the
  /// built-in formats.
  std::string url;
  /// How it is read (core's metrics_format.hpp).
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

struct SolverConfig {
  /// One of solver_kinds() (core's make_solver.hpp, the one list of them), checked when read.
  std::string kind = "bayes";
  std::uint64_t seed = 0;
  /// Offline results to start from (JSON lines as `trimtab solve --history` reads them: point,
  /// value, constraints, failed), relative to the config file's folder; empty: none.
  std::filesystem::path history;
};

/// Named sets of guardrail values: `guardrails: {preset: conservative}`. A key written next to the
/// preset overrides it.
enum class GuardrailPreset { none, conservative, balanced, aggressive };

/// The preset's word as written in YAML ("balanced"), or "none".
[[nodiscard]] const char* preset_name(GuardrailPreset preset) noexcept;

/// Where each effective guardrail value came from, for `trimtab validate --explain`.
struct GuardrailOrigins {
  GuardrailPreset preset = GuardrailPreset::none;
  /// By key of the `guardrails` section ("max_delta.pool_size" for one param's limit): "default",
  /// "preset balanced", or "file:line" where it is written.
  std::map<std::string, std::string> by_key;
};

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
  TargetConfig target;
  /// What the tuning loop runs by: `mode` (apply unless written), `signals` (in the order written,
  /// validated with validate_signal_specs), the `objective`'s direction and expression,
  /// `constraints`, solver.budget, the `window` and `guardrails` sections, and `enabled`, false when
  /// the environment says TRIMTAB_ENABLED=false (or 0, no, off; case ignored): the agent then
  /// observes but never changes anything. In core's units (load_band a fraction, max_delta one
  /// entry per param of `space`), with core's defaults for whatever the file leaves out.
  TuningPolicy policy;
  Space space;
  SolverConfig solver;
  GuardrailOrigins guardrail_origins;
  std::vector<AdapterConfig> adapters;
  StateConfig state;
  ControlConfig control;
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
