#!/usr/bin/env python3
"""`trimtab run` with two metrics sources: the test service's /metrics (the first) and a file the
test writes (a second exporter, say), whose series share a name with the service's. One window is
scored from both; a signal with `source:` reads only its source's series; a source that fails is
named in /status, and no window is scored while it is down.

Usage: metrics_sources_test.py TRIMTAB
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

from service_harness import free_port, read_journal, start_test_service, stop, wait_for

TRIMTAB = sys.argv[1] if len(sys.argv) > 1 else "trimtab"


class MetricsSources(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="trimtab-sources-")
        self.service, self.port = start_test_service(self.dir)
        self.state = os.path.join(self.dir, "state")
        self.side = os.path.join(self.dir, "side.prom")
        self.control = free_port()
        self.stopped = threading.Event()
        self.count = 0
        self.write_side()
        # The side source's counter grows by 50 every 100 ms: 500/s, whatever the service does.
        self.writer = threading.Thread(target=self.keep_writing, daemon=True)
        self.writer.start()
        self.config = os.path.join(self.dir, "tuning.yaml")
        with open(self.config, "w") as f:
            f.write(f"""
target:
  metrics:
    - {{name: app, url: "http://127.0.0.1:{self.port}/metrics", interval: 200ms, timeout: 1s}}
    - {{name: side, url: "file://{self.side}"}}
signals:
  rps: {{rate: requests_total}}
  side_rps: {{rate: requests_total, source: side}}
  queue: {{gauge: queue_depth, source: side, reduce: last}}
objective: {{maximize: rps}}
params:
  pool: {{type: int, min: 1, max: 64, default: 8}}
  batch: {{type: int, min: 1, max: 32, default: 4}}
solver: {{kind: bayes, budget: 50, seed: 1}}
window: {{settle: 200ms, duration: 1200ms, min_samples: 4, remeasure_every: 0}}
guardrails: {{max_updates_per_second: 5, min_dwell: 0s, max_rollbacks_per_hour: 100}}
adapters:
  - {{name: app, kind: http, url: "http://127.0.0.1:{self.port}/admin/config", params: [pool, batch]}}
state: {{dir: {self.state}}}
control: {{listen: "127.0.0.1:{self.control}"}}
""")
        self.agent = None
        self.log = None

    def write_side(self):
        temporary = self.side + ".tmp"
        with open(temporary, "w") as f:
            f.write(f"# TYPE requests_total counter\nrequests_total {self.count}\n# TYPE queue_depth gauge\nqueue_depth 42\n")
        os.rename(temporary, self.side)

    def keep_writing(self):
        while not self.stopped.wait(0.1):
            self.count += 50
            if os.path.exists(self.side):
                self.write_side()

    def tearDown(self):
        self.stopped.set()
        self.writer.join()
        if self.agent:
            stop(self.agent)
        if self.log:
            self.log.close()
        stop(self.service)
        shutil.rmtree(self.dir, ignore_errors=True)

    def status(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.control}/status", timeout=5) as r:
            return json.loads(r.read())

    def observations(self):
        return [r for r in read_journal(self.state) if r["type"] == "observation" and "value" in r]

    def test_one_window_from_two_sources(self):
        self.log = open(os.path.join(self.dir, "agent.log"), "w")
        self.agent = subprocess.Popen([TRIMTAB, "run", self.config], stdout=self.log, stderr=self.log,
                                      stdin=subprocess.DEVNULL)
        first = wait_for(lambda: self.observations(), 20, "a scored window")[0]
        signals = first["signals"]
        # Each signal read its own source: the side file's counter, not the service's.
        self.assertAlmostEqual(signals["side_rps"], 500.0, delta=150.0)
        self.assertEqual(signals["queue"], 42.0)
        self.assertGreater(signals["rps"], 0.0)
        self.assertNotAlmostEqual(signals["rps"], signals["side_rps"], delta=1.0)

        # The side source goes away: /status names it, and no window is scored meanwhile.
        self.stopped.set()
        self.writer.join()
        os.unlink(self.side)
        failing = wait_for(lambda: (lambda s: s if "source 'side'" in s["scrapes"]["last_error"] else None)(self.status()),
                           10, "the failing source in /status")
        self.assertIn(f"source 'side': read file://{self.side}: No such file or directory", failing["scrapes"]["last_error"])
        failed_before = failing["scrapes"]["failed"]
        time.sleep(1.0)  # a window that began before is still decided; wait past it
        scored = len(self.observations())
        time.sleep(3.0)  # more than two windows
        self.assertEqual(len(self.observations()), scored, "no window is scored from one source alone")
        self.assertGreater(self.status()["scrapes"]["failed"], failed_before)
        self.assertIsNone(self.agent.poll())
        with open(os.path.join(self.dir, "agent.log")) as f:
            self.assertIn("scrape failed: source 'side'", f.read())

        # Back again: windows are scored again.
        self.write_side()
        self.stopped.clear()
        self.writer = threading.Thread(target=self.keep_writing, daemon=True)
        self.writer.start()
        wait_for(lambda: len(self.observations()) > scored, 20, "a window scored after the source returned")


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
