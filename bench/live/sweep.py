"""The sweep: every grid point measured on the live demo service, the way a trimtab window measures it.

`trimtab_demo_service --rate R` runs the service with its built-in load (the same service, load
generator and rate as `trimtab demo`). For each point the sweep PUTs the knobs to /admin/config,
waits `settle`, scrapes /metrics, waits `duration`, scrapes again, and computes bench.yaml's signals
from the two scrapes exactly as trimtab does over a window (rates and ratios from the first and last
scrape, the p99 from histogram bucket deltas with Prometheus' interpolation).

Overload leaves state behind: a configuration that falls behind fills the service's queue and the
load generator's backlog, which then arrive as a burst at the next configuration. So after a point
that broke a constraint the sweep applies a known good recovery configuration and waits until the
service answers at the offered rate with an empty queue before it moves on; every point starts from
a drained service. (The agents' windows get no such courtesy: that is part of what they face.)"""

import json
import math
import os
import subprocess
import tempfile
import time
import urllib.request

OUTCOMES = ("hit", "miss", "timeout", "rejected")
FAILED = ("timeout", "rejected")


def parse_metrics(text):
    """The few series the signals use, from Prometheus text."""
    out = {"requests": {}, "buckets": [], "sum": 0.0, "queue": 0.0}
    for line in text.splitlines():
        if not line or line[0] == "#":
            continue
        name_labels, _, value = line.rpartition(" ")
        value = float(value)
        if name_labels.startswith("demo_requests_total{"):
            outcome = name_labels.split('outcome="', 1)[1].split('"', 1)[0]
            out["requests"][outcome] = value
        elif name_labels.startswith("demo_request_duration_seconds_bucket{"):
            le = name_labels.split('le="', 1)[1].split('"', 1)[0]
            out["buckets"].append((math.inf if le == "+Inf" else float(le), value))
        elif name_labels == "demo_request_duration_seconds_sum":
            out["sum"] = value
        elif name_labels == "demo_queue_depth":
            out["queue"] = value
    out["buckets"].sort()
    return out


def histogram_quantile(q, buckets):
    """Prometheus' histogram_quantile over cumulative (upper bound, count) pairs, as trimtab reads it:
    linear interpolation inside the bucket, the first bucket starting at 0, a rank in +Inf giving the
    highest finite bound. None without observations."""
    if len(buckets) < 2 or buckets[-1][1] <= 0:
        return None
    rank = q * buckets[-1][1]
    for b, (bound, count) in enumerate(buckets):
        if count >= rank:
            break
    if b == len(buckets) - 1:
        return buckets[b - 1][0]
    start, below = (0.0, 0.0) if b == 0 else buckets[b - 1]
    inside = count - below
    if inside <= 0:
        return bound
    return start + (bound - start) * (rank - below) / inside


def signals(first, last, seconds):
    """bench.yaml's signals over the window between two scrapes."""
    total = sum(last["requests"].get(o, 0) - first["requests"].get(o, 0) for o in OUTCOMES)
    failed = sum(last["requests"].get(o, 0) - first["requests"].get(o, 0) for o in FAILED)
    deltas = [(b, c - c0) for (b, c), (_, c0) in zip(last["buckets"], first["buckets"])]
    p99 = histogram_quantile(0.99, deltas)
    return {
        "rps": total / seconds,
        "error_ratio": failed / total if total > 0 else None,
        "latency_ms": (last["sum"] - first["sum"]) / total * 1000 if total > 0 else None,
        "p99_ms": p99 * 1000 if p99 is not None else None,
        "queue": last["queue"],
    }


def feasible(measured, max_p99_ms=100.0, max_error_ratio=0.01):
    """bench.yaml's constraints: p99_ms <= 100 and error_ratio <= 0.01 (a missing value breaks them)."""
    return (measured["latency_ms"] is not None and measured["p99_ms"] is not None
            and measured["error_ratio"] is not None
            and measured["p99_ms"] <= max_p99_ms and measured["error_ratio"] <= max_error_ratio)


class DemoService:
    """trimtab_demo_service with its built-in load, in a child process, on a free loopback port."""

    def __init__(self, binary, rate):
        self.rate = rate
        self.directory = tempfile.TemporaryDirectory(prefix="trimtab-live-sweep-")
        port_file = os.path.join(self.directory.name, "port")
        self.process = subprocess.Popen([binary, "--port", "0", "--rate", str(rate), "--port-file", port_file],
                                        stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while not os.path.exists(port_file):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"{binary} did not start")
            time.sleep(0.05)
        with open(port_file) as f:
            self.base = f"http://127.0.0.1:{int(f.read())}"

    def apply(self, point):
        body = json.dumps({k: (int(v) if float(v) == int(v) else float(v)) for k, v in point.items()}).encode()
        request = urllib.request.Request(self.base + "/admin/config", data=body, method="PUT",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as response:
            response.read()

    def scrape(self):
        with urllib.request.urlopen(self.base + "/metrics", timeout=5) as response:
            text = response.read().decode()
        return time.monotonic(), parse_metrics(text)

    def close(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.directory.cleanup()


class Sweeper:
    """Measures points one after the other on one service."""

    def __init__(self, service, settle, duration, recovery_point, log):
        self.service = service
        self.settle = settle
        self.duration = duration
        self.recovery_point = recovery_point
        self.log = log
        self.previous_feasible = True

    def drain(self, limit=8.0):
        """After an overloaded point: the recovery configuration until two consecutive half-second
        intervals show an empty queue and no burst (the load generator's backlog drained: answers at
        no more than 15 % above the offered rate), at most `limit` seconds. Returns the seconds."""
        self.service.apply(self.recovery_point)
        started = time.monotonic()
        t0, s0 = self.service.scrape()
        calm = 0
        while time.monotonic() - started < limit:
            time.sleep(0.5)
            t1, s1 = self.service.scrape()
            interval = signals(s0, s1, t1 - t0)
            calm = calm + 1 if interval["rps"] <= 1.15 * self.service.rate and interval["queue"] < 50 else 0
            if calm >= 2:
                break
            t0, s0 = t1, s1
        else:
            self.log(f"sweep: the service did not calm down within {limit:.0f} s of recovery; measuring anyway")
        return time.monotonic() - started

    def measure(self, point):
        """One window at `point`: its signals, and whether it meets the constraints."""
        recovery = 0.0 if self.previous_feasible else self.drain()
        self.service.apply(point)
        time.sleep(self.settle)
        t0, first = self.service.scrape()
        load_before = os.getloadavg()[0]
        time.sleep(self.duration)
        t1, last = self.service.scrape()
        measured = signals(first, last, t1 - t0)
        measured["loadavg"] = (load_before + os.getloadavg()[0]) / 2
        measured["feasible"] = feasible(measured)
        measured["recovery_s"] = recovery
        self.previous_feasible = measured["feasible"]
        return measured
