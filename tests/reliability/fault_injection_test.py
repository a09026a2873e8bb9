#!/usr/bin/env python3
"""Fault injection: `trimtab run` tunes tests/reliability/fault_service.py (two adapters, one per
admin endpoint) while the service's metrics or endpoints misbehave, or the journal's disk fills.
Each case injects one fault into a running agent and checks the guarantee that matters for it:
the agent keeps running and answering, applies nothing unsafe, reverts what it half-applied, and
journals what happened with no record lost.

Prints one line per fault ("fault metrics_down: survived; checked: ...") and a summary line.
Usage: fault_injection_test.py TRIMTAB
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

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "agent"))
from service_harness import free_port, read_journal, stop, wait_for  # noqa: E402

TRIMTAB = sys.argv[1] if len(sys.argv) > 1 else "trimtab"
SURVIVED = []


def read_text(path):
    with open(path, errors="replace") as f:
        return f.read()


def config_text(port, control, state):
    return f"""
target:
  metrics: {{url: "http://127.0.0.1:{port}/metrics", interval: 100ms, timeout: 500ms}}
signals:
  rps: {{rate: requests_total}}
  p99_ms: {{quantile: 0.99, histogram: request_duration_seconds, scale: 1000}}
objective: {{maximize: rps}}
constraints: [p99_ms <= 250]
params:
  pool: {{type: int, min: 1, max: 64, default: 8}}
  batch: {{type: int, min: 1, max: 32, default: 4}}
solver: {{kind: random, budget: 1000, seed: 3}}
window: {{settle: 200ms, duration: 1s, min_samples: 4, remeasure_every: 0}}
guardrails:
  max_delta: {{pool: 8, batch: 4}}
  max_updates_per_second: 20
  min_dwell: 0s
  required_improvement: 5%
  max_rollbacks_per_hour: 10000
adapters:
  - {{name: app, kind: http, url: "http://127.0.0.1:{port}/admin/pool", timeout: 1s, params: [pool]}}
  - {{name: cache, kind: http, url: "http://127.0.0.1:{port}/admin/batch", timeout: 1s, params: [batch]}}
state: {{dir: {state}}}
control: {{listen: "127.0.0.1:{control}"}}
"""


class FaultInjection(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="trimtab-faults-")
        port_file = os.path.join(self.dir, "port")
        self.service = subprocess.Popen([sys.executable, os.path.join(HERE, "fault_service.py"), port_file],
                                        stdin=subprocess.DEVNULL)
        self.addCleanup(stop, self.service)
        self.port = int(wait_for(lambda: os.path.exists(port_file) and read_text(port_file), 10, "the service"))
        self.state = os.path.join(self.dir, "state")
        self.control = free_port()
        self.config = os.path.join(self.dir, "tuning.yaml")
        with open(self.config, "w") as f:
            f.write(config_text(self.port, self.control, self.state))
        self.log = open(os.path.join(self.dir, "agent.log"), "a")
        self.addCleanup(self.log.close)
        self.agent = subprocess.Popen([TRIMTAB, "run", self.config], stdout=self.log, stderr=self.log,
                                      stdin=subprocess.DEVNULL)
        self.addCleanup(stop, self.agent)
        self.addCleanup(shutil.rmtree, self.dir, True)

    # --- helpers ----------------------------------------------------------------------------

    def get(self, url, timeout=5):
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return json.loads(r.read())

    def fault(self, **modes):
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/admin/fault", data=json.dumps(modes).encode(),
                                         method="POST")
        with urllib.request.urlopen(request, timeout=5) as r:
            return json.loads(r.read())

    def service_config(self):
        return self.get(f"http://127.0.0.1:{self.port}/admin/config")

    def status(self):
        started = time.monotonic()
        status = self.get(f"http://127.0.0.1:{self.control}/status", timeout=2)
        return status, time.monotonic() - started

    def journal(self):
        return read_journal(self.state)

    def of_type(self, kind, records=None):
        return [r for r in (records if records is not None else self.journal()) if r["type"] == kind]

    def wait_tuning(self):
        """Until a candidate has been applied and decided: the loop is in its stride."""
        wait_for(lambda: any(d["verdict"] in ("keep", "promote", "rollback") and d["point"] != {"pool": 8, "batch": 4}
                             for d in self.of_type("decision")), 30, "a decided candidate")

    def alive(self):
        self.assertIsNone(self.agent.poll(), "the agent exited; its log:\n" + read_text(self.log.name)[-3000:])
        status, seconds = self.status()
        self.assertLess(seconds, 1.0, "/status took long: the reactor is blocked")
        return status

    def check_journal_whole(self):
        records = self.journal()
        self.assertEqual([r["seq"] for r in records], list(range(1, len(records) + 1)), "a gap or a repeat in seq")
        announced = set()
        for r in records:
            if r["type"] == "apply":
                announced.add(json.dumps(r["point"], sort_keys=True))
            if r["type"] == "applied":
                self.assertIn(json.dumps(r["point"], sort_keys=True), announced, "an apply without its record")
        return records

    def survived(self, name, checked):
        self.alive()
        self.check_journal_whole()
        line = f"fault {name}: survived; checked: {checked}"
        print(line, file=sys.stderr)
        SURVIVED.append(name)

    def hold_while_blind(self, name, mode, checked_extra=""):
        """Metrics that cannot be read: no candidate is applied while blind, tuning resumes after."""
        self.wait_tuning()
        self.fault(metrics=mode)
        time.sleep(3)  # a window without data, then the agent holds the incumbent
        records = self.journal()
        candidates_at = len([r for r in self.of_type("applied", records) if r["purpose"] == "candidate"])
        promotions_at = len([d for d in self.of_type("decision", records) if d["verdict"] == "promote"])
        status = self.alive()
        time.sleep(4)
        records = self.journal()
        self.assertEqual(len([r for r in self.of_type("applied", records) if r["purpose"] == "candidate"]), candidates_at,
                         "a candidate was applied while the agent could not see the service")
        self.assertEqual(len([d for d in self.of_type("decision", records) if d["verdict"] == "promote"]), promotions_at)
        incumbent = self.of_type("incumbent", records)[-1]["point"]
        config = self.service_config()
        self.assertEqual({"pool": config["pool"], "batch": config["batch"]}, incumbent,
                         "the last known good configuration is not in force")
        self.fault(metrics="ok")
        wait_for(lambda: len([r for r in self.of_type("applied") if r["purpose"] == "candidate"]) > candidates_at, 30,
                 "tuning to resume once the metrics are back")
        self.survived(name, "no candidate applied and nothing promoted while blind; the incumbent held; "
                            "tuning resumed when the metrics came back" + checked_extra)
        return status

    def failed_apply_reverts(self, name, batch_mode, error_pattern, checked):
        self.wait_tuning()
        before = self.service_config()
        failures_at = len(self.of_type("apply_failed"))
        self.fault(batch=batch_mode)
        # The next apply that changes batch fails; the pool adapter (changed first) is put back.
        failed = wait_for(lambda: [r for r in self.of_type("apply_failed")[failures_at:]
                                   if r["point"]["batch"] != before["batch"]], 40, "an apply to fail")[0]
        self.fault(batch="ok")
        self.assertRegex(failed["error"], error_pattern)
        records = self.journal()
        applied_before = [r for r in self.of_type("applied", records) if r["seq"] < failed["seq"]][-1]["point"]
        if failed["point"]["pool"] != applied_before["pool"]:
            self.assertRegex(failed["error"], r"reverted( '\w+')* 'app'")
        config = self.service_config()
        # Nothing else was applied in between (the next apply waits for the failure's backoff).
        later = [r for r in self.of_type("applied", records) if r["seq"] > failed["seq"]]
        if not later:
            self.assertEqual({"pool": config["pool"], "batch": config["batch"]}, applied_before,
                             "the service is not back on what was in force before the failed apply")
        self.survived(name, checked)

    # --- the faults -------------------------------------------------------------------------

    def test_metrics_down(self):
        self.hold_while_blind("metrics_down", "down")
        self.assertGreater(self.alive()["scrapes"]["failed"], 0)

    def test_metrics_slow_beyond_the_timeout(self):
        self.hold_while_blind("metrics_slow", "slow", "; /status answered within 1 s throughout")

    def test_metrics_garbage(self):
        self.hold_while_blind("metrics_garbage", "garbage")

    def test_metrics_nan(self):
        self.hold_while_blind("metrics_nan", "nan")
        for r in self.of_type("observation"):
            if "value" in r:
                self.assertTrue(isinstance(r["value"], (int, float)) and r["value"] == r["value"])

    def test_counter_goes_backwards(self):
        self.wait_tuning()
        seq_at = self.journal()[-1]["seq"]
        self.fault(metrics="backwards")
        wait_for(lambda: len([r for r in self.of_type("observation") if r["seq"] > seq_at]) >= 4, 30,
                 "four windows after the counter reset")
        for r in self.of_type("observation"):
            rps = r["signals"].get("rps")
            self.assertTrue(rps is None or rps >= 0, f"a negative rate after a counter reset: {r}")
        self.survived("counter_backwards", "no window scored a negative rate; windows went on being decided")

    def test_adapter_times_out(self):
        self.failed_apply_reverts("adapter_timeout", "hang", r"no answer within|timed out",
                                  "the apply failed within the adapter's timeout, the adapter changed before it was "
                                  "reverted, the service runs what was in force")

    def test_adapter_fails_halfway(self):
        self.failed_apply_reverts("adapter_fails_halfway", "fail", r"HTTP 500",
                                  "the first adapter's change was reverted when the second failed; the journal names it")

    def test_adapter_reports_success_without_changing_anything(self):
        self.failed_apply_reverts("adapter_lies", "lie", r"reported success but reads back batch=",
                                  "the read-back caught the unchanged setting; the apply failed and was reverted")

    def test_disk_full_while_journaling(self):
        self.wait_tuning()
        journal = os.path.join(self.state, "journal.jsonl")
        size = os.path.getsize(journal)
        # The soft limit only ("N:"), so that it can be lifted again without CAP_SYS_RESOURCE.
        subprocess.run(["prlimit", f"--pid={self.agent.pid}", f"--fsize={size + 2048}:"], check=True)
        wait_for(lambda: "journal_error" in self.status()[0], 30, "the journal to refuse a record")
        time.sleep(2)
        config_while_full = self.service_config()
        records = self.check_journal_whole()
        time.sleep(3)
        self.alive()
        self.assertEqual(self.service_config(), config_while_full,
                         "the service changed while nothing could be journaled")
        self.assertEqual(len(self.journal()), len(records), "the journal grew past its limit")
        # The refused applies put the loop in safe mode, where it records nothing new for a while:
        # the waiting records must reach the disk on their own once space comes back.
        wait_for(lambda: self.alive()["safe_mode"], 30, "safe mode after the refused applies")
        subprocess.run(["prlimit", f"--pid={self.agent.pid}", "--fsize=unlimited:"], check=True)
        wait_for(lambda: len(self.journal()) > len(records) + 3 and "journal_error" not in self.status()[0], 30,
                 "journaling to resume")
        resumed = self.check_journal_whole()
        self.assertTrue(self.of_type("safe_mode", resumed), "the safe_mode record waiting in memory was lost")
        self.survived("disk_full", "no apply while its record could not be written; no torn or lost record; "
                                   "the waiting records were written once space came back, seq without a gap")


def tearDownModule():
    print(f"fault injection: {len(SURVIVED)} faults injected, {len(SURVIVED)} survived: {', '.join(sorted(SURVIVED))}",
          file=sys.stderr)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
