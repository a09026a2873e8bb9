"""Shared by the agent's integration tests: the Python test service on loopback, a tuning config
for it, and reading the journal."""

import json
import os
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(process, grace=15):
    """SIGTERM, then SIGKILL after `grace` seconds; waits for the process either way."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def start_test_service(directory, **popen):
    """Starts tests/agent/test_service.py; returns (process, port)."""
    port_file = os.path.join(directory, "port")
    process = subprocess.Popen([sys.executable, os.path.join(HERE, "test_service.py"), port_file], **popen)

    def read_port():
        if not os.path.exists(port_file):
            return None
        with open(port_file) as f:
            return f.read()
    return process, int(wait_for(read_port, 10, "the test service"))


def write_tuning_config(path, *, port, control, state, interval="200ms", settle="600ms", duration="2400ms",
                        budget=14):
    """A tuning.yaml for the test service: maximize rps under p99_ms <= 250, pool and batch."""
    with open(path, "w") as f:
        f.write(f"""
target:
  metrics: {{url: "http://127.0.0.1:{port}/metrics", interval: {interval}, timeout: 1s}}
signals:
  rps: {{rate: requests_total}}
  p99_ms: {{quantile: 0.99, histogram: request_duration_seconds, scale: 1000}}
objective: {{maximize: rps}}
constraints: [p99_ms <= 250]
params:
  pool: {{type: int, min: 1, max: 64, default: 8}}
  batch: {{type: int, min: 1, max: 32, default: 4}}
solver: {{kind: bayes, budget: {budget}, seed: 1}}
window: {{settle: {settle}, duration: {duration}, min_samples: 5, remeasure_every: 0}}
guardrails:
  max_delta: {{pool: 8, batch: 50%}}
  max_updates_per_second: 2
  min_dwell: 0s
  required_improvement: 5%
  max_rollbacks_per_hour: 20
adapters:
  - {{name: app, kind: http, url: "http://127.0.0.1:{port}/admin/config", params: [pool, batch]}}
state: {{dir: {state}}}
control: {{listen: "127.0.0.1:{control}", token_file: {os.path.dirname(path)}/token}}
""")


def read_journal(state):
    """The journal's complete records (a line still being written is left out)."""
    path = os.path.join(state, "journal.jsonl")
    if not os.path.exists(path):
        return []
    records = []
    with open(path) as f:
        for line in f:
            if line.endswith("\n"):
                records.append(json.loads(line))
    return records
