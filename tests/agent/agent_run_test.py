#!/usr/bin/env python3
"""The standalone agent end to end: `trimtab run` tunes tests/agent/test_service.py over HTTP on
loopback. It must improve the objective, keep every step within the guardrails (checked from the
journal), roll back an injected regression within one window, obey pause/resume, and after
kill -9 and a restart resume from the journal with the last known good configuration applied.

Usage: agent_run_test.py TRIMTAB
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

from service_harness import free_port, read_journal, start_test_service, wait_for, write_tuning_config

TRIMTAB = sys.argv[1] if len(sys.argv) > 1 else "trimtab"
SETTLE, DURATION = 0.6, 2.4
WINDOW = SETTLE + DURATION


class AgentRun(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="trimtab-agent-")
        self.service, self.port = start_test_service(self.dir)
        self.state = os.path.join(self.dir, "state")
        self.config = os.path.join(self.dir, "tuning.yaml")
        self.control = free_port()
        write_tuning_config(self.config, port=self.port, control=self.control, state=self.state,
                            settle=f"{int(SETTLE * 1000)}ms", duration=f"{int(DURATION * 1000)}ms")
        self.agent = None

    def tearDown(self):
        if self.agent and self.agent.poll() is None:
            self.agent.kill()
            self.agent.wait()
        if getattr(self, "log", None):
            self.log.close()
        self.service.kill()
        self.service.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    # --- helpers ----------------------------------------------------------------------------

    def start_agent(self):
        if getattr(self, "log", None):
            self.log.close()
        self.log = open(os.path.join(self.dir, "agent.log"), "a")
        self.agent = subprocess.Popen([TRIMTAB, "run", self.config, "--create-token"], stderr=self.log,
                                      stdout=self.log, stdin=subprocess.DEVNULL)

    def journal(self):
        return read_journal(self.state)

    def of_type(self, kind, records=None):
        return [r for r in (records if records is not None else self.journal()) if r["type"] == kind]

    def service_config(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/admin/config", timeout=5) as r:
            return json.loads(r.read())

    def post_service(self, path, body=b"{}"):
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=body, method="POST")
        with urllib.request.urlopen(request, timeout=5) as r:
            return json.loads(r.read())

    def cli(self, *args):
        return subprocess.run([TRIMTAB, *args], capture_output=True, text=True, timeout=30)

    def runtime_config(self):
        with open(os.path.join(self.state, "runtime_config.json")) as f:
            return json.load(f)

    def agent_log(self):
        with open(os.path.join(self.dir, "agent.log")) as f:
            return f.read()

    # --- the test ---------------------------------------------------------------------------

    def test_tunes_safely_and_survives_kill_9(self):
        self.start_agent()
        wait_for(lambda: len(self.of_type("decision")) >= 4, 60, "four decisions")

        # Status and control over the control server.
        status = self.cli("status", self.config)
        self.assertEqual(status.returncode, 0, status.stderr)
        self.assertRegex(status.stdout, r"(?m)^phase\s+\w+", status.stdout)
        paused = self.cli("pause", self.config)
        self.assertEqual(paused.returncode, 0, paused.stderr + self.agent_log())
        time.sleep(0.5)
        applied_before = len(self.of_type("applied"))
        time.sleep(2 * WINDOW)
        self.assertEqual(len(self.of_type("applied")), applied_before, "nothing is applied while paused")
        self.assertIn('"paused":true', self.cli("status", self.config, "--json").stdout)
        self.assertEqual(self.cli("resume", self.config).returncode, 0)

        # An injected regression: every configuration but the incumbent's is now slow.
        wait_for(lambda: os.path.exists(os.path.join(self.state, "runtime_config.json")), 30, "runtime_config.json")
        incumbent = self.runtime_config()["point"]
        self.post_service("/admin/poison", json.dumps({"except": incumbent}).encode())
        poisoned_at = time.time() * 1000
        candidate = wait_for(lambda: next((r for r in self.of_type("applied")
                                           if r["time"] > poisoned_at and r["purpose"] == "candidate"), None),
                             30, "a candidate after the regression")
        rollback = wait_for(lambda: next((r for r in self.of_type("applied")
                                          if r["seq"] > candidate["seq"]), None), 30, "the apply after it")
        self.assertEqual(rollback["purpose"], "rollback", "the regressed candidate is rolled back")
        # To the incumbent as it stood then (a window ending just after the poison may have been
        # promoted since runtime_config.json was read).
        current = [r for r in self.of_type("incumbent") if r["seq"] < rollback["seq"]][-1]
        self.assertEqual(rollback["point"], current["point"])
        self.assertLessEqual((rollback["time"] - candidate["time"]) / 1000, WINDOW + 1.0,
                             "rolled back within one window")
        decision = next(r for r in self.of_type("decision") if r["seq"] > candidate["seq"])
        self.assertEqual(decision["verdict"], "rollback")
        self.assertIn("p99_ms <= 250", decision["reason"])
        self.post_service("/admin/poison", json.dumps({"except": None}).encode())

        # kill -9 in the middle of the study, then restart.
        wait_for(lambda: self.of_type("applied")[-1]["purpose"] == "candidate", 30, "a candidate in force")
        records_before = len(self.journal())
        self.agent.send_signal(signal.SIGKILL)
        self.agent.wait()
        last_known_good = self.runtime_config()["point"]
        self.start_agent()
        wait_for(lambda: self.service_config() == last_known_good, 15, "the last known good configuration restored")
        after = self.journal()
        self.assertGreaterEqual(len(after), records_before, "no record lost")
        self.assertEqual([r["seq"] for r in after], list(range(1, len(after) + 1)), "no gap, no duplicate")
        starts = self.of_type("start", after)
        self.assertEqual(len(starts), 2)
        self.assertTrue(starts[1]["resumed"])
        # The "applied" record follows the apply's read-back, so it may land just after the service
        # already shows the configuration (seen under AddressSanitizer).
        restore = wait_for(lambda: next((r for r in self.of_type("applied") if r["seq"] > starts[1]["seq"]), None),
                           15, "the restore's applied record")
        self.assertEqual(restore["purpose"], "restore")

        # The study finishes better than it started.
        wait_for(lambda: self.of_type("done"), 120, "the study to finish")
        records = self.journal()
        baseline = next(r for r in self.of_type("observation", records) if r["purpose"] == "baseline")
        best = self.of_type("done", records)[-1]
        self.assertGreater(best["best_value"], baseline["value"] * 1.1, "the objective improved by more than 10 %")
        self.assertEqual(self.service_config(), best["best"])

        # After the study the agent guards the best: its level journaled, its windows measured again.
        # The guard record is written in the same step as "done" but after it, one fsync later, so
        # a read of the journal can fall between the two (seen in CI).
        guard = wait_for(lambda: self.of_type("guard"), 10, "the best's level when guarding began")
        self.assertEqual(len(guard), 1, "the best's level when guarding began")
        self.assertEqual(guard[0]["point"], best["best"])
        wait_for(lambda: len([r for r in self.of_type("observation") if r.get("guard")]) >= 2, 6 * WINDOW + 10,
                 "two guard windows")
        status = self.cli("status", self.config, "--json")
        self.assertEqual(status.returncode, 0, status.stderr)
        self.assertAlmostEqual(json.loads(status.stdout)["guard"]["reference"], guard[0]["value"])
        self.assertIn("guard: ", self.agent_log())

        # Every apply stayed within the guardrails.
        applied = self.of_type("applied", records)
        previous = {"pool": 8, "batch": 4}
        previous_time = None
        for r in applied:
            point = r["point"]
            self.assertLessEqual(abs(point["pool"] - previous["pool"]), 8, r)
            self.assertLessEqual(abs(point["batch"] - previous["batch"]),
                                 max(1, 0.5 * max(point["batch"], previous["batch"])), r)
            if previous_time is not None:
                self.assertGreaterEqual(r["time"] - previous_time, 500 - 5, r)  # max_updates_per_second: 2
            previous, previous_time = point, r["time"]

        # A clean stop, and the offline report.
        self.agent.send_signal(signal.SIGTERM)
        self.assertEqual(self.agent.wait(timeout=15), 0)
        # --on-exit baseline puts the baseline back when stopped.
        self.log.close()
        self.log = open(os.path.join(self.dir, "agent.log"), "a")
        self.agent = subprocess.Popen([TRIMTAB, "run", self.config, "--on-exit", "baseline"], stderr=self.log,
                                      stdout=self.log, stdin=subprocess.DEVNULL)
        wait_for(lambda: len(self.of_type("start")) == 3, 15, "the third start")
        time.sleep(1)
        self.agent.send_signal(signal.SIGINT)
        self.assertEqual(self.agent.wait(timeout=15), 0)
        self.assertEqual(self.service_config(), {"pool": 8, "batch": 4}, "the baseline is back")

        report = self.cli("report", self.state)
        self.assertEqual(report.returncode, 0, report.stderr)
        with open(os.path.join(self.state, "report.html")) as f:
            html = f.read()
        self.assertIn("<svg", html)


class RunToTheEnd(unittest.TestCase):
    """`trimtab run --exit-when-done`: a short study ends with the same table as `trimtab demo`,
    its claim, and exit status 0; `trimtab status` reads the agent's /status as a summary."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="trimtab-agent-end-")
        self.service, self.port = start_test_service(self.dir)
        self.state = os.path.join(self.dir, "state")
        self.config = os.path.join(self.dir, "tuning.yaml")
        self.control = free_port()
        write_tuning_config(self.config, port=self.port, control=self.control, state=self.state,
                            settle="300ms", duration="1200ms", budget=4)

    def tearDown(self):
        self.service.kill()
        self.service.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_a_study_ends_with_its_summary_and_exits(self):
        agent = subprocess.Popen([TRIMTAB, "run", self.config, "--create-token", "--exit-when-done"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        try:
            wait_for(lambda: any(r["type"] == "start" for r in read_journal(self.state)), 20, "the agent's start")
            status = subprocess.run([TRIMTAB, "status", self.config], capture_output=True, text=True, timeout=30)
            self.assertEqual(status.returncode, 0, status.stderr)
            self.assertRegex(status.stdout, r"(?m)^phase\s+\S+ \(mode apply\)$", status.stdout)
            self.assertRegex(status.stdout, r"(?m)^windows\s+\d+ scored, \d+ of 4 candidates", status.stdout)
            raw = subprocess.run([TRIMTAB, "status", self.config, "--json"], capture_output=True, text=True, timeout=30)
            self.assertEqual(json.loads(raw.stdout)["budget"], 4)
            out, err = agent.communicate(timeout=120)
        finally:
            if agent.poll() is None:
                agent.kill()
                agent.wait()
        self.assertEqual(agent.returncode, 0, err[-3000:])
        records = read_journal(self.state)
        self.assertEqual(len([r for r in records if r["type"] == "done"]), 1)
        claims = [r for r in records if r["type"] == "claim"]
        self.assertEqual(len(claims), 1)
        # The table: the params' defaults and the best, the objective with its change, the claim.
        table = {m.group(1): m.group(2).split() for m in re.finditer(r"^(\w[\w ]*?)\s{2,}(\S.*)$", out, re.M)}
        self.assertEqual(table["pool"][0], "8", out)
        self.assertEqual(table["batch"][0], "4", out)
        self.assertIn("objective", table, out)
        self.assertIn("claimed: ", out)
        self.assertIn("study done; exiting (--exit-when-done)", out)
        # Log lines in words, numbers short.
        self.assertNotRegex(err, r"\d\.\d{9,}", err[-3000:])  # no 16-digit floats
        self.assertNotIn(" vs null", err)


class JournalCompaction(unittest.TestCase):
    """A journal past state.journal_limit_mb after the study (hours of guard windows) is compacted
    when the agent starts: the study kept, the guard's windows cut to the last few, the journal as
    it was kept as journal.jsonl.1, and the agent goes on guarding from the journaled level."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="trimtab-agent-compact-")
        self.service, self.port = start_test_service(self.dir)
        self.state = os.path.join(self.dir, "state")
        self.config = os.path.join(self.dir, "tuning.yaml")
        write_tuning_config(self.config, port=self.port, control=free_port(), state=self.state,
                            settle="300ms", duration="1200ms")
        with open(self.config) as f:
            text = f.read()
        with open(self.config, "w") as f:
            f.write(text.replace(f"state: {{dir: {self.state}}}", f"state: {{dir: {self.state}, journal_limit_mb: 1}}"))

    def tearDown(self):
        self.service.kill()
        self.service.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def write_guarded_journal(self, guard_windows):
        os.makedirs(self.state, mode=0o700)
        baseline, best = {"pool": 8, "batch": 4}, {"pool": 12, "batch": 6}
        records = []

        def record(type_, **fields):
            records.append({"seq": len(records) + 1, "time": 1_700_000_000_000 + 1000 * len(records), "type": type_,
                            **fields})

        def window(point, purpose, value, **more):
            record("observation", point=point, purpose=purpose, value=value, constraints=[-100.0],
                   signals={"rps": value, "p99_ms": 150.0}, samples=5, window=0, sem=2.0, **more)

        record("start", baseline=baseline, enabled=True, mode="apply", resumed=False,
               objective={"direction": "maximize", "expression": "rps"}, constraints=["p99_ms <= 250"])
        window(baseline, "baseline", 100.0)
        record("incumbent", point=baseline, value=100.0, samples_count=5, samples_mean=100.0, samples_variance=4.0)
        record("applied", point=best, purpose="candidate")
        record("observation", point=best, purpose="candidate", value=130.0, constraints=[-100.0],
               signals={"rps": 130.0, "p99_ms": 150.0}, samples=5, window=1, sem=2.0)
        record("decision", point=best, verdict="promote", reason="better", value=130.0, incumbent_value=100.0,
               effect=0.3, p_value=0.001)
        record("incumbent", point=best, value=130.0, samples_count=5, samples_mean=130.0, samples_variance=4.0,
               selected=True)
        record("done", reason="budget", best=best, best_value=130.0)
        record("guard", point=best, value=129.0, sem=1.5, windows=3, constraints=[-100.0], reason="done")
        study_records = len(records)
        for _ in range(guard_windows):
            window(best, "remeasure", 129.0, guard=True)
            record("decision", point=best, verdict="keep", reason="guarding the best: steady", value=129.0,
                   incumbent_value=130.0, effect=0.0, p_value=None, guard=True)
        with open(os.path.join(self.state, "journal.jsonl"), "w") as f:
            for r in records:
                f.write(json.dumps(r, separators=(",", ":")) + "\n")
        return records, study_records

    def test_a_long_guard_is_compacted_at_start(self):
        records, study_records = self.write_guarded_journal(4000)
        path = os.path.join(self.state, "journal.jsonl")
        with open(path) as f:
            original = f.read()
        self.assertGreater(len(original), 1024 * 1024)
        log = open(os.path.join(self.dir, "agent.log"), "w")
        agent = subprocess.Popen([TRIMTAB, "run", self.config, "--create-token"], stdout=log, stderr=log,
                                 stdin=subprocess.DEVNULL)
        try:
            wait_for(lambda: os.path.exists(path + ".1"), 20, "the compaction")
            wait_for(lambda: any(r.get("guard") and r["seq"] > len(records) for r in read_journal(self.state)
                                 if r["type"] == "observation"), 30, "a guard window after the restart")
        finally:
            agent.terminate()
            agent.wait(timeout=15)
            log.close()
        with open(path + ".1") as f:
            self.assertEqual(f.read(), original, "the journal before compaction is kept whole")
        after = read_journal(self.state)
        self.assertEqual(after[0]["type"], "compacted")
        self.assertEqual(after[0]["seq"], 0)
        self.assertLess(os.path.getsize(path), 64 * 1024)
        seqs = [r["seq"] for r in after]
        self.assertEqual(seqs, sorted(set(seqs)), "seqs increase")
        self.assertEqual(seqs[1:study_records + 1], list(range(1, study_records + 1)), "the study kept whole")
        restart = [r for r in after if r["type"] == "start" and r["seq"] > len(records)]
        self.assertEqual(len(restart), 1)
        self.assertGreater(restart[0]["seq"], len(records), "seq goes on after the records compaction dropped")
        with open(os.path.join(self.dir, "agent.log")) as f:
            self.assertIn("journal: compacted from", f.read())


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
