#!/usr/bin/env python3
"""Load and soak: `trimtab run` tunes the demo service (trimtab_demo_service) through its HTTP
admin endpoint while wrk drives it on loopback, for a compressed long run: many short windows.
It samples the agent's resident memory and CPU time from /proc, and reads the windows' p99 from
the journal.

Checks (and prints as a table, plus results in soak.csv under --out):
- memory: the agent's RSS grows by less than 4 MiB from the end of the first quarter to the end;
- CPU: the agent uses less than 10 % of one core on average;
- p99: among windows the agent kept (not rolled back) after its first promotion, the share within
  the constraint p99_ms <= 100 (at least 80 %; the rest are single noisy windows of a kept
  configuration).

Usage: soak.py TRIMTAB DEMO_SERVICE [--seconds 600] [--out DIR]
Exit status 0 when every check holds.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "agent"))
from service_harness import free_port, read_journal, wait_for  # noqa: E402

CONFIG = """
target:
  metrics: {{url: "http://127.0.0.1:{port}/metrics", interval: 250ms, timeout: 1s}}
signals:
  rps:          {{rate: demo_requests_total}}
  failures:     {{rate: demo_requests_total, match: {{outcome: "~timeout|rejected"}}}}
  error_ratio:  {{ratio: [failures, rps]}}
  latency_sum:  {{rate: demo_request_duration_seconds_sum}}
  latency_ms:   {{ratio: [latency_sum, rps], scale: 1000}}
  p99_ms:       {{quantile: 0.99, histogram: demo_request_duration_seconds, scale: 1000}}
objective: {{minimize: latency_ms}}
constraints: [p99_ms <= 100, error_ratio <= 0.01]
params:
  pool_size:        {{type: int, min: 1, max: 48, default: 8}}
  batch_size:       {{type: int, min: 1, max: 64, default: 4}}
  batch_timeout_ms: {{type: float, min: 0.2, max: 20, log: true, default: 2}}
solver: {{kind: bayes, budget: 100000, seed: 5}}
window: {{settle: 500ms, duration: 1500ms, min_samples: 5, remeasure_every: 8}}
guardrails:
  max_delta: {{pool_size: 50%, batch_size: 50%, batch_timeout_ms: 50%}}
  max_updates_per_second: 4
  min_dwell: 0s
  required_improvement: 5%
  regression_threshold: 10%
  max_rollbacks_per_hour: 100000
adapters:
  - {{name: service, kind: http, url: "http://127.0.0.1:{port}/admin/config", method: PUT,
     params: [pool_size, batch_size, batch_timeout_ms]}}
state: {{dir: {state}}}
control: {{listen: "127.0.0.1:{control}"}}
"""

WRK_SCRIPT = """
math.randomseed(7)
request = function()
  return wrk.format("GET", "/item/" .. math.floor(10000 * math.random() ^ 3))
end
"""


def proc_sample(pid):
    """(rss_bytes, cpu_seconds) of a process."""
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return rss, (int(fields[11]) + int(fields[12])) / ticks


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("trimtab")
    parser.add_argument("demo_service")
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="trimtab-soak-")
    processes = []
    try:
        port_file = os.path.join(work, "port")
        service = subprocess.Popen([args.demo_service, "--port-file", port_file], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        processes.append(service)
        port = int(wait_for(lambda: os.path.exists(port_file) and open(port_file).read(), 10, "the demo service"))
        state, control = os.path.join(work, "state"), free_port()
        config = os.path.join(work, "soak.yaml")
        with open(config, "w") as f:
            f.write(CONFIG.format(port=port, control=control, state=state))
        script = os.path.join(work, "random_keys.lua")
        with open(script, "w") as f:
            f.write(WRK_SCRIPT)
        wrk = subprocess.Popen(["wrk", "-t1", "-c16", f"-d{int(args.seconds) + 5}s", "--latency", "-s", script,
                                f"http://127.0.0.1:{port}/"], stdout=open(os.path.join(work, "wrk.txt"), "w"),
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        processes.append(wrk)
        agent = subprocess.Popen([args.trimtab, "run", config], stdout=open(os.path.join(work, "agent.log"), "w"),
                                 stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        processes.append(agent)

        # The first sample once the agent serves: straight after Popen the process has not exec'd
        # yet, and "RSS at start" read 0.0 MiB.
        log_path = os.path.join(work, "agent.log")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and agent.poll() is None:
            with open(log_path) as f:
                if "control server on port" in f.read():
                    break
            time.sleep(0.1)
        samples = []  # (seconds since start, rss, cpu)
        started = time.monotonic()
        while time.monotonic() - started < args.seconds:
            if agent.poll() is not None:
                raise SystemExit("soak: the agent exited early; see its log")
            rss, cpu = proc_sample(agent.pid)
            samples.append((time.monotonic() - started, rss, cpu))
            time.sleep(2)
        wall = time.monotonic() - started

        records = read_journal(state)
        decisions = [r for r in records if r["type"] == "decision"]
        observations = {r["seq"]: r for r in records if r["type"] == "observation"}
        # Each decision follows its window's observation; pair them by order.
        windows = []
        pending = None
        for r in records:
            if r["type"] == "observation":
                pending = r
            elif r["type"] == "decision" and pending is not None:
                windows.append((pending, r))
                pending = None
        first_promotion = next((i for i, (_, d) in enumerate(windows) if d["verdict"] == "promote"), None)
        kept = [(o, d) for o, d in windows[first_promotion or 0:] if d["verdict"] != "rollback"
                and o.get("signals", {}).get("p99_ms") is not None]
        within = [o for o, _ in kept if o["signals"]["p99_ms"] <= 100]
        p99_share = len(within) / len(kept) if kept else 0.0
        quarter = next((s for s in samples if s[0] >= wall / 4), samples[0])
        growth = samples[-1][1] - quarter[1]
        cpu_share = (samples[-1][2] - samples[0][2]) / (samples[-1][0] - samples[0][0])
        rollbacks = sum(1 for d in decisions if d["verdict"] == "rollback")
        promotions = sum(1 for d in decisions if d["verdict"] == "promote")

        rows = [
            ("run", f"{wall:.0f} s, {len(windows)} windows ({promotions} promoted, {rollbacks} rolled back), "
                    f"{len(observations)} observations, {len(records)} journal records"),
            ("agent RSS", f"{samples[0][1] / 2**20:.1f} MiB at start, {quarter[1] / 2**20:.1f} MiB after a quarter, "
                          f"{samples[-1][1] / 2**20:.1f} MiB at the end (growth {growth / 2**20:+.2f} MiB; limit 4)"),
            ("agent CPU", f"{cpu_share * 100:.2f} % of one core on average (limit 10 %)"),
            ("p99 kept windows", f"{len(within)} of {len(kept)} within p99_ms <= 100 after the first promotion "
                                 f"({p99_share * 100:.0f} %; limit 80 %)"),
        ]
        width = max(len(name) for name, _ in rows)
        print("soak")
        for name, value in rows:
            print(f"  {name:<{width}}  {value}")
        wrk_text = open(os.path.join(work, "wrk.txt")).read() if os.path.exists(os.path.join(work, "wrk.txt")) else ""
        if args.out:
            os.makedirs(args.out, exist_ok=True)
            with open(os.path.join(args.out, "soak.csv"), "w") as f:
                f.write("seconds,rss_bytes,cpu_seconds\n")
                for t, rss, cpu in samples:
                    f.write(f"{t:.1f},{rss},{cpu:.3f}\n")
            with open(os.path.join(args.out, "soak_summary.json"), "w") as f:
                json.dump({"seconds": wall, "windows": len(windows), "promotions": promotions, "rollbacks": rollbacks,
                           "rss_start": samples[0][1], "rss_quarter": quarter[1], "rss_end": samples[-1][1],
                           "cpu_share": cpu_share, "p99_kept_within": len(within), "p99_kept": len(kept)}, f, indent=1)
        ok = growth < 4 * 2**20 and cpu_share < 0.10 and p99_share >= 0.80 and len(windows) >= 10
        if not ok:
            print("soak: a check failed", file=sys.stderr)
            print(wrk_text[-2000:], file=sys.stderr)
        return 0 if ok else 1
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
