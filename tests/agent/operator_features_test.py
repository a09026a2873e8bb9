#!/usr/bin/env python3
"""Operator features end to end, with `trimtab run` against tests/agent/test_service.py on loopback:

1. `mode: recommend`, with offline results given as solver.history: the agent applies nothing,
   measures what runs, and publishes on /status (and in the journal) the configuration the
   offline results point to, with its evidence: windows, effect and confidence.
2. `trimtab apply`: tuning starts; the balanced guardrail preset confirms a promising candidate
   with switchback pairs (A/B/A/B) before promoting it, each pair in the journal.
3. `trimtab recommend`: back to recommending; at most one apply follows (a rollback to the last
   known good configuration), then none.
4. /status carries the study's statistics: counts, improvement over the baseline, and trends.

Usage: operator_features_test.py TRIMTAB
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

from service_harness import free_port, read_journal, start_test_service, wait_for, write_tuning_config

TRIMTAB = sys.argv[1] if len(sys.argv) > 1 else "trimtab"
GOOD = {"pool": 36, "batch": 14}  # the test service's throughput there: about 992 against 578 at the default


class OperatorFeatures(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="trimtab-operator-")
        self.service, self.port = start_test_service(self.dir)
        self.state = os.path.join(self.dir, "state")
        self.config = os.path.join(self.dir, "tuning.yaml")
        self.control = free_port()
        write_tuning_config(self.config, port=self.port, control=self.control, state=self.state,
                            settle="600ms", duration="2400ms", budget=40)
        with open(os.path.join(self.dir, "offline.jsonl"), "w") as f:
            for value in (985.0, 992.0, 999.0):
                f.write(json.dumps({"params": GOOD, "value": value, "constraints": [-200.0]}) + "\n")
        with open(self.config) as f:
            text = f.read()
        text = "mode: recommend\n" + text
        text = text.replace("seed: 1}", "seed: 1, history: offline.jsonl}")
        # The preset's switchback (3 pairs) and its other values, under the keys the file writes.
        text = text.replace("guardrails:\n", "guardrails:\n  preset: balanced\n  switchback_window: 1200ms\n")
        with open(self.config, "w") as f:
            f.write(text)
        self.log = open(os.path.join(self.dir, "agent.log"), "a")
        self.agent = None

    def tearDown(self):
        if self.agent and self.agent.poll() is None:
            self.agent.terminate()
            try:
                self.agent.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.agent.kill()
                self.agent.wait()
        self.log.close()
        self.service.kill()
        self.service.wait()
        if os.environ.get("KEEP_TEST_DIR"):
            print(f"kept {self.dir}", file=sys.stderr)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def status(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.control}/status", timeout=5) as r:
            return json.loads(r.read())

    def service_config(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/admin/config", timeout=5) as r:
            return json.loads(r.read())

    def of_type(self, kind, records=None):
        return [r for r in (records if records is not None else read_journal(self.state)) if r["type"] == kind]

    def cli(self, *args):
        result = subprocess.run([TRIMTAB, *args, self.config], capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        return result.stdout

    def agent_log(self):
        with open(os.path.join(self.dir, "agent.log")) as f:
            return f.read()

    def test_recommend_then_apply_with_switchback_then_recommend_again(self):
        self.agent = subprocess.Popen([TRIMTAB, "run", self.config, "--create-token"], stdout=self.log,
                                      stderr=self.log, stdin=subprocess.DEVNULL)

        # 1. Recommend-only: three windows of what runs, and advice with evidence.
        wait_for(lambda: len(self.of_type("recommendation")) >= 3, 60, "three recommendations")
        records = read_journal(self.state)
        self.assertEqual(self.of_type("start", records)[0]["mode"], "recommend")
        self.assertEqual(self.of_type("applied", records), [], "recommend mode applied something")
        self.assertEqual(self.service_config(), {"pool": 8, "batch": 4})
        status = self.status()
        self.assertEqual(status["mode"], "recommend")
        advice = status["recommendation"]
        self.assertEqual(advice["point"], GOOD, self.agent_log())
        self.assertEqual(advice["windows"], 3)
        self.assertGreaterEqual(advice["running_windows"], 2)
        self.assertGreater(advice["effect"], 0.5)
        self.assertGreater(advice["confidence"], 0.95)
        self.assertTrue(advice["reason"].startswith("better by"), advice["reason"])

        # 2. Apply: candidates, and a promising one confirmed by switchback pairs.
        self.assertIn("applying", self.cli("apply"))
        wait_for(lambda: len(self.of_type("switchback")) >= 3, 150, "three switchback pairs")
        records = read_journal(self.state)
        self.assertEqual(self.of_type("mode", records)[0]["mode"], "apply")
        confirms = [d for d in self.of_type("decision", records) if d["verdict"] == "confirm"]
        self.assertGreaterEqual(len(confirms), 1)
        pairs = self.of_type("switchback", records)[:3]
        self.assertEqual([p["pair"] for p in pairs], [1, 2, 3])
        self.assertTrue(all(p["of"] == 3 and p["candidate"] == confirms[0]["point"] for p in pairs))
        # Incumbent and candidate in turn, each apply a switchback.
        first_confirm = records.index(confirms[0])
        turns = [r["point"] for r in records[first_confirm:] if r["type"] == "applied"][:6]
        self.assertEqual(turns[1::2], [confirms[0]["point"]] * 3)
        def switchback_verdict():
            later = read_journal(self.state)[first_confirm + 1:]
            return any(r["type"] == "decision" and r["verdict"] in ("promote", "keep") for r in later)
        wait_for(switchback_verdict, 30, "the switchback's verdict")

        # 3. Back to recommending: at most one rollback started, then nothing. The switch is taken
        # even while an apply is in flight (that apply lands after the mode record).
        self.assertIn("recommend-only", self.cli("recommend"))
        wait_for(lambda: self.of_type("mode")[-1]["mode"] == "recommend", 10, "the mode record")
        time.sleep(4)
        records = read_journal(self.state)
        switched = records.index(self.of_type("mode", records)[-1])
        started = [r for r in records[switched:] if r["type"] == "apply"]
        self.assertLessEqual(len(started), 1)
        self.assertTrue(all(r["purpose"] == "rollback" for r in started))
        applied_before = len(self.of_type("applied", records))
        wait_for(lambda: len(self.of_type("recommendation")) >= len(self.of_type("recommendation", records)) + 2, 30,
                 "two more recommendations")
        self.assertEqual(len(self.of_type("applied")), applied_before)
        self.assertEqual(self.status()["mode"], "recommend")

        # 4. Statistics and trends on /status.
        statistics = self.status()["statistics"]
        self.assertGreaterEqual(statistics["windows"], 6)
        self.assertIn("refusals", statistics)
        names = [t["signal"] for t in statistics["trends"]]
        self.assertIn("objective", names)
        self.assertIn("p99_ms", names)
        p99 = next(t for t in statistics["trends"] if t["signal"] == "p99_ms")
        self.assertIn(p99["label"], ("improving", "stable", "degrading", "too few windows"))


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
