// GCC 12 reports a false -Wmaybe-uninitialized inside libstdc++'s regex compiler under -O1; the
// pragma must come before <regex> is first included (via signal.hpp).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <trimtab/config/tuning_config.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string_view>

#include <yaml-cpp/yaml.h>

#include <trimtab/config/config_error.hpp>
#include <trimtab/config/space_yaml.hpp>
#include <trimtab/core/did_you_mean.hpp>
#include <trimtab/core/duration_text.hpp>
#include <trimtab/core/make_solver.hpp>
#include <trimtab/core/param_owners.hpp>

#include "yaml_scalars.hpp"

namespace trimtab {
namespace {

using std::chrono::milliseconds;
using Keys = std::span<const std::string_view>;

constexpr std::array<std::string_view, 12> top_keys{"mode",       "target",  "signals",   "objective",
                                                    "constraints", "params", "solver",    "window",
                                                    "guardrails", "adapters", "state",    "control"};
// mode_names, preset_names and adapter_kinds (and core's metrics_format_names()) are the words of
// their enums' values, in the enums' order (choice() takes a word's position for the value); each
// is the one list of them.
const std::array<std::string_view, 2> mode_names{mode_name(TuningMode::apply), mode_name(TuningMode::recommend)};
constexpr std::array<std::string_view, 1> target_keys{"metrics"};
constexpr std::array<std::string_view, 10> metrics_keys{"name",    "url",      "format",       "interval",
                                                       "timeout", "dsn",      "address",      "username",
                                                       "password_env", "password_file"};
constexpr std::array<std::string_view, 11> signal_keys{"rate",   "quantile", "quantile_label", "histogram",
                                                       "summary", "gauge",    "reduce",         "ratio",
                                                       "match",   "scale",    "source"};
constexpr std::array<std::string_view, 3> reduce_names{"mean", "max", "last"};
constexpr std::array<std::string_view, 2> objective_keys{"maximize", "minimize"};
constexpr std::array<std::string_view, 4> solver_keys{"kind", "budget", "seed", "history"};
constexpr std::array<std::string_view, 9> window_keys{"settle",      "duration",  "min_samples",
                                                     "load_signal", "load_band", "remeasure_every",
                                                     "max_candidate_windows", "end_early", "in_effect_limit"};
constexpr std::array<std::string_view, 16> guardrail_keys{"final_confirmation_pairs", "guard_after_study", "guard_windows",
                                                          "preset",               "max_delta",
                                                          "max_updates_per_second", "min_dwell",
                                                          "rollback_on_regression", "required_improvement",
                                                          "max_rollbacks_per_hour", "regression_threshold",
                                                          "confidence",           "max_direction_flips",
                                                          "safe_mode_recovery",   "switchback_pairs",
                                                          "switchback_window"};
// Every preset but none, which is not written.
constexpr std::array<std::string_view, 3> preset_names{"conservative", "balanced", "aggressive"};
static_assert(preset_names.size() == static_cast<std::size_t>(GuardrailPreset::aggressive));

// The values each preset sets. Conservative changes little and slowly, and wants strong evidence;
// aggressive moves fast on thinner evidence and skips switchback; balanced is the loop's own
// defaults with a max_delta and switchback confirmation. max_delta is a percentage for every
// numeric param (none: unlimited).
struct PresetValues {
  std::optional<double> max_delta_percent;
  double max_updates_per_second;
  std::chrono::milliseconds min_dwell;
  std::uint64_t max_rollbacks_per_hour;
  Amount required_improvement;
  Amount regression_threshold;
  double confidence;
  std::size_t switchback_pairs;
};

PresetValues preset_values(GuardrailPreset preset) {
  using namespace std::chrono_literals;
  switch (preset) {
  case GuardrailPreset::conservative: return {10.0, 0.01, 300'000ms, 1, {15.0, true}, {2.0, true}, 0.99, 4};
  case GuardrailPreset::aggressive: return {std::nullopt, 0.2, 10'000ms, 10, {5.0, true}, {10.0, true}, 0.90, 0};
  case GuardrailPreset::balanced:
  case GuardrailPreset::none: break;
  }
  const TuningPolicy defaults;
  return {25.0,
          defaults.guardrails.max_updates_per_second,
          defaults.guardrails.min_dwell,
          defaults.guardrails.max_rollbacks_per_hour,
          defaults.required_improvement,
          defaults.regression_threshold,
          defaults.confidence,
          3};
}
constexpr std::array<std::string_view, 7> adapter_kinds{"callback", "http",     "file",    "command",
                                                        "redis",    "pgbouncer", "postgres"};
static_assert(adapter_kinds.size() == static_cast<std::size_t>(AdapterKind::postgres) + 1);
constexpr std::array<std::string_view, 2> state_keys{"dir", "journal_limit_mb"};
constexpr std::array<std::string_view, 2> control_keys{"listen", "token_file"};

std::string join(Keys names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

template <typename Enum>
std::optional<Enum> index_of(Keys names, std::string_view word) {
  const auto it = std::find(names.begin(), names.end(), word);
  if (it == names.end()) return std::nullopt;
  return static_cast<Enum>(it - names.begin());
}

// The mistakes found so far. Each section, and each entry of a list or map, is read under attempt(),
// so one mistake costs only that entry and the rest of the file is still checked.
class ErrorList {
public:
  template <typename Step>
  bool attempt(Step&& step) {
    try {
      step();
      return true;
    } catch (const ConfigErrors& e) {
      errors_.insert(errors_.end(), e.errors().begin(), e.errors().end());
    } catch (const ConfigError& e) {
      errors_.push_back(e);
    }
    return false;
  }
  void add(ConfigError error) { errors_.push_back(std::move(error)); }
  [[nodiscard]] bool empty() const noexcept { return errors_.empty(); }
  void throw_if_any() {
    if (errors_.size() == 1) throw errors_.front();
    if (!errors_.empty()) throw ConfigErrors(std::move(errors_));
  }

private:
  std::vector<ConfigError> errors_;
};

class Reader : public detail::YamlScalars<Reader> {
public:
  Reader(const std::string& file, ErrorList& errors, std::string_view text) : file_(file), errors_(errors) {
    for (std::size_t start = 0; start <= text.size();) {
      const auto end = text.find('\n', start);
      line_lengths_.push_back((end == std::string_view::npos ? text.size() : end) - start);
      if (end == std::string_view::npos) break;
      start = end + 1;
    }
  }

  template <typename Step>
  bool attempt(Step&& step) const {
    return errors_.attempt(std::forward<Step>(step));
  }

  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& message, std::size_t offset = 0) const {
    if (mark.is_null()) throw ConfigError(file_, 0, 0, message);
    // An offset into a scalar that YAML folded from several lines cannot be mapped back to a
    // column; the scalar's start is then the honest place to point at.
    const auto line = static_cast<std::size_t>(mark.line);
    if (line < line_lengths_.size() && static_cast<std::size_t>(mark.column) + offset > line_lengths_[line]) offset = 0;
    throw ConfigError(file_, static_cast<std::size_t>(mark.line) + 1,
                      static_cast<std::size_t>(mark.column) + 1 + offset, message);
  }
  [[noreturn]] void fail_file(const std::string& message) const { throw ConfigError(file_, 0, 0, message); }

  // The children of a map, each key checked against `allowed`. Unknown and repeated keys are
  // recorded as mistakes and left out, so the keys around them are still read.
  std::vector<std::pair<YAML::Node, YAML::Node>> map(const YAML::Node& node, std::string_view section, Keys allowed,
                                                     std::string_view example) const {
    if (!node.IsMap()) fail(node.Mark(), "'" + std::string(section) + "' must be a map such as " + std::string(example));
    std::vector<std::pair<YAML::Node, YAML::Node>> out;
    std::set<std::string> seen;
    for (const auto& entry : node)
      attempt([&] {
        const auto key = scalar(entry.first, "a key");
        if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), key) == allowed.end())
          fail(entry.first.Mark(),
               "unknown key '" + key + "' in '" + std::string(section) + "'" + did_you_mean(key, allowed));
        if (!seen.insert(key).second) fail(entry.first.Mark(), "'" + key + "' is written twice in '" + std::string(section) + "'");
        out.emplace_back(entry.first, entry.second);
      });
    return out;
  }

  std::string text(const YAML::Node& node, std::string_view what) const {
    auto value = scalar(node, what);
    if (value.empty()) fail(node.Mark(), std::string(what) + " must not be empty");
    return value;
  }

  std::uint64_t count(const YAML::Node& node, std::string_view what, std::uint64_t at_least) const {
    const auto value = whole_number(node, what);
    if (value < static_cast<std::int64_t>(at_least))
      fail(node.Mark(), std::string(what) + " must be at least " + std::to_string(at_least) + ", not " + node.Scalar());
    return static_cast<std::uint64_t>(value);
  }

  milliseconds duration(const YAML::Node& node, std::string_view what, bool allow_zero) const {
    const auto value_text = scalar(node, what);
    auto parsed = parse_duration(value_text);
    if (auto* why = std::get_if<std::string>(&parsed)) fail(node.Mark(), std::string(what) + ": " + *why);
    const auto value = std::get<milliseconds>(parsed);
    if (value.count() < 0 || (!allow_zero && value.count() == 0))
      fail(node.Mark(), std::string(what) + " must be " + (allow_zero ? "at least 0" : "greater than 0") + ", not " + value_text);
    return value;
  }

  Amount amount(const YAML::Node& node, std::string_view what) const {
    const auto value_text = scalar(node, what);
    auto parsed = parse_amount(value_text);
    if (auto* why = std::get_if<std::string>(&parsed)) fail(node.Mark(), std::string(what) + ": " + *why);
    return std::get<Amount>(parsed);
  }

  template <typename Enum>
  Enum choice(const YAML::Node& node, std::string_view what, Keys names) const {
    const auto word = scalar(node, what);
    if (auto value = index_of<Enum>(names, word)) return *value;
    fail(node.Mark(), "unknown " + std::string(what) + " '" + word + "'" + did_you_mean(word, names) + "; the choices are " +
                          join(names));
  }

  // Where an expression's text starts relative to the node's mark: quoted scalars begin one
  // character later. (Escapes in double-quoted text can shift columns; plain text is exact.)
  static std::size_t text_start(const YAML::Node& node) { return node.Tag() == "!" ? 1 : 0; }

private:
  const std::string& file_;
  ErrorList& errors_;
  std::vector<std::size_t> line_lengths_;
};

// The 0-based offset of `name` as a whole identifier in `text`, or npos.
std::size_t find_identifier(std::string_view text, std::string_view name) {
  auto ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'; };
  for (auto pos = text.find(name); pos != std::string_view::npos; pos = text.find(name, pos + 1)) {
    const bool left_ok = pos == 0 || !ident(text[pos - 1]);
    const bool right_ok = pos + name.size() == text.size() || !ident(text[pos + name.size()]);
    if (left_ok && right_ok) return pos;
  }
  return std::string_view::npos;
}

// Expressions can only name signals that look like identifiers and are not function names.
void check_signal_name(const Reader& reader, const YAML::Node& key, const std::string& name) {
  static constexpr std::array<std::string_view, 6> functions{"min", "max", "abs", "log", "sqrt", "exp"};
  const bool identifier = (std::isalpha(static_cast<unsigned char>(name.front())) || name.front() == '_') &&
                          std::all_of(name.begin(), name.end(), [](unsigned char c) {
                            return std::isalnum(c) || c == '_' || c == '.';
                          });
  if (!identifier)
    reader.fail(key.Mark(), "signal name '" + name +
                                "' cannot be used in an expression; use letters, digits, '_' and '.', starting with a letter or '_'");
  if (std::find(functions.begin(), functions.end(), name) != functions.end())
    reader.fail(key.Mark(), "signal name '" + name + "' is a function of the expression language; choose another");
}

void check_variables(const Reader& reader, const YAML::Node& node, const std::string& written,
                     const std::vector<std::string>& variables, const std::set<std::string>& signals,
                     const std::vector<std::string_view>& signal_names, std::string_view where) {
  for (const auto& variable : variables) {
    if (signals.contains(variable)) continue;
    const auto pos = find_identifier(written, variable);
    reader.fail(node.Mark(),
                std::string(where) + " uses '" + variable + "', which is not a declared signal" +
                    did_you_mean(variable, signal_names),
                Reader::text_start(node) + (pos == std::string_view::npos ? 0 : pos));
  }
}

// Which connection keys each built-in format takes.
bool takes_key(MetricsFormat format, std::string_view key) {
  if (key == "password_env" || key == "password_file") return is_built_in(format);
  if (key == "dsn") return format == MetricsFormat::pgbouncer || format == MetricsFormat::postgres;
  if (key == "address" || key == "username") return format == MetricsFormat::redis;
  return true;
}

// One source: the single map of `target.metrics`, or one entry of its list. `interval` is noted
// with where it was written, for the check that every source is scraped at one interval.
MetricsSourceConfig read_source(const Reader& reader, const YAML::Node& node, const std::string& section,
                                bool needs_name, std::optional<std::pair<milliseconds, YAML::Node>>& interval,
                                const std::string& file) {
  MetricsSourceConfig source;
  source.line = static_cast<std::size_t>(node.Mark().line) + 1;
  source.column = static_cast<std::size_t>(node.Mark().column) + 1;
  std::optional<YAML::Node> url_node;
  std::vector<std::pair<YAML::Node, std::string>> connection; // key node, value
  bool has_name = false;
  for (const auto& [key, value] :
       reader.map(node, section, metrics_keys, "{name: app, url: http://127.0.0.1:8080/metrics}"))
    reader.attempt([&, &key = key, &value = value] {
      const auto name = key.Scalar();
      if (name == "name") {
        source.name = reader.text(value, "a source's name");
        const bool word = std::all_of(source.name.begin(), source.name.end(), [](unsigned char c) {
          return std::isalnum(c) || c == '_' || c == '-';
        });
        if (!word) reader.fail(value.Mark(), "source name '" + source.name + "': use letters, digits, '_' and '-'");
        has_name = true;
      } else if (name == "url") {
        source.url = reader.text(value, "url");
        url_node = value;
        if (!source.url.starts_with("http://") && !source.url.starts_with("https://") && !source.url.starts_with("file://"))
          reader.fail(value.Mark(), "url must start with http://, https:// or file://, not '" + source.url + "'");
      } else if (name == "format") {
        source.format = reader.choice<MetricsFormat>(value, "format", metrics_format_names());
      } else if (name == "interval") {
        interval.emplace(reader.duration(value, "interval", false), value);
      } else if (name == "timeout") {
        source.timeout = reader.duration(value, "timeout", false);
      } else {
        auto text = reader.text(value, name);
        if (name == "password_file" && !std::filesystem::path(text).is_absolute())
          text = (std::filesystem::path(file).parent_path() / text).string();
        connection.emplace_back(key, text);
        source.options[name] = std::move(text);
      }
    });
  if (needs_name && !has_name) reader.fail(node.Mark(), section + " needs a 'name', which signals choose it by ('source: NAME')");
  const auto format = std::string(metrics_format_name(source.format));
  for (const auto& [key, value] : connection)
    if (!takes_key(source.format, key.Scalar()))
      reader.fail(key.Mark(), "'" + key.Scalar() + "' is a connection key of " +
                                  (key.Scalar() == "dsn" ? "formats pgbouncer and postgres" : key.Scalar().starts_with("password")
                                                                                                   ? "the built-in formats (pgbouncer, redis, postgres)"
                                                                                                   : "format redis") +
                                  ", not of format " + format);
  if (is_built_in(source.format)) {
    if (url_node)
      reader.fail(url_node->Mark(), "format " + format + " is read by trimtab itself: it takes no url but " +
                                        (source.format == MetricsFormat::redis ? "'address'" : "'dsn'"));
  } else if (!url_node) {
    reader.fail(node.Mark(), "'" + section + "' needs 'url' (or a built-in format: pgbouncer, redis, postgres)");
  }
  return source;
}

// The scalar under `key` of a map node, or nothing (yaml-cpp throws on a missing key's node).
std::optional<std::string> scalar_at(const YAML::Node& map, std::string_view key) {
  if (!map.IsMap()) return std::nullopt;
  for (const auto& entry : map)
    if (entry.first.IsScalar() && entry.first.Scalar() == key && entry.second.IsScalar()) return entry.second.Scalar();
  return std::nullopt;
}

// `declared` gets every source's name as written, even when the rest of its entry is wrong, so
// signals choosing it are not also blamed.
TargetConfig read_target(const Reader& reader, const YAML::Node& node, const std::string& file,
                         std::vector<std::string>& declared) {
  TargetConfig target;
  const auto fields = reader.map(node, "target", target_keys, "{metrics: {url: http://127.0.0.1:8080/metrics}}");
  if (fields.empty()) reader.fail(node.Mark(), "'target' needs 'metrics'");
  const auto& metrics = fields.front().second;
  std::optional<std::pair<milliseconds, YAML::Node>> first_interval;
  if (!metrics.IsSequence()) {
    declared.push_back(scalar_at(metrics, "name").value_or("metrics"));
    target.sources.push_back(read_source(reader, metrics, "target.metrics", false, first_interval, file));
    if (first_interval) target.interval = first_interval->first;
    return target;
  }
  if (metrics.size() == 0)
    reader.fail(metrics.Mark(), "'target.metrics' must be a map, or a list of sources such as [{name: app, url: …}, {name: db, format: postgres}]");
  std::set<std::string> names;
  for (const auto& entry : metrics)
    if (auto name = scalar_at(entry, "name")) declared.push_back(std::move(*name));
  for (std::size_t i = 0; i < metrics.size(); ++i)
    reader.attempt([&] {
      const auto section = "target.metrics[" + std::to_string(i) + "]";
      std::optional<std::pair<milliseconds, YAML::Node>> interval;
      auto source = read_source(reader, metrics[i], section, true, interval, file);
      if (!names.insert(source.name).second) {
        for (const auto& entry : metrics[i])
          if (entry.first.Scalar() == "name") reader.fail(entry.second.Mark(), "source name '" + source.name + "' is used twice");
      }
      if (interval) {
        if (!first_interval) first_interval = interval;
        else if (interval->first != first_interval->first)
          reader.fail(interval->second.Mark(), "every source is scraped at once, every interval: give them all the same "
                                               "interval (or only one), not " + interval->second.Scalar() + " and " +
                                               first_interval->second.Scalar());
      }
      target.sources.push_back(std::move(source));
    });
  if (first_interval) target.interval = first_interval->first;
  return target;
}

std::vector<LabelMatcher> read_matchers(const Reader& reader, const YAML::Node& node, const std::string& signal) {
  std::vector<LabelMatcher> matchers;
  for (const auto& [key, value] : reader.map(node, "signals." + signal + ".match", {}, "{code: \"5..\"}")) {
    // `code: !500` is a YAML tag with an empty value, not "not 500": say so rather than match "".
    if (value.Tag().size() > 1 && value.Tag().front() == '!' && value.Tag() != "!")
      reader.fail(value.Mark(), "signal '" + signal + "': '" + value.Tag() +
                                    "' reads as a YAML tag; quote the value, as in \"" + value.Tag() + "\"");
    auto written = reader.scalar(value, "a label value");
    auto op = LabelMatcher::Op::equal;
    if (written.starts_with("!~")) {
      op = LabelMatcher::Op::not_regex;
      written.erase(0, 2);
    } else if (written.starts_with("!")) {
      op = LabelMatcher::Op::not_equal;
      written.erase(0, 1);
    } else if (written.starts_with("~")) {
      op = LabelMatcher::Op::regex;
      written.erase(0, 1);
    } else if (written.starts_with("=")) {
      written.erase(0, 1);
    }
    try {
      matchers.emplace_back(key.Scalar(), op, written);
    } catch (const std::exception& e) {
      reader.fail(value.Mark(), "signal '" + signal + "': " + e.what());
    }
  }
  return matchers;
}

SignalSpec read_signal_kind(const Reader& reader, const std::string& name, const YAML::Node& node,
                            std::map<std::string, std::pair<YAML::Node, YAML::Node>>& by_key, const std::string& kind);

SignalSpec read_signal(const Reader& reader, const std::string& name, const YAML::Node& node,
                       const std::vector<std::string_view>& sources, bool sources_known) {
  const auto section = "signals." + name;
  const auto fields = reader.map(node, section, signal_keys, "{rate: http_requests_total}");
  std::map<std::string, std::pair<YAML::Node, YAML::Node>> by_key;
  for (const auto& field : fields) by_key.emplace(field.first.Scalar(), field);

  std::vector<std::string> kinds;
  for (const char* kind : {"rate", "quantile", "gauge", "ratio"})
    if (by_key.contains(kind)) kinds.emplace_back(kind);
  if (kinds.empty()) reader.fail(node.Mark(), "signal '" + name + "' needs one of rate, quantile, gauge or ratio");
  if (kinds.size() > 1)
    reader.fail(by_key[kinds[1]].first.Mark(), "signal '" + name + "' has both '" + kinds[0] + "' and '" + kinds[1] + "'; give one");
  const auto& kind = kinds.front();
  auto not_for = [&](const char* key, const char* owner) {
    if (by_key.contains(key) && kind != owner)
      reader.fail(by_key[key].first.Mark(), "signal '" + name + "': '" + key + "' applies to " + owner + " signals only");
  };
  not_for("histogram", "quantile");
  not_for("summary", "quantile");
  not_for("quantile_label", "quantile");
  not_for("reduce", "gauge");
  if (kind == "ratio" && by_key.contains("match"))
    reader.fail(by_key["match"].first.Mark(), "signal '" + name + "': a ratio takes no 'match'; put it on its two signals");

  std::string source;
  if (by_key.contains("source")) {
    const auto& [key, value] = by_key["source"];
    if (kind == "ratio") reader.fail(key.Mark(), "signal '" + name + "': a ratio takes no 'source'; put it on its two signals");
    source = reader.text(value, "source");
    if (sources_known && std::find(sources.begin(), sources.end(), source) == sources.end())
      reader.fail(value.Mark(), "signal '" + name + "': source '" + source + "' is not a name in target.metrics" +
                                    did_you_mean(source, sources));
    // The first source is the default: its series are the ones a signal without `source` reads.
    if (!sources.empty() && source == sources.front()) source.clear();
  }
  auto spec = read_signal_kind(reader, name, node, by_key, kind);
  spec.metrics_source = std::move(source);
  return spec;
}

SignalSpec read_signal_kind(const Reader& reader, const std::string& name, const YAML::Node& node,
                            std::map<std::string, std::pair<YAML::Node, YAML::Node>>& by_key, const std::string& kind) {
  const double scale = by_key.contains("scale") ? reader.number(by_key["scale"].second, "scale") : 1.0;
  const auto matchers = by_key.contains("match") ? read_matchers(reader, by_key["match"].second, name) : std::vector<LabelMatcher>{};
  const auto& value = by_key[kind].second;
  if (kind == "rate") return SignalSpec::rate(name, reader.text(value, "rate"), matchers, scale);
  if (kind == "gauge") {
    const auto reduce = by_key.contains("reduce") ? reader.choice<GaugeReduce>(by_key["reduce"].second, "reduce", reduce_names)
                                                  : GaugeReduce::mean;
    return SignalSpec::gauge(name, reader.text(value, "gauge"), reduce, matchers, scale);
  }
  if (kind == "quantile") {
    const double q = reader.number(value, "quantile");
    if (!(q > 0.0 && q < 1.0)) reader.fail(value.Mark(), "quantile must be between 0 and 1 (exclusive), not " + value.Scalar());
    const bool from_histogram = by_key.contains("histogram");
    const bool from_summary = by_key.contains("summary");
    if (!from_histogram && !from_summary)
      reader.fail(node.Mark(), "signal '" + name + "' (quantile) needs 'histogram' or 'summary': the metric it reads");
    if (from_histogram && from_summary)
      reader.fail(by_key["summary"].first.Mark(), "signal '" + name + "' has both 'histogram' and 'summary'; give one");
    std::optional<double> label;
    if (by_key.contains("quantile_label")) {
      const auto& written = by_key["quantile_label"].second;
      if (!from_summary)
        reader.fail(by_key["quantile_label"].first.Mark(),
                    "signal '" + name + "': 'quantile_label' applies to summaries only (a histogram has 'le' buckets)");
      label = reader.number(written, "quantile_label"); // whether it is q or 100 q: validate_signal_specs
    }
    if (from_summary)
      return SignalSpec::summary_quantile(name, reader.text(by_key["summary"].second, "summary"), q, matchers, scale,
                                          label);
    return SignalSpec::quantile(name, reader.text(by_key["histogram"].second, "histogram"), q, matchers, scale);
  }
  if (!value.IsSequence() || value.size() != 2)
    reader.fail(value.Mark(), "ratio must be a list of two signals such as [errors, rps]");
  return SignalSpec::ratio(name, reader.text(value[0], "a ratio's numerator"), reader.text(value[1], "a ratio's denominator"), scale);
}

AdapterConfig read_adapter(const Reader& reader, const YAML::Node& node, std::size_t index) {
  const auto section = "adapters[" + std::to_string(index) + "]";
  AdapterConfig adapter;
  adapter.line = static_cast<std::size_t>(node.Mark().line) + 1;
  adapter.column = static_cast<std::size_t>(node.Mark().column) + 1;
  bool has_kind = false, has_params = false;
  for (const auto& [key, value] : reader.map(node, section, {}, "{name: app, kind: http, params: [pool_size]}")) {
    const auto name = key.Scalar();
    if (name == "name") {
      adapter.name = reader.text(value, "an adapter's name");
    } else if (name == "kind") {
      adapter.kind = reader.choice<AdapterKind>(value, "adapter kind", adapter_kinds);
      has_kind = true;
    } else if (name == "params") {
      if (!value.IsSequence() || value.size() == 0)
        reader.fail(value.Mark(), "an adapter's params must be a list of parameter names such as [pool_size, batch]");
      for (const auto& param : value) adapter.params.push_back(reader.text(param, "a parameter name"));
      has_params = true;
    } else if (value.IsSequence()) {
      // A list of scalars, such as a command's argv template.
      auto& list = adapter.lists[name];
      for (const auto& item : value) list.push_back(reader.scalar(item, "an item of adapter option '" + name + "'"));
    } else if (value.IsMap()) {
      // One level of scalars, flattened to "name.key": a map from params to server setting names or units.
      for (const auto& entry : value) {
        const auto key_text = reader.scalar(entry.first, "a key of adapter option '" + name + "'");
        adapter.options.emplace(name + "." + key_text,
                                reader.scalar(entry.second, "adapter option '" + name + "." + key_text + "'"));
      }
    } else {
      adapter.options.emplace(name, reader.scalar(value, "adapter option '" + name + "'"));
    }
  }
  if (adapter.name.empty()) reader.fail(node.Mark(), section + " needs a 'name'");
  if (!has_kind) reader.fail(node.Mark(), "adapter '" + adapter.name + "' needs a 'kind' (" + join(adapter_kinds) + ")");
  if (!has_params) reader.fail(node.Mark(), "adapter '" + adapter.name + "' needs 'params', the parameters it sets");
  return adapter;
}

bool read_enabled(const Reader& reader) {
  const char* raw = std::getenv("TRIMTAB_ENABLED");
  if (raw == nullptr || *raw == '\0') return true;
  std::string value(raw);
  std::transform(value.begin(), value.end(), value.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (value == "true" || value == "1" || value == "yes" || value == "on") return true;
  if (value == "false" || value == "0" || value == "no" || value == "off") return false;
  reader.fail_file("environment variable TRIMTAB_ENABLED='" + std::string(raw) +
                   "' is not understood; use true/1/yes/on or false/0/no/off");
}

// The sections of one tuning.yaml, read in an order where each finds what it refers to already
// read: signals before the objective, params before the guardrails and the adapters. Names written
// count as declared even where their definitions have mistakes, so what refers to them is not also
// blamed. Every section is read under attempt(): a mistake costs that section (or entry) only.
class SectionReader {
public:
  SectionReader(const YAML::Node& root, const std::string& file, std::string_view text)
      : file_(file), reader_(file, errors_, text) {
    index_sections(root);
  }

  TuningConfig read() {
    TuningPolicy policy;
    if (const auto* node = optional("mode"))
      reader_.attempt([&] { policy.mode = reader_.choice<TuningMode>(*node, "mode", mode_names); });
    TargetConfig target;
    read_target_section(target);
    read_signals_section(policy.signals);
    read_objective_section(policy);
    read_constraints_section(policy.constraints);
    read_params_section();
    SolverConfig solver;
    read_solver_section(solver, policy.budget);
    read_window_section(policy);
    GuardrailOrigins guardrail_origins;
    read_guardrails_section(policy, guardrail_origins);
    std::vector<AdapterConfig> adapters;
    read_adapters_section(adapters);
    StateConfig state;
    read_state_section(state);
    ControlConfig control;
    read_control_section(control);
    reader_.attempt([&] { policy.enabled = read_enabled(reader_); });
    errors_.throw_if_any();
    return TuningConfig{.target = std::move(target),
                        .policy = std::move(policy),
                        .space = std::move(*space_),
                        .solver = std::move(solver),
                        .guardrail_origins = std::move(guardrail_origins),
                        .adapters = std::move(adapters),
                        .state = std::move(state),
                        .control = std::move(control)};
  }

private:
  void index_sections(const YAML::Node& root) {
    if (!root.IsMap()) reader_.fail_file("expected a map of sections (target, signals, objective, params, adapters, ...)");
    for (const auto& entry : root)
      reader_.attempt([&] {
        const auto key = reader_.scalar(entry.first, "a section name");
        if (std::find(top_keys.begin(), top_keys.end(), key) == top_keys.end())
          reader_.fail(entry.first.Mark(), "unknown section '" + key + "'" + did_you_mean(key, top_keys));
        if (sections_.contains(key)) reader_.fail(entry.first.Mark(), "section '" + key + "' is written twice");
        sections_.emplace(key, entry.second);
      });
  }

  // A missing required section is one mistake; what depends on it is then not checked.
  const YAML::Node* require(const char* key) {
    if (const auto* node = optional(key)) return node;
    errors_.add(ConfigError(file_, 0, 0, std::string("no '") + key + "' section"));
    return nullptr;
  }

  const YAML::Node* optional(const char* key) const {
    const auto it = sections_.find(key);
    return it == sections_.end() ? nullptr : &it->second;
  }

  void read_target_section(TargetConfig& target) {
    const auto* node = require("target");
    target_written_ = node != nullptr;
    if (node) reader_.attempt([&] { target = read_target(reader_, *node, file_, declared_sources_); });
    source_names_.assign(declared_sources_.begin(), declared_sources_.end());
  }

  void read_signals_section(std::vector<SignalSpec>& signals) {
    if (const auto* signals_node = require("signals"))
      reader_.attempt([&] {
        if (!signals_node->IsMap() || signals_node->size() == 0)
          reader_.fail(signals_node->Mark(), "'signals' must be a map of names to definitions such as {rps: {rate: http_requests_total}}");
        std::map<std::string, YAML::Mark> signal_marks;
        bool all_read = true;
        for (const auto& [key, value] : reader_.map(*signals_node, "signals", {}, "{rps: {rate: http_requests_total}}"))
          all_read &= reader_.attempt([&, &key = key, &value = value] {
            const auto name = reader_.text(key, "a signal name");
            check_signal_name(reader_, key, name);
            signal_marks[name] = key.Mark();
            signal_set_.insert(name);
            declared_signals_.push_back(name);
            signals.push_back(read_signal(reader_, name, value, source_names_, target_written_ && !declared_sources_.empty()));
          });
        if (all_read) validate_signals(signals, *signals_node, signal_marks); // else it would only echo the mistakes
      });
    signal_names_.assign(declared_signals_.begin(), declared_signals_.end());
  }

  // The checks across signals, pointing at the first signal the message names, else at the section.
  void validate_signals(const std::vector<SignalSpec>& signals, const YAML::Node& section,
                        const std::map<std::string, YAML::Mark>& signal_marks) const {
    try {
      validate_signal_specs(signals);
    } catch (const std::invalid_argument& e) {
      YAML::Mark mark = section.Mark();
      for (const auto& [name, where] : signal_marks)
        if (std::string_view(e.what()).find("'" + name + "'") != std::string_view::npos) {
          mark = where;
          break;
        }
      reader_.fail(mark, e.what());
    }
  }

  void read_objective_section(TuningPolicy& policy) {
    if (const auto* objective_node = require("objective"))
      reader_.attempt([&] {
        const auto fields = reader_.map(*objective_node, "objective", objective_keys, "{maximize: rps - 10 * errors}");
        if (fields.size() != 1)
          reader_.fail(fields.empty() ? objective_node->Mark() : fields[1].first.Mark(),
                       "'objective' takes exactly one of 'maximize' and 'minimize'");
        const auto& [direction_key, expression_node] = fields.front();
        policy.direction = direction_key.Scalar() == "maximize" ? Direction::maximize : Direction::minimize;
        const auto objective_text = reader_.text(expression_node, "the objective");
        try {
          policy.objective = Expression::parse(objective_text);
        } catch (const ExpressionError& e) {
          reader_.fail(expression_node.Mark(), std::string("objective: ") + e.what(),
                       Reader::text_start(expression_node) + e.column() - 1);
        }
        check_variables(reader_, expression_node, objective_text, policy.objective.variables(), signal_set_, signal_names_,
                        "the objective");
      });
  }

  void read_constraints_section(std::vector<Constraint>& constraints) {
    if (const auto* node = optional("constraints"))
      reader_.attempt([&] {
        if (!node->IsSequence()) reader_.fail(node->Mark(), "'constraints' must be a list such as [p99_ms <= 250]");
        for (const auto& item : *node)
          reader_.attempt([&] {
            const auto written = reader_.text(item, "a constraint");
            std::optional<Constraint> constraint;
            try {
              constraint = Constraint::parse_constraint(written);
            } catch (const ExpressionError& e) {
              reader_.fail(item.Mark(), std::string("constraint: ") + e.what(), Reader::text_start(item) + e.column() - 1);
            }
            check_variables(reader_, item, written, constraint->variables(), signal_set_, signal_names_, "the constraint");
            constraints.push_back(std::move(*constraint));
          });
      });
  }

  void read_params_section() {
    params_node_ = require("params");
    if (params_node_ != nullptr) {
      if (params_node_->IsMap())
        for (const auto& entry : *params_node_)
          if (entry.first.IsScalar()) declared_params_.insert(entry.first.Scalar());
      reader_.attempt([&] { space_ = parse_space(*params_node_, file_); });
    }
    param_names_.assign(declared_params_.begin(), declared_params_.end());
  }

  void check_param(const YAML::Node& node, const std::string& name, const std::string& context) const {
    if (!declared_params_.contains(name)) not_declared(node, name, context);
  }

  [[noreturn]] void not_declared(const YAML::Node& node, const std::string& name, const std::string& context) const {
    reader_.fail(node.Mark(), context + "'" + name + "' is not a declared param" + did_you_mean(name, param_names_));
  }

  void read_solver_section(SolverConfig& solver, std::uint64_t& budget) {
    if (const auto* node = optional("solver"))
      reader_.attempt([&] {
        for (const auto& [key, value] : reader_.map(*node, "solver", solver_keys, "{kind: bayes, budget: 50}"))
          reader_.attempt([&, &key = key, &value = value] {
            const auto name = key.Scalar();
            if (name == "kind")
              solver.kind = solver_kinds()[reader_.choice<std::size_t>(value, "solver kind", solver_kinds())];
            else if (name == "budget") budget = reader_.count(value, "budget", 1);
            else if (name == "history") {
              const std::filesystem::path history = reader_.text(value, "history");
              solver.history = history.is_absolute() ? history : std::filesystem::path(file_).parent_path() / history;
            } else solver.seed = reader_.count(value, "seed", 0);
          });
      });
  }

  void read_window_section(TuningPolicy& policy) {
    if (const auto* node = optional("window"))
      reader_.attempt([&] {
        for (const auto& [key, value] : reader_.map(*node, "window", window_keys, "{settle: 10s, duration: 60s}"))
          reader_.attempt([&, &key = key, &value = value] { read_window_key(key.Scalar(), value, policy); });
      });
  }

  void read_window_key(const std::string& name, const YAML::Node& value, TuningPolicy& policy) const {
    if (name == "settle") {
      policy.settle = reader_.duration(value, "settle", true);
    } else if (name == "duration") {
      policy.duration = reader_.duration(value, "duration", false);
    } else if (name == "min_samples") {
      policy.min_samples = static_cast<std::size_t>(reader_.count(value, "min_samples", 2));
    } else if (name == "load_signal") {
      const auto load_signal = reader_.text(value, "load_signal");
      if (!signal_set_.contains(load_signal))
        reader_.fail(value.Mark(), "load_signal '" + load_signal + "' is not a declared signal" +
                                       did_you_mean(load_signal, signal_names_));
      policy.load_signal = load_signal;
    } else if (name == "load_band") {
      const auto band = reader_.amount(value, "load_band");
      if (!band.percent || band.value <= 0)
        reader_.fail(value.Mark(), "load_band must be a percentage greater than 0 such as 25%, not '" + value.Scalar() + "'");
      policy.load_band = band.value / 100.0;
    } else if (name == "max_candidate_windows") {
      policy.max_candidate_windows = static_cast<std::size_t>(reader_.count(value, "max_candidate_windows", 1));
    } else if (name == "end_early") {
      policy.end_windows_early = reader_.boolean(value, name);
    } else if (name == "in_effect_limit") {
      policy.in_effect_limit = reader_.duration(value, "in_effect_limit", true);
    } else {
      policy.remeasure_every = static_cast<std::size_t>(reader_.count(value, "remeasure_every", 0));
    }
  }

  void read_guardrails_section(TuningPolicy& policy, GuardrailOrigins& origins) {
    for (const auto key : guardrail_keys)
      if (key != "preset" && key != "max_delta") origins.by_key[std::string(key)] = "default";
    if (space_) policy.guardrails.max_delta.resize(space_->size()); // no limit but those written or preset
    std::optional<milliseconds> switchback_window;
    if (const auto* node = optional("guardrails"))
      reader_.attempt([&] {
        const auto entries = reader_.map(*node, "guardrails", guardrail_keys, "{preset: balanced, min_dwell: 60s}");
        // The preset first, so that every key written beside it overrides it, wherever it stands.
        for (const auto& [key, value] : entries)
          if (key.Scalar() == "preset") reader_.attempt([&, &value = value] { read_preset(value, policy, origins); });
        for (const auto& [key, value] : entries)
          reader_.attempt([&, &key = key, &value = value] {
            const auto name = key.Scalar();
            if (name == "preset") return;
            if (name == "max_delta") return read_max_delta(value, policy, origins);
            origins.by_key[name] = file_ + ":" + std::to_string(key.Mark().line + 1);
            read_guardrail_key(name, value, policy, switchback_window);
          });
      });
    fill_in_preset_max_delta(policy, origins);
    // Once window.duration is read: core's default follows it.
    policy.switchback_duration = switchback_window.value_or(default_switchback_duration(policy.duration));
  }

  void read_preset(const YAML::Node& value, TuningPolicy& policy, GuardrailOrigins& origins) const {
    origins.preset = static_cast<GuardrailPreset>(
        1 + static_cast<int>(reader_.choice<std::size_t>(value, "guardrails preset", preset_names)));
    const auto values = preset_values(origins.preset);
    policy.guardrails.max_updates_per_second = values.max_updates_per_second;
    policy.guardrails.min_dwell = values.min_dwell;
    policy.guardrails.max_rollbacks_per_hour = values.max_rollbacks_per_hour;
    policy.required_improvement = values.required_improvement;
    policy.regression_threshold = values.regression_threshold;
    policy.confidence = values.confidence;
    policy.switchback_pairs = values.switchback_pairs;
    const auto origin = std::string("preset ") + preset_name(origins.preset);
    for (const char* set : {"max_updates_per_second", "min_dwell", "max_rollbacks_per_hour", "required_improvement",
                            "regression_threshold", "confidence", "switchback_pairs"})
      origins.by_key[set] = origin;
  }

  void read_max_delta(const YAML::Node& value, TuningPolicy& policy, GuardrailOrigins& origins) const {
    for (const auto& [param, limit] : reader_.map(value, "guardrails.max_delta", {}, "{pool_size: 10, timeout_ms: 20%}"))
      reader_.attempt([&, &param = param, &limit = limit] {
        check_param(param, param.Scalar(), "max_delta: ");
        if (space_)
          if (const auto index = space_->find(param.Scalar());
              index && std::holds_alternative<CategoricalChoices>(space_->params()[*index].domain))
            reader_.fail(param.Mark(), "max_delta: '" + param.Scalar() + "' is categorical; a label has no distance to limit");
        const auto amount = reader_.amount(limit, "max_delta of '" + param.Scalar() + "'");
        if (space_) policy.guardrails.max_delta[*space_->find(param.Scalar())] = amount;
        origins.by_key["max_delta." + param.Scalar()] = file_ + ":" + std::to_string(param.Mark().line + 1);
      });
  }

  void read_guardrail_key(const std::string& name, const YAML::Node& value, TuningPolicy& policy,
                          std::optional<milliseconds>& switchback_window) const {
    if (name == "max_updates_per_second") {
      policy.guardrails.max_updates_per_second = reader_.number(value, name);
      if (policy.guardrails.max_updates_per_second <= 0)
        reader_.fail(value.Mark(), "max_updates_per_second must be greater than 0, not " + value.Scalar());
    } else if (name == "min_dwell") {
      policy.guardrails.min_dwell = reader_.duration(value, name, true);
    } else if (name == "final_confirmation_pairs") {
      policy.final_confirmation_pairs = static_cast<std::size_t>(reader_.count(value, name, 0));
      if (policy.final_confirmation_pairs == 1)
        reader_.fail(value.Mark(), "final_confirmation_pairs must be 0 (off) or at least 2: a paired test of one pair has no spread");
    } else if (name == "guard_after_study") {
      policy.guard_after_study = reader_.boolean(value, name);
    } else if (name == "guard_windows") {
      policy.guard_windows = static_cast<std::size_t>(reader_.count(value, name, 1));
    } else if (name == "rollback_on_regression") {
      policy.rollback_on_regression = reader_.boolean(value, name);
    } else if (name == "required_improvement") {
      policy.required_improvement = reader_.amount(value, name);
    } else if (name == "max_rollbacks_per_hour") {
      policy.guardrails.max_rollbacks_per_hour = reader_.count(value, name, 0);
    } else if (name == "regression_threshold") {
      policy.regression_threshold = reader_.amount(value, name);
    } else if (name == "confidence") {
      policy.confidence = reader_.number(value, name);
      if (!(policy.confidence > 0.0 && policy.confidence < 1.0))
        reader_.fail(value.Mark(), "confidence must be between 0 and 1 (exclusive) such as 0.95, not " + value.Scalar());
    } else if (name == "max_direction_flips") {
      policy.guardrails.max_direction_flips = static_cast<std::size_t>(reader_.count(value, name, 1));
    } else if (name == "switchback_pairs") {
      policy.switchback_pairs = static_cast<std::size_t>(reader_.count(value, name, 0));
      if (policy.switchback_pairs == 1)
        reader_.fail(value.Mark(), "switchback_pairs must be 0 (off) or at least 2: a paired test of one pair has no spread");
    } else if (name == "switchback_window") {
      switchback_window = reader_.duration(value, name, false);
    } else {
      policy.safe_mode_recovery = reader_.duration(value, name, false);
    }
  }

  // The preset's max_delta covers every numeric param the file does not limit itself.
  void fill_in_preset_max_delta(TuningPolicy& policy, GuardrailOrigins& origins) const {
    if (!space_) return;
    const auto percent = preset_values(origins.preset).max_delta_percent;
    for (std::size_t i = 0; i < space_->size(); ++i) {
      const auto& param = space_->params()[i];
      const auto key = "max_delta." + param.name;
      if (percent && origins.preset != GuardrailPreset::none && !policy.guardrails.max_delta[i] &&
          !std::holds_alternative<CategoricalChoices>(param.domain)) {
        policy.guardrails.max_delta[i] = Amount{*percent, true};
        origins.by_key[key] = std::string("preset ") + preset_name(origins.preset);
      }
      if (!origins.by_key.contains(key)) origins.by_key[key] = "default";
    }
  }

  void read_adapters_section(std::vector<AdapterConfig>& adapters) {
    OwnershipCheck ownership({declared_params_.begin(), declared_params_.end()});
    bool every_adapter_read = false;
    if (const auto* adapters_node = require("adapters"))
      every_adapter_read = reader_.attempt([&] {
        if (!adapters_node->IsSequence() || adapters_node->size() == 0)
          reader_.fail(adapters_node->Mark(), "'adapters' must be a list such as [{name: app, kind: http, params: [pool_size]}]");
        std::set<std::string> adapter_names;
        bool all_read = true;
        for (std::size_t i = 0; i < adapters_node->size(); ++i)
          all_read &= reader_.attempt([&] {
            const auto& item = (*adapters_node)[i];
            auto adapter = read_adapter(reader_, item, i);
            if (!adapter_names.insert(adapter.name).second)
              reader_.fail(item["name"].Mark(), "adapter name '" + adapter.name + "' is used twice");
            const auto breaks = ownership.add(adapter.params);
            adapters.push_back(std::move(adapter));
            for (const auto& fault : breaks)
              reader_.attempt([&] { report_ownership_break(fault, item["params"][fault.position], adapters); });
          });
        every_adapter_read = all_read;
      }) && every_adapter_read;
    // Unowned params are only worth reporting when every adapter was read: a broken adapter entry
    // may well be the owner.
    if (!every_adapter_read || params_node_ == nullptr || !params_node_->IsMap()) return;
    std::set<std::string> unowned;
    for (const auto& fault : ownership.unowned()) unowned.insert(fault.param);
    for (const auto& entry : *params_node_)
      reader_.attempt([&] {
        if (entry.first.IsScalar() && unowned.contains(entry.first.Scalar()))
          reader_.fail(entry.first.Mark(),
                       "param '" + entry.first.Scalar() + "' is owned by no adapter; list it under one adapter's 'params'");
      });
  }

  // An unknown param, or one an earlier adapter (or this one) already lists, where it is listed.
  void report_ownership_break(const OwnershipBreak& fault, const YAML::Node& listed,
                              const std::vector<AdapterConfig>& adapters) const {
    const auto& adapter = adapters[fault.adapter].name;
    if (fault.kind == OwnershipBreak::Kind::unknown) not_declared(listed, fault.param, "adapter '" + adapter + "': ");
    reader_.fail(listed.Mark(), "param '" + fault.param + "' is owned by two adapters, '" +
                                    adapters[fault.first_owner].name + "' and '" + adapter + "'");
  }

  void read_state_section(StateConfig& state) {
    if (const auto* node = optional("state"))
      reader_.attempt([&] {
        for (const auto& [key, value] : reader_.map(*node, "state", state_keys, "{dir: /var/lib/trimtab}"))
          reader_.attempt([&, &key = key, &value = value] {
            if (key.Scalar() == "journal_limit_mb") state.journal_limit_mb = reader_.count(value, "journal_limit_mb", 1);
            else state.dir = reader_.text(value, "dir");
          });
      });
  }

  void read_control_section(ControlConfig& control) {
    if (const auto* node = optional("control"))
      reader_.attempt([&] {
        for (const auto& [key, value] : reader_.map(*node, "control", control_keys, "{listen: 127.0.0.1:9464}"))
          reader_.attempt([&, &key = key, &value = value] {
            if (key.Scalar() == "listen") {
              control.listen = reader_.text(value, "listen");
              const auto colon = control.listen.rfind(':');
              const auto port = colon == std::string::npos ? std::string() : control.listen.substr(colon + 1);
              const bool digits = !port.empty() && port.size() <= 5 &&
                                  std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); });
              if (colon == 0 || !digits || std::stoul(port) > 65535)
                reader_.fail(value.Mark(), "listen must be host:port such as 127.0.0.1:9464, not '" + control.listen + "'");
            } else {
              control.token_file = reader_.text(value, "token_file");
            }
          });
      });
  }

  const std::string& file_;
  ErrorList errors_;
  const Reader reader_;
  std::map<std::string, YAML::Node> sections_;
  // Names as written, and views of them for did-you-mean suggestions.
  bool target_written_ = false;
  std::vector<std::string> declared_sources_;
  std::vector<std::string_view> source_names_;
  std::set<std::string> signal_set_;
  std::vector<std::string> declared_signals_;
  std::vector<std::string_view> signal_names_;
  const YAML::Node* params_node_ = nullptr;
  std::set<std::string> declared_params_;
  std::vector<std::string_view> param_names_;
  std::optional<Space> space_;
};

YAML::Node load_yaml(const std::string& text, const std::string& file) {
  try {
    return YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    // yaml-cpp counts a carriage return as a character of the line and can point one past it
    // (found by fuzzing: "\r\0" reported at column 4 of a two-byte line); keep the column on the
    // line as editors count it.
    const auto line = static_cast<std::size_t>(e.mark.line);
    std::size_t start = 0;
    for (std::size_t l = 0; l < line && start != std::string::npos; ++l) {
      start = text.find('\n', start);
      if (start != std::string::npos) ++start;
    }
    std::size_t column = static_cast<std::size_t>(e.mark.column) + 1;
    if (start != std::string::npos) {
      const auto end = text.find('\n', start);
      const auto length = (end == std::string::npos ? text.size() : end) - start;
      column = std::min(column, length + 1);
    }
    throw ConfigError(file, line + 1, column, e.msg);
  }
}

} // namespace

TuningConfig parse_tuning_config(const std::string& yaml_text, const std::string& file_name) {
  return SectionReader(load_yaml(yaml_text, file_name), file_name, yaml_text).read();
}

TuningConfig load_tuning_config(const std::filesystem::path& path) {
  const auto file = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(file, 0, 0, "cannot read the file");
  std::ostringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof()) throw ConfigError(file, 0, 0, "cannot read the file");
  return parse_tuning_config(text.str(), file);
}

const char* preset_name(GuardrailPreset preset) noexcept {
  if (preset == GuardrailPreset::none) return "none";
  return preset_names[static_cast<std::size_t>(preset) - 1].data();
}

} // namespace trimtab
