#!/usr/bin/env python3
"""A small service on loopback whose throughput and latency depend on its configuration, for the
agent's integration tests. It simulates its own traffic (no load generator needed), exposes
Prometheus metrics and takes its settings over HTTP:

  GET  /metrics          requests_total (counter), request_duration_seconds (histogram)
  GET  /admin/config     {"pool": 8, "batch": 4}
  PUT  /admin/config     the same shape; 400 for values out of range
  POST /admin/poison     {"except": {...}}: from now on every other configuration is slow (p99 ~ 900 ms);
                         {"except": null} lifts it

Usage: test_service.py PORT_FILE   (listens on an ephemeral port and writes it to PORT_FILE)
"""

import json
import math
import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]
lock = threading.Lock()
config = {"pool": 8, "batch": 4}
poisoned_except = None
requests_total = 0.0
bucket_counts = [0] * (len(BUCKETS) + 1)
duration_sum = 0.0
applies = 0


def rate_of(c):
    # Throughput peaks at pool 40, batch 16.
    return max(50.0, 1000.0 - 0.3 * (c["pool"] - 40) ** 2 - 0.8 * (c["batch"] - 16) ** 2)


def latency_of(c):
    if poisoned_except is not None and c != poisoned_except:
        return 0.9
    return 0.02 + 0.002 * c["batch"] + 2.0 / c["pool"] / 10


def traffic():
    global requests_total, duration_sum
    rng = random.Random(7)
    last = time.monotonic()
    while True:
        time.sleep(0.05)
        now = time.monotonic()
        with lock:
            served = rate_of(config) * (now - last) * (1 + 0.02 * rng.gauss(0, 1))
            requests_total += max(0.0, served)
            for _ in range(20):
                latency = latency_of(config) * math.exp(0.1 * rng.gauss(0, 1))
                duration_sum += latency
                for i, bound in enumerate(BUCKETS):
                    if latency <= bound:
                        bucket_counts[i] += 1
                        break
                else:
                    bucket_counts[-1] += 1
        last = now


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type="application/json"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/metrics":
            with lock:
                lines = ["# TYPE requests_total counter", f"requests_total {requests_total}",
                         "# TYPE request_duration_seconds histogram"]
                cumulative = 0
                for bound, count in zip(BUCKETS + [math.inf], bucket_counts):
                    cumulative += count
                    le = "+Inf" if bound == math.inf else repr(bound)
                    lines.append(f'request_duration_seconds_bucket{{le="{le}"}} {cumulative}')
                lines.append(f"request_duration_seconds_count {cumulative}")
                lines.append(f"request_duration_seconds_sum {duration_sum}")
                lines.append(f"# TYPE test_service_applies_total counter\ntest_service_applies_total {applies}")
            self.reply(200, "\n".join(lines) + "\n", "text/plain; version=0.0.4")
        elif self.path == "/admin/config":
            with lock:
                self.reply(200, json.dumps(config))
        else:
            self.reply(404, "{}")

    def do_PUT(self):
        global applies
        if self.path != "/admin/config":
            return self.reply(404, "{}")
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        for key, low, high in (("pool", 1, 64), ("batch", 1, 32)):
            if not isinstance(body.get(key), int) or not low <= body[key] <= high:
                return self.reply(400, json.dumps({"error": f"{key} must be an int from {low} to {high}"}))
        with lock:
            config.update(body)
            applies += 1
        self.reply(200, json.dumps(config))

    def do_POST(self):
        global poisoned_except
        if self.path == "/admin/poison":
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            with lock:
                poisoned_except = body.get("except")
            return self.reply(200, json.dumps({"poisoned_except": poisoned_except}))
        self.reply(404, "{}")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=traffic, daemon=True).start()
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    server.serve_forever()


if __name__ == "__main__":
    main()
