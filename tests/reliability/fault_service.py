#!/usr/bin/env python3
"""A loopback service for the fault-injection suite: the test service's model (throughput peaks at
pool 40, batch 16) behind two admin endpoints, so an apply spans two adapters, and a fault switch
for its metrics and each endpoint.

  GET  /metrics               requests_total (counter), request_duration_seconds (histogram)
  GET  /admin/pool            {"pool": 8}          PUT the same shape
  GET  /admin/batch           {"batch": 4}         PUT the same shape
  GET  /admin/config          {"pool": 8, "batch": 4, "puts": {"pool": n, "batch": m}}
  POST /admin/fault           {"metrics": MODE, "pool": MODE, "batch": MODE}; missing keys keep theirs
     metrics MODE: ok | down (connection closed) | slow (answers after 5 s) | garbage | nan |
                   backwards (the counter restarts from 0, as after a crash)
     endpoint MODE: ok | fail (HTTP 500) | hang (answers after 30 s) | lie (200, changes nothing)

Usage: fault_service.py PORT_FILE
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
puts = {"pool": 0, "batch": 0}
faults = {"metrics": "ok", "pool": "ok", "batch": "ok"}
requests_total = 0.0
bucket_counts = [0] * (len(BUCKETS) + 1)
duration_sum = 0.0


def rate_of(c):
    return max(50.0, 1000.0 - 0.3 * (c["pool"] - 40) ** 2 - 0.8 * (c["batch"] - 16) ** 2)


def traffic():
    global requests_total, duration_sum
    rng = random.Random(11)
    last = time.monotonic()
    while True:
        time.sleep(0.05)
        now = time.monotonic()
        with lock:
            requests_total += max(0.0, rate_of(config) * (now - last) * (1 + 0.02 * rng.gauss(0, 1)))
            for _ in range(20):
                latency = (0.02 + 0.002 * config["batch"]) * math.exp(0.1 * rng.gauss(0, 1))
                duration_sum += latency
                for i, bound in enumerate(BUCKETS):
                    if latency <= bound:
                        bucket_counts[i] += 1
                        break
                else:
                    bucket_counts[-1] += 1
        last = now


def exposition():
    with lock:
        total = requests_total
        if faults["metrics"] == "nan":
            total = float("nan")
        lines = ["# TYPE requests_total counter", f"requests_total {total}",
                 "# TYPE request_duration_seconds histogram"]
        cumulative = 0
        for bound, count in zip(BUCKETS, bucket_counts):
            cumulative += count
            lines.append(f'request_duration_seconds_bucket{{le="{bound}"}} {cumulative}')
        cumulative += bucket_counts[-1]
        lines.append(f'request_duration_seconds_bucket{{le="+Inf"}} {cumulative}')
        lines.append(f"request_duration_seconds_count {cumulative}")
        lines.append(f"request_duration_seconds_sum {duration_sum}")
    return "\n".join(lines) + "\n"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type="application/json"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the agent gave up on a slow answer: its timeout, not an error here

    def body(self):
        length = int(self.headers.get("Content-Length", "0"))
        return json.loads(self.rfile.read(length) or b"{}")

    def do_GET(self):
        if self.path == "/metrics":
            mode = faults["metrics"]
            if mode == "down":
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if mode == "slow":
                time.sleep(5)
            if mode == "garbage":
                self.reply(200, "requests_total{{{ not a metric\n\x00\xff garbage 1 2 3\n", "text/plain")
                return
            self.reply(200, exposition(), "text/plain; version=0.0.4")
        elif self.path in ("/admin/pool", "/admin/batch"):
            key = self.path.rsplit("/", 1)[1]
            with lock:
                self.reply(200, json.dumps({key: config[key]}))
        elif self.path == "/admin/config":
            with lock:
                self.reply(200, json.dumps({**config, "puts": puts}))
        else:
            self.reply(404, "{}")

    def do_PUT(self):
        if self.path not in ("/admin/pool", "/admin/batch"):
            self.reply(404, "{}")
            return
        key = self.path.rsplit("/", 1)[1]
        body = self.body()
        mode = faults[key]
        if mode == "fail":
            self.reply(500, json.dumps({"error": f"{key} backend unavailable"}))
            return
        if mode == "hang":
            time.sleep(30)
            self.reply(504, "{}")  # the caller gave up long ago; nothing is changed this late
            return
        with lock:
            puts[key] += 1
            if mode != "lie":
                value = body.get(key)
                if not isinstance(value, int) or value < 1 or value > 64:
                    self.reply(400, json.dumps({"error": f"{key} out of range"}))
                    return
                config[key] = value
        self.reply(200, "{}")

    def do_POST(self):
        global requests_total
        if self.path != "/admin/fault":
            self.reply(404, "{}")
            return
        body = self.body()
        with lock:
            for key in ("metrics", "pool", "batch"):
                if key in body:
                    faults[key] = body[key]
            if faults["metrics"] == "backwards":
                requests_total = 0.0
                faults["metrics"] = "ok"
        self.reply(200, json.dumps(faults))


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=traffic, daemon=True).start()
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    import os
    os.replace(sys.argv[1] + ".tmp", sys.argv[1])
    server.serve_forever()


if __name__ == "__main__":
    main()
