#!/usr/bin/env python3
"""End-to-end test of `trimtab validate`. Usage: validate_test.py TRIMTAB EXAMPLE.yaml CONFIGURATION.md

The examples beside EXAMPLE.yaml (pgbouncer.yaml, redis.yaml) must validate, and CONFIGURATION.md
must quote each of them whole, so what the docs show is what is tested."""

import os
import subprocess
import sys
import tempfile
import unittest

TRIMTAB = sys.argv[1] if len(sys.argv) > 1 else "trimtab"
EXAMPLE = sys.argv[2] if len(sys.argv) > 2 else "config/examples/tuning.yaml"
DOCS = sys.argv[3] if len(sys.argv) > 3 else "docs/configuration.md"
EXAMPLES = os.path.dirname(os.path.abspath(EXAMPLE))


def validate(path, **env):
    return subprocess.run([TRIMTAB, "validate", path], capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=30, env={**os.environ, **env})


class Validate(unittest.TestCase):
    def test_the_example_is_valid_and_summarised(self):
        result = validate(EXAMPLE)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("objective:   maximize rps - 10 * errors", result.stdout)
        self.assertIn("params:      4", result.stdout)
        self.assertIn("applying:    yes", result.stdout)

    def test_explain_names_where_each_guardrail_comes_from(self):
        with open(EXAMPLE) as f:
            text = f.read()
        self.assertIn("\nguardrails:\n", text)
        text = text.replace("\nguardrails:\n", "\nguardrails:\n  preset: conservative\n", 1)
        text = "\n".join(line for line in text.splitlines() if not line.startswith("  switchback_pairs:"))
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as preset:
            preset.write(text)
        try:
            result = subprocess.run([TRIMTAB, "validate", preset.name, "--explain"], capture_output=True, text=True,
                                    stdin=subprocess.DEVNULL, timeout=30)
        finally:
            os.unlink(preset.name)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("guardrails (preset conservative)", result.stdout)
        lines = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()
                 if line.startswith("  ") and len(line.split()) >= 3}
        self.assertEqual(lines["switchback_pairs"], ["4", "preset", "conservative"])
        # The example writes confidence itself: the file wins over the preset, and says where.
        self.assertEqual(lines["confidence"][0], "0.95")
        self.assertEqual(lines["confidence"][1].rsplit(":", 1)[0], preset.name)
        self.assertEqual(lines["safe_mode_recovery"][0], "3600s")

    def test_the_kill_switch_shows(self):
        result = validate(EXAMPLE, TRIMTAB_ENABLED="false")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("applying:    no", result.stdout)

    def test_a_mistake_is_located_and_exits_2(self):
        with open(EXAMPLE) as f:
            text = f.read().replace("budget: 60", "budgte: 60")
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as broken:
            broken.write(text)
        try:
            result = validate(broken.name)
        finally:
            os.unlink(broken.name)
        self.assertEqual(result.returncode, 2)
        line = next(i for i, l in enumerate(text.splitlines(), 1) if "budgte" in l)
        self.assertIn(f"{broken.name}:{line}:", result.stderr)
        self.assertIn("unknown key 'budgte' in 'solver' (did you mean 'budget'?)", result.stderr)

    def test_every_mistake_is_listed(self):
        with open(EXAMPLE) as f:
            text = f.read().replace("budget: 60", "budgte: 60").replace("kind: bayes", "kind: bayse")
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as broken:
            broken.write(text)
        try:
            result = validate(broken.name)
        finally:
            os.unlink(broken.name)
        self.assertEqual(result.returncode, 2)
        self.assertIn("unknown key 'budgte'", result.stderr)
        self.assertIn("unknown solver kind 'bayse' (did you mean 'bayes'?)", result.stderr)
        self.assertIn("2 mistakes in", result.stderr)

    def write(self, text):
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write(text)
        self.addCleanup(os.unlink, f.name)
        return f.name

    def test_the_pgbouncer_and_redis_examples_validate_and_the_docs_quote_them(self):
        with open(DOCS) as f:
            docs = f.read()
        for name in ("pgbouncer.yaml", "redis.yaml"):
            path = os.path.join(EXAMPLES, name)
            with self.subTest(example=name):
                result = validate(path)
                self.assertEqual(result.returncode, 0, result.stderr)
                with open(path) as f:
                    self.assertIn("```yaml\n" + f.read() + "```", docs, f"docs/configuration.md quotes {name} whole")
        result = validate(os.path.join(EXAMPLES, "pgbouncer.yaml"))
        self.assertIn("sources:     pool (pgbouncer), db (postgres), every 1 s", result.stdout)
        self.assertIn("window:      35 s per window (5 s settling + 30 s measuring)", result.stdout)
        self.assertIn("changes:     at least 30 s apart (min_dwell 30 s, max_updates_per_second 0.05: one per 20 s)",
                      result.stdout)
        self.assertIn("study:       about 11.7 min (20 x max(window 35 s, changes 30 s))", result.stdout)
        self.assertNotIn("warning:", result.stdout)

    def test_an_adapter_option_run_would_refuse_is_refused_here(self):
        # Issue 14: `dns:` for `dsn:` passed validate, and only `run` said so.
        with open(os.path.join(EXAMPLES, "pgbouncer.yaml")) as f:
            text = f.read()
        start = text.index("  - name: bouncer")
        broken = text[:start] + text[start:].replace("    dsn:", "    dns:", 1)
        path = self.write(broken)
        result = validate(path)
        self.assertEqual(result.returncode, 2, result.stdout)
        line = broken[:start].count("\n") + 1
        self.assertIn(f"{path}:{line}:5: adapter 'bouncer': unknown option 'dns' (did you mean 'dsn'?)", result.stderr)

    def test_a_password_run_could_not_read_is_refused_here(self):
        with open(os.path.join(EXAMPLES, "redis.yaml")) as f:
            text = f.read()
        path = self.write(text.replace("    # password_env: REDIS_PASSWORD", "    password_env: TRIMTAB_TEST_NO_SUCH_VARIABLE"))
        result = validate(path)
        self.assertEqual(result.returncode, 2, result.stdout)
        self.assertIn("metrics source 'metrics': option 'password_env': the environment variable "
                      "'TRIMTAB_TEST_NO_SUCH_VARIABLE' is not set", result.stderr)
        result = validate(path, TRIMTAB_TEST_NO_SUCH_VARIABLE="pw")
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_a_json_source_that_cannot_give_a_signal_is_refused_here(self):
        path = self.write("""
target:
  metrics: [{name: app, url: "http://127.0.0.1:1/m"}, {name: stats, url: "http://127.0.0.1:1/j", format: json}]
signals:
  rps: {rate: requests_total}
  p99: {quantile: 0.99, histogram: latency, source: stats}
objective: {maximize: rps}
params: {pool: {type: int, min: 1, max: 8}}
adapters: [{name: app, kind: http, url: "http://127.0.0.1:1/c", params: [pool]}]
""")
        result = validate(path)
        self.assertEqual(result.returncode, 2, result.stdout)
        self.assertIn("source 'stats' (format json): signal 'p99': quantile signals read histograms or summaries", result.stderr)

    def test_the_pace_is_stated_and_a_long_dwell_is_warned_of(self):
        # Issue 14: 3 s windows and the default 60 s dwell made ten windows take ten minutes, silently.
        path = self.write("""
target: {metrics: {url: "http://127.0.0.1:1/metrics"}}
signals: {rps: {rate: requests_total}}
objective: {maximize: rps}
params: {pool: {type: int, min: 1, max: 8}}
solver: {budget: 10}
window: {settle: 0s, duration: 3s}
adapters: [{name: app, kind: http, url: "http://127.0.0.1:1/c", params: [pool]}]
""")
        result = validate(path)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("window:      3 s per window (0 s settling + 3 s measuring)", result.stdout)
        self.assertIn("changes:     at least 60 s apart (min_dwell 60 s, max_updates_per_second 0.05: one per 20 s)",
                      result.stdout)
        self.assertIn("study:       about 10 min (10 x max(window 3 s, changes 60 s))", result.stdout)
        self.assertIn("warning: min_dwell (60 s) is longer than a window (3 s): each change waits 57 s after its window, "
                      "and the study takes about 10 min instead of 30 s; set guardrails.min_dwell to go faster",
                      result.stdout)

    def test_usage(self):
        self.assertEqual(subprocess.run([TRIMTAB, "validate"], capture_output=True, timeout=30).returncode, 1)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
