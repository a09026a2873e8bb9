#!/usr/bin/env python3
"""End-to-end test of `trimtab probe`: --file, and a tuning config's live target.

Usage: probe_test.py TRIMTAB DATA_DIR"""

import http.server
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

TRIMTAB = sys.argv[1] if len(sys.argv) > 1 else "trimtab"
DATA = sys.argv[2] if len(sys.argv) > 2 else "tests/data"


def probe(*args):
    return subprocess.run([TRIMTAB, "probe", *args], capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=30)


class Probe(unittest.TestCase):
    def test_lists_families_with_types_and_counts(self):
        result = probe("--file", os.path.join(DATA, "service.prom"))
        self.assertEqual(result.returncode, 0, result.stderr)
        rows = [line.split() for line in result.stdout.splitlines()[1:-1]]
        self.assertEqual(rows, [["http_requests_total", "counter", "2"],
                                ["http_request_duration_seconds", "histogram", "5"],
                                ["process_resident_memory_bytes", "gauge", "1"],
                                ["pool_busy", "untyped", "1"]])
        self.assertTrue(result.stdout.splitlines()[-1].startswith("4 families, 9 samples"))

    def test_malformed_lines_are_located_and_exit_2(self):
        path = os.path.join(DATA, "malformed.prom")
        result = probe("--file", path)
        self.assertEqual(result.returncode, 2)
        self.assertIn(f"{path}:2:5: expected a number", result.stderr)
        self.assertIn("2 families, 2 samples", result.stdout)  # the lines around it still count

    def test_usage_errors(self):
        self.assertEqual(probe().returncode, 1)
        self.assertEqual(probe("--file", "/nonexistent.prom").returncode, 1)
        self.assertEqual(probe("--file", os.path.join(DATA, "service.prom"), "--format", "influx").returncode, 1)
        self.assertEqual(probe("--file", os.path.join(DATA, "service.prom"), "--scrapes", "5").returncode, 1)
        self.assertEqual(probe("a.yaml", "--file", os.path.join(DATA, "service.prom")).returncode, 1)
        self.assertEqual(probe("a.yaml", "--scrapes", "1").returncode, 1)
        self.assertEqual(probe("a.yaml", "b.yaml").returncode, 1)


# A service whose counters grow at known rates: requests_total{code="200"} is 100 * t and
# requests_total{code="500"} is 1 * t, t being seconds of time.monotonic() since the server
# started, so the probe's rates are 100/s and 1/s whenever it scrapes.
class Service(http.server.BaseHTTPRequestHandler):
    started = 0.0
    bodies = []  # the size of each body served, in order
    json = False

    def do_GET(self):
        t = time.monotonic() - self.started
        if self.path != "/metrics":
            self.send_error(404)
            return
        if self.json:
            body = '{"stats": {"requests": %.6f, "in_flight": 7}}' % (100 * t)
            content_type = "application/json"
        else:
            body = ("# TYPE requests_total counter\n"
                    'requests_total{code="200"} %.6f\n'
                    'requests_total{code="500"} %.6f\n'
                    "# TYPE in_flight gauge\n"
                    "in_flight 7\n"
                    "# TYPE cache_total counter\n"
                    'cache_total{result="hit"} 40\n'
                    'cache_total{result="miss"} 2\n') % (100 * t, t)
            content_type = "text/plain; version=0.0.4"
        data = body.encode()
        self.bodies.append(len(data))
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


CONFIG = """\
target:
  metrics: {{url: "{url}", interval: 200ms, timeout: 2s{format}}}
signals:
{signals}
objective: {{maximize: {objective}}}
constraints:
{constraints}
params:
  pool_size: {{type: int, min: 1, max: 10}}
adapters:
  - {{name: app, kind: http, params: [pool_size]}}
"""

SIGNALS = """\
  rps:         {rate: requests_total, match: {code: "~2.."}}
  errors:      {rate: requests_total, match: {code: "~5.."}}
  in_flight:   {gauge: in_flight}
  error_ratio: {ratio: [errors, rps]}"""


class LiveProbe(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.server = None

    def tearDown(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
        self.dir.cleanup()

    def serve(self, json=False):
        handler = type("Handler", (Service,), {"started": time.monotonic(), "bodies": [], "json": json})
        self.server = http.server.HTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.handler = handler
        return f"http://127.0.0.1:{self.server.server_address[1]}/metrics"

    def config(self, url, signals=SIGNALS, objective="rps - 10 * errors",
               constraints="  - in_flight <= 10\n  - error_ratio < 0.001", format=""):
        path = os.path.join(self.dir.name, "tuning.yaml")
        with open(path, "w") as f:
            f.write(CONFIG.format(url=url, signals=signals, objective=objective, constraints=constraints,
                                  format=format))
        return path

    @staticmethod
    def table(stdout):
        """signal name -> the rest of its row, from the table after the scrape lines."""
        rows = {}
        for line in stdout.splitlines():
            m = re.match(r"^(\w+) +(rate|gauge|quantile|ratio) +(.*)$", line)
            if m:
                rows[m.group(1)] = (m.group(2), m.group(3))
        return rows

    def test_rates_gauges_objective_and_constraints(self):
        url = self.serve()
        result = probe(self.config(url), "--scrapes", "3")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

        # One line per scrape with its time and the size of the body served.
        scrapes = re.findall(r"^scrape (\d)/3: at ([\d.]+) s, took ([\d.]+) ms, (\d+) bytes$", result.stdout, re.M)
        self.assertEqual([int(s[0]) for s in scrapes], [1, 2, 3], result.stdout)
        self.assertEqual([int(s[3]) for s in scrapes], self.handler.bodies)
        times = [float(s[1]) for s in scrapes]
        for earlier, later in zip(times, times[1:]):
            self.assertAlmostEqual(later - earlier, 0.2, delta=0.1)  # target.interval apart

        rows = self.table(result.stdout)
        self.assertEqual(set(rows), {"rps", "errors", "in_flight", "error_ratio"}, result.stdout)
        self.assertEqual(rows["rps"][0], "rate")
        self.assertAlmostEqual(float(rows["rps"][1]), 100.0, delta=10.0)
        self.assertAlmostEqual(float(rows["errors"][1]), 1.0, delta=0.1)
        self.assertEqual(rows["in_flight"], ("gauge", "7"))
        self.assertAlmostEqual(float(rows["error_ratio"][1]), 0.01, delta=1e-6)

        objective = re.search(r"^objective +maximize rps - 10 \* errors = ([\d.]+)$", result.stdout, re.M)
        self.assertIsNotNone(objective, result.stdout)
        self.assertAlmostEqual(float(objective.group(1)), 90.0, delta=9.0)
        self.assertRegex(result.stdout, r"(?m)^constraint +in_flight <= 10: 7 <= 10, holds$")
        violated = re.search(r"(?m)^constraint +error_ratio < 0.001: ([\d.e-]+) < 0.001, violated$", result.stdout)
        self.assertIsNotNone(violated, result.stdout)
        self.assertAlmostEqual(float(violated.group(1)), 0.01, delta=1e-6)

    def test_json_target(self):
        url = self.serve(json=True)
        signals = ("  rps: {rate: stats.requests}\n  in_flight: {gauge: stats.in_flight}\n  busy: {gauge: stats.busy}\n"
                   "  restarts: {rate: stats.restarts}")
        result = probe(self.config(url, signals=signals, objective="rps", constraints="  - in_flight < 8",
                                   format=", format: json"), "--scrapes", "2")
        self.assertEqual(result.returncode, 4, result.stdout + result.stderr)
        rows = self.table(result.stdout)
        self.assertAlmostEqual(float(rows["rps"][1]), 100.0, delta=10.0)
        self.assertEqual(rows["in_flight"], ("gauge", "7"))
        self.assertTrue(rows["busy"][1].startswith("no value: (stats.busy): "), rows["busy"])
        self.assertTrue(rows["restarts"][1].startswith("no value: (stats.restarts): "), rows["restarts"])
        self.assertRegex(result.stdout, r"(?m)^constraint +in_flight < 8: 7 < 8, holds$")

    def test_a_ratio_over_no_traffic_cannot_be_judged_yet(self):
        # No cache traffic between the scrapes: hits and misses are both 0/s, so the hit ratio is
        # 0 / 0. The probe says so rather than printing "-nan >= 0.7".
        url = self.serve()
        signals = SIGNALS + ('\n  hits: {rate: cache_total, match: {result: hit}}'
                             '\n  misses: {rate: cache_total, match: {result: miss}}')
        result = probe(self.config(url, signals=signals, constraints="  - hits / (hits + misses) >= 0.7"))
        self.assertNotIn("nan", result.stdout.lower(), result.stdout)
        self.assertRegex(result.stdout, r"(?m)^constraint +hits / \(hits \+ misses\) >= 0.7: cannot be judged yet: "
                                        r"its left side has no value \(no traffic between the two scrapes\?\)$")
        rows = self.table(result.stdout)
        self.assertEqual(rows["hits"], ("rate", "0"))

    def test_a_signal_without_series_has_no_value_and_exits_4(self):
        url = self.serve()
        signals = SIGNALS + ('\n  missing: {gauge: in_fligth}'
                             '\n  teapots: {rate: requests_total, match: {code: "418"}}')
        result = probe(self.config(url, signals=signals, objective="rps - missing", constraints="  - teapots < 1"))
        self.assertEqual(result.returncode, 4, result.stdout + result.stderr)
        rows = self.table(result.stdout)
        self.assertEqual(rows["missing"], ("gauge", "no value: no series named in_fligth in 3 scrapes "
                                                    "(did you mean 'in_flight'?)"))
        self.assertEqual(rows["teapots"], ("rate", 'no value: no series matched requests_total{code="418"}'))
        self.assertAlmostEqual(float(rows["rps"][1]), 100.0, delta=10.0)  # the others still print
        self.assertRegex(result.stdout, r"(?m)^objective +maximize rps - missing: cannot evaluate "
                                        r"\(missing has no value\)$")
        self.assertRegex(result.stdout, r"(?m)^constraint +teapots < 1: cannot evaluate \(teapots has no value\)$")

    def test_an_unreachable_target_exits_3_naming_the_url(self):
        with socket.socket() as s:  # a port nothing listens on
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        url = f"http://127.0.0.1:{port}/metrics"
        result = probe(self.config(url))
        self.assertEqual(result.returncode, 3, result.stdout + result.stderr)
        self.assertIn(f"GET {url}: connect: Connection refused", result.stderr)

    def test_an_http_error_exits_3(self):
        url = self.serve().replace("/metrics", "/nothing")
        result = probe(self.config(url))
        self.assertEqual(result.returncode, 3, result.stdout + result.stderr)
        self.assertIn(f"GET {url}: HTTP 404", result.stderr)

    def test_a_config_mistake_exits_2(self):
        path = self.config("http://127.0.0.1:1/metrics", objective="rps - 10 * erors")
        result = probe(path)
        self.assertEqual(result.returncode, 2, result.stdout + result.stderr)
        self.assertIn(path + ":", result.stderr)
        self.assertIn("erors", result.stderr)
        self.assertEqual(probe(os.path.join(self.dir.name, "missing.yaml")).returncode, 2)

    def test_several_sources_print_per_source(self):
        url = self.serve()
        side = os.path.join(self.dir.name, "side.prom")
        with open(side, "w") as f:
            f.write("# TYPE in_flight gauge\nin_flight 3\n# TYPE queue_depth gauge\nqueue_depth 11\n")
        path = os.path.join(self.dir.name, "sources.yaml")
        with open(path, "w") as f:
            f.write(f"""
target:
  metrics:
    - {{name: app, url: "{url}", interval: 100ms}}
    - {{name: side, url: "file://{side}"}}
signals:
  rps: {{rate: requests_total, match: {{code: "~2.."}}}}
  in_flight: {{gauge: in_flight}}
  side_in_flight: {{gauge: in_flight, source: side}}
  queue: {{gauge: queue_depth, source: side}}
  missing: {{gauge: in_fligth, source: side}}
objective: {{maximize: rps}}
params:
  pool_size: {{type: int, min: 1, max: 64}}
adapters:
  - {{name: app, kind: http, params: [pool_size]}}
""")
        result = probe(path, "--scrapes", "2")
        self.assertEqual(result.returncode, 4, result.stdout + result.stderr)
        self.assertIn(f"probing 2 sources (app: {url} (prometheus), side: file://{side} (prometheus))", result.stdout)
        self.assertRegex(result.stdout, r"(?m)^scrape 1/2: at [\d.]+ s\n  app: took [\d.]+ ms, \d+ bytes\n"
                                        r"  side: took [\d.]+ ms, \d+ bytes$")
        rows = self.table(result.stdout)
        # The same name in two sources: each signal reads its own.
        self.assertEqual(rows["in_flight"], ("gauge", "7"))
        self.assertEqual(rows["side_in_flight"], ("gauge", "3"))
        self.assertEqual(rows["queue"], ("gauge", "11"))
        self.assertEqual(rows["missing"], ("gauge", "no value: no series named in_fligth in 2 scrapes of source 'side' "
                                                    "(did you mean 'in_flight'?)"))

        os.unlink(side)
        result = probe(path, "--scrapes", "2")
        self.assertEqual(result.returncode, 3, result.stdout + result.stderr)
        self.assertIn(f"cannot scrape a source: source 'side': read file://{side}: No such file or directory", result.stderr)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
