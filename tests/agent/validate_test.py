#!/usr/bin/env python3
"""End-to-end test of `trimtab validate`. Usage: validate_test.py TRIMTAB EXAMPLE.yaml"""

import os
import subprocess
import sys
import tempfile
import unittest

TRIMTAB = sys.argv[1] if len(sys.argv) > 1 else "trimtab"
EXAMPLE = sys.argv[2] if len(sys.argv) > 2 else "config/examples/tuning.yaml"


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

    def test_usage(self):
        self.assertEqual(subprocess.run([TRIMTAB, "validate"], capture_output=True, timeout=30).returncode, 1)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
