#include <trimtab/config/tuning_config.hpp>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <trimtab/config/config_error.hpp>

using namespace trimtab;
using namespace std::chrono_literals;

namespace {

#ifdef TRIMTAB_SOURCE_DIR
const std::filesystem::path example_path = std::filesystem::path(TRIMTAB_SOURCE_DIR) / "config" / "examples" / "tuning.yaml";
#else
const std::filesystem::path example_path =
    std::filesystem::path(__FILE__).parent_path() / ".." / ".." / "config" / "examples" / "tuning.yaml";
#endif

// A minimal valid config; tests append or swap sections.
const std::string target = "target:\n  metrics: {url: \"file:///tmp/m.txt\"}\n";                  // lines 1-2
const std::string signals = "signals:\n  rps: {rate: http_requests_total}\n  errors: {rate: http_requests_total}\n"; // 3-5
const std::string objective = "objective: {maximize: rps - errors}\n";                            // 6
const std::string params = "params:\n  pool: {type: int, min: 1, max: 10}\n";                     // 7-8
const std::string adapters = "adapters:\n  - {name: app, kind: callback, params: [pool]}\n";       // 9-10
const std::string minimal = target + signals + objective + params + adapters;

// Tests hold an EnvGuard so TRIMTAB_ENABLED is unset while they parse and after.
TuningConfig parse(const std::string& text) { return parse_tuning_config(text, "t.yaml"); }

// The max_delta limits a config sets, by param name (the policy holds them in the space's order).
std::map<std::string, Amount> limits(const TuningConfig& config) {
  std::map<std::string, Amount> out;
  for (std::size_t i = 0; i < config.space.size(); ++i)
    if (const auto& limit = config.policy.guardrails.max_delta.at(i)) out.emplace(config.space.params()[i].name, *limit);
  return out;
}

std::string error_of(const std::string& text) {
  try {
    (void)parse(text);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

// Checks the first mistake reported; later ones (there may be several) are another test's concern.
void check_error(const std::string& text, const std::string& expected) {
  const auto all = error_of(text);
  BOOST_TEST(all.substr(0, all.find('\n')) == "t.yaml:" + expected);
}

struct EnvGuard {
  EnvGuard() { unsetenv("TRIMTAB_ENABLED"); }
  ~EnvGuard() { unsetenv("TRIMTAB_ENABLED"); }
};

// The guardrails of the balanced preset, which both the example and a file without guardrails get.
void check_balanced_guardrails(const TuningConfig& config) {
  BOOST_TEST(config.policy.guardrails.max_updates_per_second == 0.05);
  BOOST_TEST(config.policy.guardrails.min_dwell.count() == 60'000);
  BOOST_TEST(config.policy.rollback_on_regression);
  BOOST_TEST(config.policy.required_improvement.value == 10.0);
  BOOST_TEST(config.policy.required_improvement.percent);
  BOOST_TEST(config.policy.guardrails.max_rollbacks_per_hour == 3u);
}

} // namespace

BOOST_AUTO_TEST_SUITE(tuning_config)

BOOST_AUTO_TEST_CASE(every_mistake_is_listed_in_one_pass) {
  EnvGuard env;
  const std::string text = target +
                           "signals:\n  rps: {rate: http_requests_total, scael: 2}\n  errors: {rate: x}\n" // 3-5
                           "objective: {maximize: rps - erors}\n"                                       // 6
                           "params:\n  pool: {type: int, min: 1, max: 10}\n"                              // 7-8
                           "window: {settle: 10, duration: 0s}\n"                                        // 9
                           "adapters:\n  - {name: app, kind: callbak, params: [pool]}\n"                // 10-11
                           "guardrails: {max_delta: {pol: 3}}\n";                                         // 12
  try {
    (void)parse(text);
    BOOST_FAIL("no error");
  } catch (const ConfigErrors& e) {
    std::vector<std::string> where;
    for (const auto& error : e.errors())
      where.push_back(std::to_string(error.line()) + ":" + std::to_string(error.column()));
    // scael; erors; settle without unit; duration 0; pol (guardrails); callbak (adapters are read last).
    const std::vector<std::string> expected{"4:36", "6:29", "9:18", "9:32", "12:26", "11:23"};
    BOOST_TEST(where == expected, boost::test_tools::per_element());
    BOOST_TEST(std::string(e.what()).find("did you mean 'scale'") != std::string::npos);
    BOOST_TEST(std::string(e.what()).find("did you mean 'errors'") != std::string::npos);
    BOOST_TEST(std::string(e.what()).find("did you mean 'callback'") != std::string::npos);
    BOOST_TEST(std::string(e.what()).find("did you mean 'pool'") != std::string::npos);
    // The broken adapter is not also blamed for leaving 'pool' unowned.
    BOOST_TEST(std::string(e.what()).find("owned by no adapter") == std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(one_mistake_is_a_plain_config_error) {
  EnvGuard env;
  try {
    (void)parse(minimal + "solver: {kind: bayse}\n");
    BOOST_FAIL("no error");
  } catch (const ConfigErrors&) {
    BOOST_FAIL("a single mistake should not be wrapped");
  } catch (const ConfigError& e) {
    BOOST_TEST(e.line() == 11u);
  }
}

BOOST_AUTO_TEST_CASE(example_loads_with_expected_values) {
  EnvGuard env;
  const auto config = load_tuning_config(example_path);
  BOOST_TEST(config.policy.enabled);
  BOOST_REQUIRE(config.target.sources.size() == 1u);
  BOOST_TEST(config.target.sources[0].name == "metrics");
  BOOST_TEST(config.target.sources[0].url == "http://127.0.0.1:8080/metrics");
  BOOST_TEST((config.target.sources[0].format == MetricsFormat::prometheus));
  BOOST_TEST(config.target.interval.count() == 1000);
  BOOST_TEST(config.target.sources[0].timeout.count() == 2000);

  BOOST_REQUIRE(config.policy.signals.size() == 6u);
  BOOST_TEST(config.policy.signals[0].name == "rps");
  BOOST_TEST((config.policy.signals[0].kind == SignalKind::rate));
  BOOST_TEST(config.policy.signals[0].metric == "http_requests_total");
  BOOST_REQUIRE(config.policy.signals[1].matchers.size() == 1u);
  BOOST_TEST((config.policy.signals[1].matchers[0].op() == LabelMatcher::Op::regex));
  BOOST_TEST(config.policy.signals[1].matchers[0].value() == "5..");
  BOOST_TEST(config.policy.signals[1].matchers[0].matches("503"));
  BOOST_TEST(!config.policy.signals[1].matchers[0].matches("200"));
  BOOST_REQUIRE(config.policy.signals[2].matchers.size() == 2u);
  BOOST_TEST(config.policy.signals[2].matchers[0].label() == "method");
  BOOST_TEST((config.policy.signals[2].matchers[0].op() == LabelMatcher::Op::equal));
  BOOST_TEST((config.policy.signals[2].matchers[1].op() == LabelMatcher::Op::not_regex));
  BOOST_TEST((config.policy.signals[3].kind == SignalKind::quantile));
  BOOST_TEST(config.policy.signals[3].q == 0.99);
  BOOST_TEST(config.policy.signals[3].scale == 1000.0);
  BOOST_TEST((config.policy.signals[4].kind == SignalKind::gauge));
  BOOST_TEST((config.policy.signals[4].reduce == GaugeReduce::max));
  BOOST_TEST((config.policy.signals[5].kind == SignalKind::ratio));
  BOOST_TEST(config.policy.signals[5].numerator == "errors");
  BOOST_TEST(config.policy.signals[5].denominator == "rps");

  BOOST_TEST((config.policy.direction == Direction::maximize));
  BOOST_TEST(config.policy.objective.text() == "rps - 10 * errors");
  const double values[] = {100.0, 2.0};
  BOOST_TEST(config.policy.objective.evaluate(values) == 80.0);
  BOOST_REQUIRE(config.policy.constraints.size() == 3u);
  BOOST_TEST(config.policy.constraints[0].text == "p99_ms <= 250");
  BOOST_TEST((config.policy.constraints[2].relation == Relation::less));

  BOOST_TEST(config.space.size() == 4u);
  BOOST_TEST(config.space.find("timeout_ms").has_value());

  BOOST_TEST(config.solver.kind == "bayes");
  BOOST_TEST(config.policy.budget == 60u);
  BOOST_TEST(config.solver.seed == 42u);
  BOOST_TEST(config.policy.settle.count() == 10'000);
  BOOST_TEST(config.policy.duration.count() == 60'000);
  BOOST_TEST(config.policy.min_samples == 5u);

  BOOST_REQUIRE(limits(config).size() == 2u);
  BOOST_TEST(limits(config).at("pool_size").value == 10.0);
  BOOST_TEST(!limits(config).at("pool_size").percent);
  BOOST_TEST(limits(config).at("timeout_ms").value == 20.0);
  BOOST_TEST(limits(config).at("timeout_ms").percent);
  check_balanced_guardrails(config);

  BOOST_REQUIRE(config.adapters.size() == 2u);
  BOOST_TEST(config.adapters[0].name == "app");
  BOOST_TEST((config.adapters[0].kind == AdapterKind::http));
  BOOST_TEST(config.adapters[0].params.size() == 3u);
  BOOST_TEST(config.adapters[0].options.at("url") == "http://127.0.0.1:8080/admin/config");
  BOOST_TEST(config.adapters[0].options.at("method") == "PUT");
  BOOST_TEST(config.adapters[0].options.size() == 2u);
  BOOST_TEST((config.adapters[1].kind == AdapterKind::redis));
  BOOST_TEST(config.adapters[1].params.at(0) == "cache_mode");

  BOOST_TEST(config.state.dir == "/var/lib/trimtab/tuning");
  BOOST_TEST(config.control.listen == "127.0.0.1:9464");
  BOOST_TEST(config.control.token_file == "/var/lib/trimtab/tuning/control.token");
}

BOOST_AUTO_TEST_CASE(adapter_options_take_lists_and_one_level_maps) {
  EnvGuard env;
  const auto config = parse(target + signals + objective + params +
                            "adapters:\n"
                            "  - name: cmd\n"
                            "    kind: command\n"
                            "    params: [pool]\n"
                            "    command: [/bin/reload, \"--pool={pool}\"]\n"
                            "    names: {pool: pool-size}\n"
                            "    timeout: 2s\n");
  const auto& adapter = config.adapters.at(0);
  BOOST_TEST(adapter.lists.at("command") == (std::vector<std::string>{"/bin/reload", "--pool={pool}"}),
             boost::test_tools::per_element());
  BOOST_TEST(adapter.options.at("names.pool") == "pool-size");
  BOOST_TEST(adapter.options.at("timeout") == "2s");
  BOOST_TEST(adapter.options.size() == 2u);
  // Deeper nesting is not an adapter option.
  check_error(target + signals + objective + params +
                  "adapters:\n  - {name: a, kind: redis, params: [pool], names: {pool: {x: y}}}\n",
              "10:58: adapter option 'names.pool' must be a single value");
}

BOOST_AUTO_TEST_CASE(defaults) {
  EnvGuard env;
  const auto config = parse(minimal);
  BOOST_TEST(config.policy.enabled);
  BOOST_REQUIRE(config.target.sources.size() == 1u);
  BOOST_TEST(config.target.sources[0].name == "metrics");
  BOOST_TEST(config.target.sources[0].url == "file:///tmp/m.txt");
  BOOST_TEST((config.target.sources[0].format == MetricsFormat::prometheus));
  BOOST_TEST(config.target.interval.count() == 1000);
  BOOST_TEST(config.target.sources[0].timeout.count() == 2000);
  BOOST_TEST(config.policy.constraints.empty());
  BOOST_TEST((config.policy.direction == Direction::maximize));
  BOOST_TEST(config.solver.kind == "bayes");
  BOOST_TEST(config.policy.budget == 50u);
  BOOST_TEST(config.solver.seed == 0u);
  BOOST_TEST(config.policy.settle.count() == 10'000);
  BOOST_TEST(config.policy.duration.count() == 60'000);
  BOOST_TEST(config.policy.min_samples == 5u);
  BOOST_TEST(config.policy.in_effect_limit.count() == 60'000);
  BOOST_TEST(parse(minimal + "window: {in_effect_limit: 0s}\n").policy.in_effect_limit.count() == 0);
  BOOST_TEST(limits(config).empty());
  check_balanced_guardrails(config);
  BOOST_TEST(config.state.dir.empty());
  BOOST_TEST(config.control.listen == "127.0.0.1:9464");
  BOOST_TEST(config.control.token_file.empty());
  BOOST_TEST(config.adapters.at(0).options.empty());
  BOOST_TEST(config.adapters.at(0).line == 10u);
}

BOOST_AUTO_TEST_CASE(minimize_and_gauge_defaults) {
  EnvGuard env;
  const auto config = parse(target + "signals:\n  mem: {gauge: rss}\nobjective: {minimize: mem}\n" + params + adapters);
  BOOST_TEST((config.policy.direction == Direction::minimize));
  BOOST_TEST((config.policy.signals.at(0).reduce == GaugeReduce::mean));
}

BOOST_AUTO_TEST_CASE(what_the_file_leaves_out_keeps_the_loops_own_default) {
  EnvGuard env;
  const auto policy = parse(minimal).policy;
  const TuningPolicy loops_own;
  BOOST_TEST(policy.settle == loops_own.settle);
  BOOST_TEST(policy.duration == loops_own.duration);
  BOOST_TEST(policy.min_samples == loops_own.min_samples);
  BOOST_TEST(policy.in_effect_limit == loops_own.in_effect_limit);
  BOOST_TEST(policy.budget == loops_own.budget);
  BOOST_TEST(!policy.load_signal.has_value());
  BOOST_TEST(policy.load_band == loops_own.load_band);
  BOOST_TEST(policy.remeasure_every == loops_own.remeasure_every);
  BOOST_TEST(policy.max_candidate_windows == loops_own.max_candidate_windows);
  BOOST_TEST(policy.end_windows_early == loops_own.end_windows_early);
  BOOST_TEST(policy.required_improvement.value == loops_own.required_improvement.value);
  BOOST_TEST(policy.regression_threshold.value == loops_own.regression_threshold.value);
  BOOST_TEST(policy.confidence == loops_own.confidence);
  BOOST_TEST(policy.safe_mode_recovery == loops_own.safe_mode_recovery);
  BOOST_TEST(policy.switchback_pairs == loops_own.switchback_pairs);
  BOOST_TEST(policy.switchback_duration == loops_own.switchback_duration);
  BOOST_TEST(policy.final_confirmation_pairs == loops_own.final_confirmation_pairs);
  BOOST_TEST(policy.guard_windows == loops_own.guard_windows);
  BOOST_TEST(policy.guardrails.max_direction_flips == loops_own.guardrails.max_direction_flips);
  BOOST_TEST(policy.guardrails.max_delta.size() == 1u); // one per param, none limited
  BOOST_TEST(!policy.guardrails.max_delta[0].has_value());
}

BOOST_AUTO_TEST_CASE(window_settings_are_read_in_the_loops_units) {
  EnvGuard env;
  const auto policy =
      parse(minimal + "window: {load_signal: rps, load_band: 40%, end_early: false, duration: 120s}\n").policy;
  BOOST_TEST(policy.load_signal.value_or("") == "rps");
  BOOST_TEST(policy.load_band == 0.4); // written as a percentage, held as a fraction
  BOOST_TEST(!policy.end_windows_early);
  BOOST_TEST(policy.switchback_duration == default_switchback_duration(policy.duration)); // unless written
  BOOST_TEST(policy.switchback_duration.count() == 60'000);
  const auto written = parse(minimal + "window: {duration: 120s}\nguardrails: {switchback_window: 10s}\n").policy;
  BOOST_TEST(written.switchback_duration.count() == 10'000);
}

BOOST_AUTO_TEST_CASE(unknown_keys_with_suggestions) {
  EnvGuard env;
  check_error(minimal + "solver: {kind: bayes, budgte: 10}\n", "11:23: unknown key 'budgte' in 'solver' (did you mean 'budget'?)");
  check_error(minimal + "windw: {settle: 1s}\n", "11:1: unknown section 'windw' (did you mean 'window'?)");
  check_error("target:\n  metrics: {url: \"file:///m\", fromat: json}\n" + signals + objective + params + adapters,
              "2:31: unknown key 'fromat' in 'target.metrics' (did you mean 'format'?)");
  check_error(minimal + "guardrails:\n  min_dwel: 5s\n", "12:3: unknown key 'min_dwel' in 'guardrails' (did you mean 'min_dwell'?)");
  check_error(target + "signals:\n  rps: {rate: x, scael: 2}\n" + objective + params + adapters,
              "4:18: unknown key 'scael' in 'signals.rps' (did you mean 'scale'?)");
}

// Found by fuzzing: an expression YAML folds from two lines was reported at a column past the end
// of its first line.
BOOST_AUTO_TEST_CASE(a_folded_expression_is_located_at_its_start) {
  EnvGuard env;
  check_error(target + signals + "objective:\n  maximize: rps +\n    rps rps\n" + params + adapters,
              "7:13: objective: expected an operator before 'rps'");
}

BOOST_AUTO_TEST_CASE(signal_names_must_be_usable_in_expressions_and_tags_are_refused) {
  EnvGuard env;
  check_error(target + "signals:\n  p99-ms: {rate: x}\n" + objective + params + adapters,
              "4:3: signal name 'p99-ms' cannot be used in an expression; use letters, digits, '_' and '.', starting with a letter or '_'");
  check_error(target + "signals:\n  log: {rate: x}\n" + objective + params + adapters,
              "4:3: signal name 'log' is a function of the expression language; choose another");
  check_error(target + "signals:\n  rps: {rate: x, match: {code: !500}}\n  errors: {rate: y}\n" + objective + params + adapters,
              "4:32: signal 'rps': '!500' reads as a YAML tag; quote the value, as in \"!500\"");
}

// Found by fuzzing: yaml-cpp located an error past the end of a line holding "\r\0".
BOOST_AUTO_TEST_CASE(a_yaml_syntax_error_stays_on_its_line) {
  EnvGuard env;
  try {
    (void)parse("objective: {maximize: rps}\n\n\r" + std::string(1, '\0'));
    BOOST_FAIL("no error");
  } catch (const ConfigError& e) {
    BOOST_TEST(e.line() == 3u);
    BOOST_TEST(e.column() <= 3u);
  }
}

BOOST_AUTO_TEST_CASE(located_errors) {
  EnvGuard env;
  // A duration without a unit.
  check_error(minimal + "window: {settle: 10}\n", "11:18: settle: '10' has no unit: write 30s or 30ms (a bare number could mean either)");
  check_error(minimal + "window: {duration: 0s}\n", "11:20: duration must be greater than 0, not 0s");
  check_error(minimal + "window: {in_effect_limit: 5}\n", "11:27: in_effect_limit: '5' has no unit: write 30s or 30ms (a bare number could mean either)");
  // The objective names a signal nobody declared: points at the name inside the expression.
  check_error(target + signals + "objective: {maximize: rps - 10 * erors}\n" + params + adapters, "6:34: the objective uses 'erors', which is not a declared signal (did you mean 'errors'?)");
  check_error(target + signals + "objective:\n  minimize: \"errors / rpz\"\n" + params + adapters, "7:23: the objective uses 'rpz', which is not a declared signal (did you mean 'rps'?)");
  check_error(target + signals + "objective: {maximize: rps -}\n" + params + adapters, "6:28: objective: unexpected end of expression");
  // Both maximize and minimize, and neither.
  check_error(target + signals + "objective: {maximize: rps, minimize: errors}\n" + params + adapters, "6:28: 'objective' takes exactly one of 'maximize' and 'minimize'");
  check_error(target + signals + "objective: {}\n" + params + adapters, "6:12: 'objective' takes exactly one of 'maximize' and 'minimize'");
  // Constraints.
  check_error(minimal + "constraints:\n  - 0 < rps < 10\n", "12:13: constraint: a constraint takes one comparison; this is a second '<' (write two constraints)");
  check_error(minimal + "constraints:\n  - p99 < 10\n", "12:5: the constraint uses 'p99', which is not a declared signal");
  // max_delta for an unknown param.
  check_error(minimal + "guardrails:\n  max_delta: {pol: 3}\n", "12:15: max_delta: 'pol' is not a declared param (did you mean 'pool'?)");
  check_error(minimal + "guardrails:\n  max_delta: {pool: lots}\n", "12:21: max_delta of 'pool': 'lots' is not an amount such as 10 or 20%");
  // Param ownership.
  check_error(target + signals + objective + params +
                  "adapters:\n  - {name: a, kind: http, params: [pool]}\n  - {name: b, kind: file, params: [pool]}\n",
              "11:36: param 'pool' is owned by two adapters, 'a' and 'b'");
  check_error(target + signals + objective + "params:\n  pool: {type: int, min: 1, max: 10}\n  batch: {type: int, min: 1, max: 4}\n" + adapters, "9:3: param 'batch' is owned by no adapter; list it under one adapter's 'params'");
  check_error(target + signals + objective + params + "adapters:\n  - {name: a, kind: http, params: [pool, nope]}\n", "10:42: adapter 'a': 'nope' is not a declared param");
  check_error(target + signals + objective + params + "adapters:\n  - {name: a, kind: htp, params: [pool]}\n", "10:21: unknown adapter kind 'htp' (did you mean 'http'?); the choices are callback, http, file, command, redis, pgbouncer or postgres");
  // Signals.
  check_error(target + "signals:\n  rps: {rate: x, match: {code: \"~5(\"}}\n" + objective + params + adapters, "4:32: signal 'rps': bad regex for label 'code': \"5(\" (Mismatched '(' and ')' in regular expression)");
  check_error(target + "signals:\n  rps: {rate: x, gauge: y}\n" + objective + params + adapters, "4:18: signal 'rps' has both 'rate' and 'gauge'; give one");
  check_error(target + "signals:\n  rps: {quantile: 1.5, histogram: h}\n" + objective + params + adapters, "4:19: quantile must be between 0 and 1 (exclusive), not 1.5");
  check_error(target + "signals:\n  rps: {ratio: [rps, errors]}\n  errors: {rate: x}\n" + objective + params + adapters, "4:3: signal 'rps' refers to itself through 'rps'");
  // Target.
  check_error("target:\n  metrics: {url: \"file:///m\", format: promethus}\n" + signals + objective + params + adapters, "2:39: unknown format 'promethus' (did you mean 'prometheus'?); the choices are prometheus, openmetrics, json, pgbouncer, redis or postgres");
  check_error("target:\n  metrics: {url: \"ftp://m\"}\n" + signals + objective + params + adapters, "2:18: url must start with http://, https:// or file://, not 'ftp://m'");
  // Wrong types.
  check_error(minimal + "solver: {budget: many}\n", "11:18: budget must be a whole number, not 'many'");
  check_error(minimal + "solver: {kind: baye}\n", "11:16: unknown solver kind 'baye' (did you mean 'bayes'?); the choices are bayes, grid or random");
  check_error(minimal + "guardrails: {rollback_on_regression: maybe}\n", "11:38: rollback_on_regression must be true or false, not 'maybe'");
  check_error(minimal + "control: {listen: localhost}\n", "11:19: listen must be host:port such as 127.0.0.1:9464, not 'localhost'");
  check_error(minimal + "state: [a]\n", "11:8: 'state' must be a map such as {dir: /var/lib/trimtab}");
  // Missing sections, YAML syntax.
  BOOST_TEST(error_of(target + signals + objective + params) == "t.yaml: no 'adapters' section");
  check_error(minimal + "window: {settle: [\n", "12:1: end of sequence flow not found");
}

BOOST_AUTO_TEST_CASE(summary_quantiles_read_a_quantile_label_when_given_one) {
  EnvGuard env;
  const auto config = parse(target + signals +
                            "  p99_us: {quantile: 0.99, summary: redis_latency_percentiles_usec}\n"
                            "  p1_us: {quantile: 0.01, summary: redis_latency_percentiles_usec, quantile_label: 1}\n"
                            "  p50_us: {quantile: 0.5, summary: s, quantile_label: \"0.5\"}\n" +
                            objective + params + adapters);
  BOOST_REQUIRE(config.policy.signals.size() == 5u);
  BOOST_TEST(!config.policy.signals[2].quantile_label.has_value());
  BOOST_TEST(config.policy.signals[2].matches_quantile(99.0)); // a percentage, read without a quantile_label
  BOOST_TEST(config.policy.signals[3].quantile_label.value_or(0.0) == 1.0);
  BOOST_TEST(config.policy.signals[3].matches_quantile(1.0));
  BOOST_TEST(config.policy.signals[4].quantile_label.value_or(0.0) == 0.5);

  const std::string before = target + "signals:\n";
  const std::string after = "  errors: {rate: x}\n" + objective + params + adapters;
  check_error(before + "  rps: {quantile: 0.99, histogram: h, quantile_label: 99}\n" + after,
              "4:39: signal 'rps': 'quantile_label' applies to summaries only (a histogram has 'le' buckets)");
  check_error(before + "  rps: {rate: x, quantile_label: 99}\n" + after,
              "4:18: signal 'rps': 'quantile_label' applies to quantile signals only");
  check_error(before + "  rps: {quantile: 0.99, summary: s, quantile_label: 50}\n" + after,
              "4:3: signal 'rps': quantile label 50 is neither the quantile (0.99) nor the quantile as a percentage (99)");
  check_error(before + "  rps: {quantile: 0.99, summary: s, quantile_label: high}\n" + after,
              "4:53: quantile_label must be a finite number, not 'high'");
}

BOOST_AUTO_TEST_CASE(enabled_from_environment) {
  EnvGuard env;
  BOOST_TEST(parse(minimal).policy.enabled);
  for (const char* off : {"false", "0", "no", "off", "FALSE", "Off"}) {
    setenv("TRIMTAB_ENABLED", off, 1);
    BOOST_TEST(!parse(minimal).policy.enabled, off);
  }
  for (const char* on : {"true", "1", "yes", "on", ""}) {
    setenv("TRIMTAB_ENABLED", on, 1);
    BOOST_TEST(parse(minimal).policy.enabled, on);
  }
  setenv("TRIMTAB_ENABLED", "nope", 1);
  BOOST_TEST(error_of(minimal) ==
             "t.yaml: environment variable TRIMTAB_ENABLED='nope' is not understood; use true/1/yes/on or false/0/no/off");
}

BOOST_AUTO_TEST_CASE(missing_file) {
  BOOST_CHECK_THROW((void)load_tuning_config("/nonexistent/tuning.yaml"), ConfigError);
}

BOOST_AUTO_TEST_CASE(a_preset_sets_coherent_values_and_written_keys_override_it) {
  EnvGuard env;
  const auto config = parse(target + signals + objective +
                            "params:\n  pool: {type: int, min: 1, max: 10}\n  policy: {type: categorical, choices: [a, b]}\n"
                            "adapters:\n  - {name: app, kind: callback, params: [pool, policy]}\n"
                            "guardrails:\n  min_dwell: 20s\n  preset: conservative\n  switchback_pairs: 2\n");
  const auto& g = config.policy.guardrails;
  const auto& origins = config.guardrail_origins.by_key;
  BOOST_TEST((config.guardrail_origins.preset == GuardrailPreset::conservative));
  BOOST_TEST(g.min_dwell.count() == 20'000); // written before the preset, and still wins
  BOOST_TEST(origins.at("min_dwell") == "t.yaml:13");
  BOOST_TEST(config.policy.switchback_pairs == 2u);
  BOOST_TEST(origins.at("switchback_pairs") == "t.yaml:15");
  BOOST_TEST(g.max_updates_per_second == 0.01);
  BOOST_TEST(origins.at("max_updates_per_second") == "preset conservative");
  BOOST_TEST(config.policy.confidence == 0.99);
  BOOST_TEST(config.policy.required_improvement.value == 15.0);
  BOOST_TEST(g.max_rollbacks_per_hour == 1u);
  BOOST_TEST(limits(config).at("pool").value == 10.0);
  BOOST_TEST(limits(config).at("pool").percent);
  BOOST_TEST(!limits(config).contains("policy")); // a label has no distance
  BOOST_TEST(origins.at("max_rollbacks_per_hour") == "preset conservative");
  BOOST_TEST(origins.at("safe_mode_recovery") == "default");

  const auto aggressive = parse(minimal + "guardrails: {preset: aggressive, max_delta: {pool: 3}}\n");
  BOOST_TEST(aggressive.policy.switchback_pairs == 0u); // off for aggressive
  BOOST_TEST(limits(aggressive).at("pool").value == 3.0);
  BOOST_TEST(aggressive.guardrail_origins.by_key.at("max_delta.pool") == "t.yaml:11");
  BOOST_TEST(aggressive.policy.guardrails.min_dwell.count() == 10'000);
  const auto balanced = parse(minimal + "guardrails: {preset: balanced}\n");
  BOOST_TEST(balanced.policy.switchback_pairs == 3u);
  BOOST_TEST(limits(balanced).at("pool").value == 25.0);
  // Without a preset, the built-in defaults: no max_delta, switchback off.
  const auto plain = parse(minimal);
  BOOST_TEST((plain.guardrail_origins.preset == GuardrailPreset::none));
  BOOST_TEST(plain.policy.switchback_pairs == 0u);
  BOOST_TEST(plain.guardrail_origins.by_key.at("confidence") == "default");
  BOOST_TEST(plain.guardrail_origins.by_key.at("max_delta.pool") == "default");

  check_error(minimal + "guardrails: {preset: balnced}\n",
              "11:22: unknown guardrails preset 'balnced' (did you mean 'balanced'?); the choices are conservative, "
              "balanced or aggressive");
  check_error(minimal + "guardrails: {switchback_pairs: 1}\n",
              "11:32: switchback_pairs must be 0 (off) or at least 2: a paired test of one pair has no spread");
}

BOOST_AUTO_TEST_CASE(mode_and_offline_history) {
  EnvGuard env;
  BOOST_TEST((parse(minimal).policy.mode == TuningMode::apply));
  const auto config = parse_tuning_config("mode: recommend\n" + minimal + "solver: {history: results.jsonl}\n",
                                          "/etc/trimtab/t.yaml");
  BOOST_TEST((config.policy.mode == TuningMode::recommend));
  BOOST_TEST(config.solver.history == std::filesystem::path("/etc/trimtab/results.jsonl"));
  check_error("mode: recomend\n" + minimal, "1:7: unknown mode 'recomend' (did you mean 'recommend'?); the choices are apply or recommend");
}

BOOST_AUTO_TEST_CASE(a_list_of_metrics_sources_and_signals_choosing_one) {
  EnvGuard env;
  const std::string sources = "target:\n"
                              "  metrics:\n"
                              "    - {name: app, url: \"http://127.0.0.1:8080/metrics\", interval: 500ms}\n"
                              "    - {name: pool, format: pgbouncer, dsn: \"host=127.0.0.1 port=6432 user=pgbouncer\", timeout: 1s}\n"
                              "    - {name: cache, format: redis, address: \"127.0.0.1:6379\", password_file: secret}\n";
  const auto config = parse_tuning_config(
      sources +
          "signals:\n"
          "  rps: {rate: http_requests_total}\n"
          "  errors: {rate: http_requests_total, source: app}\n"
          "  tps: {rate: pgbouncer_stats_sql_transactions_pooled_total, source: pool}\n"
          "  hits: {rate: redis_keyspace_hits_total, source: cache}\n"
          "  per_request: {ratio: [tps, rps]}\n" +
          objective + params + adapters,
      "/etc/trimtab/t.yaml");
  BOOST_REQUIRE(config.target.sources.size() == 3u);
  BOOST_TEST(config.target.interval.count() == 500);
  const auto& pool = config.target.sources[1];
  BOOST_TEST(pool.name == "pool");
  BOOST_TEST((pool.format == MetricsFormat::pgbouncer));
  BOOST_TEST(pool.url.empty());
  BOOST_TEST(pool.timeout.count() == 1000);
  BOOST_TEST(pool.options.at("dsn") == "host=127.0.0.1 port=6432 user=pgbouncer");
  BOOST_TEST(is_built_in(pool.format));
  // A password file counts from the config's folder, as the adapters' do.
  BOOST_TEST(config.target.sources[2].options.at("password_file") == "/etc/trimtab/secret");
  // The first source is the default: naming it is the same as not.
  BOOST_TEST(config.policy.signals[0].metrics_source.empty());
  BOOST_TEST(config.policy.signals[1].metrics_source.empty());
  BOOST_TEST(config.policy.signals[2].metrics_source == "pool");
  BOOST_TEST(config.policy.signals[3].metrics_source == "cache");
}

BOOST_AUTO_TEST_CASE(the_single_map_form_takes_a_built_in_format) {
  EnvGuard env;
  const auto config = parse("target:\n  metrics: {format: redis, address: \"127.0.0.1:7000\", interval: 2s}\n" + signals +
                            objective + params + adapters);
  BOOST_REQUIRE(config.target.sources.size() == 1u);
  BOOST_TEST(config.target.sources[0].name == "metrics");
  BOOST_TEST((config.target.sources[0].format == MetricsFormat::redis));
  BOOST_TEST(config.target.interval.count() == 2000);
}

BOOST_AUTO_TEST_CASE(metrics_source_mistakes_are_located) {
  EnvGuard env;
  const std::string rest = signals + objective + params + adapters;
  // The mistake of issue 14: 'dns' for 'dsn' is caught by validate, not only by run.
  check_error("target:\n  metrics: {format: pgbouncer, dns: \"host=127.0.0.1\"}\n" + rest,
              "2:32: unknown key 'dns' in 'target.metrics' (did you mean 'dsn'?)");
  check_error("target:\n  metrics: [{name: app, url: \"http://a/m\"}, {url: \"http://b/m\"}]\n" + rest,
              "2:45: target.metrics[1] needs a 'name', which signals choose it by ('source: NAME')");
  check_error("target:\n  metrics: [{name: a, url: \"http://a/m\"}, {name: a, url: \"http://b/m\"}]\n" + rest,
              "2:50: source name 'a' is used twice");
  check_error("target:\n  metrics: [{name: a, url: \"http://a/m\", interval: 1s}, {name: b, url: \"http://b/m\", interval: 2s}]\n" + rest,
              "2:96: every source is scraped at once, every interval: give them all the same interval (or only one), not 2s and 1s");
  check_error("target:\n  metrics: {format: postgres, url: \"http://a/m\"}\n" + rest,
              "2:36: format postgres is read by trimtab itself: it takes no url but 'dsn'");
  check_error("target:\n  metrics: {format: redis, dsn: \"host=x\"}\n" + rest,
              "2:28: 'dsn' is a connection key of formats pgbouncer and postgres, not of format redis");
  check_error("target:\n  metrics: {format: json}\n" + rest,
              "2:12: 'target.metrics' needs 'url' (or a built-in format: pgbouncer, redis, postgres)");
  check_error("target:\n  metrics: [{name: app, url: \"http://a/m\"}, {name: db, format: postgres}]\n"
              "signals:\n  rps: {rate: x, source: dbb}\n  errors: {rate: y}\n" +
                  objective + params + adapters,
              "4:26: signal 'rps': source 'dbb' is not a name in target.metrics (did you mean 'db'?)");
  check_error("target:\n  metrics: [{name: app, url: \"http://a/m\"}, {name: db, format: postgres}]\n"
              "signals:\n  rps: {rate: x}\n  errors: {rate: y}\n  r: {ratio: [rps, errors], source: db}\n" +
                  objective + params + adapters,
              "6:29: signal 'r': a ratio takes no 'source'; put it on its two signals");
}

BOOST_AUTO_TEST_SUITE_END()
