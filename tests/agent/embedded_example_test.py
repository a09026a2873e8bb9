#!/usr/bin/env python3
"""examples/embedded end to end: the host server with trimtab embedded runs for 15 s with a
temporary state directory, exits 0, journals decisions, and prints an incumbent whose objective is
at least the baseline's (the same configuration, or a promoted better one).

Usage: embedded_example_test.py EXAMPLE_BINARY CONFIG
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

EXAMPLE = sys.argv[1] if len(sys.argv) > 1 else "trimtab_embedded_example"
if os.sep in EXAMPLE:
    EXAMPLE = os.path.abspath(EXAMPLE)  # the example runs in a temporary working directory
CONFIG = sys.argv[2] if len(sys.argv) > 2 else "examples/embedded/tuning.yaml"
SECONDS = 15


class EmbeddedExample(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="trimtab-embedded-")
        self.state = os.path.join(self.dir, "state")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def journal(self):
        with open(os.path.join(self.state, "journal.jsonl")) as f:
            return [json.loads(line) for line in f if line.endswith("\n")]

    def printed(self, stdout, label):
        match = re.search(rf"^{label}:\s+(\{{.*\}}) objective (\S+)$", stdout, re.MULTILINE)
        self.assertIsNotNone(match, f"no '{label}:' line in:\n{stdout}")
        return json.loads(match.group(1)), float(match.group(2))

    def test_tunes_the_host_in_process(self):
        # The working directory is the temp directory too, so nothing is left behind.
        run = subprocess.run([EXAMPLE, os.path.abspath(CONFIG), "--seconds", str(SECONDS), "--state", self.state],
                             cwd=self.dir, capture_output=True, text=True, timeout=SECONDS + 60)
        output = f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}"
        self.assertEqual(run.returncode, 0, output)

        records = self.journal()
        decisions = [r for r in records if r["type"] == "decision"]
        self.assertGreaterEqual(len(decisions), 1, output)
        self.assertIn(f"decisions: {len(decisions)}", run.stdout)
        # The metrics source worked: windows were scored on real values, not discarded for lack of data.
        values = [r["value"] for r in records if r["type"] == "observation" and "value" in r]
        self.assertTrue(values and all(v > 0 for v in values), output)

        # Host events: one line per proposal, apply, decision…, each matching a journal record.
        events = re.findall(r"^event: (\S+) ", run.stdout, re.MULTILINE)
        self.assertEqual(events.count("proposal"), len([r for r in records if r["type"] == "proposal"]), output)
        self.assertEqual(events.count("applied"), len([r for r in records if r["type"] == "applied"]), output)
        self.assertEqual(events.count("promoted"),
                         len([d for d in decisions if d["verdict"] == "promote"]), output)
        # The host's veto: no candidate above 24 workers was ever applied, and each refusal names it.
        for r in records:
            if r["type"] == "applied":
                self.assertLessEqual(r["point"]["pool_size"], 24, output)
        vetoes = [r for r in records if r["type"] == "refusal" and r["reason"] == "host_veto"]
        for veto in vetoes:
            self.assertEqual(veto["detail"], "host policy: at most 24 workers")
            self.assertGreater(veto["point"]["pool_size"], 24)
        self.assertEqual(events.count("refused"), len([r for r in records if r["type"] == "refusal"]), output)

        baseline, baseline_value = self.printed(run.stdout, "baseline")
        incumbent, incumbent_value = self.printed(run.stdout, "incumbent")
        start = next(r for r in records if r["type"] == "start")
        self.assertEqual(baseline, start["baseline"], "the baseline is what the host's current callback reported")
        self.assertEqual(baseline, {"pool_size": 4, "batch": 2})
        self.assertGreater(baseline_value, 0)
        # The same configuration as the baseline, or a better one that was promoted. The printed
        # values are rounded to 0.1, hence the margin.
        self.assertGreaterEqual(incumbent_value, baseline_value - 0.1, output)
        if incumbent != baseline:
            self.assertTrue(any(d["verdict"] == "promote" and d["point"] == incumbent for d in decisions), output)
            self.assertGreater(incumbent_value, baseline_value, output)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
