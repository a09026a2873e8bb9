"""One solver run: `trimtab demo` with bench.yaml, a solver, a seed and a budget, and its journal read
back into the windows the agent measured, in order.

Window 0 is the baseline (the demo service's shipped knobs, bench.yaml's defaults); window n >= 1 is
the n-th candidate, numbered by the journal's own `window` field. After each window the incumbent
(the configuration the agent keeps, and the service runs with between candidates) is read off the
journal's `incumbent` records."""

import json
import os
import subprocess
import time


class RunFailed(RuntimeError):
    pass


def run_demo(trimtab, config, solver, seed, budget, rate, state_dir, timeout_s):
    """Runs the demo to its end; returns (seconds, the load average before and after)."""
    os.makedirs(state_dir, exist_ok=True)
    journal = os.path.join(state_dir, "journal.jsonl")
    if os.path.exists(journal):
        os.remove(journal)  # a journal left there would make the agent resume that study
    command = [trimtab, "demo", "--config", config, "--solver", solver, "--seed", str(seed), "--budget", str(budget),
               "--rate", str(rate), "--state", state_dir, "--duration", f"{int(timeout_s)}s", "-q"]
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds = time.monotonic() - started
    with open(os.path.join(state_dir, "demo.txt"), "w") as f:
        f.write(result.stdout)
    if result.returncode != 0:
        raise RunFailed(f"{' '.join(command)} exited with {result.returncode}:\n{result.stdout[-2000:]}")
    return seconds, load_before, os.getloadavg()[0]


def read_journal(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def windows_from_journal(records):
    """The scored windows in order: dicts with window (0 baseline, n the n-th candidate), point, live
    value and p99 (None for a candidate that produced no data), verdict, the incumbent after it,
    `measured` (every window the agent measured by then, of any purpose: extensions, re-measurements
    and switchback halves cost traffic too) and `seconds` (of traffic since the agent started, at the
    window's end). Also returns why the study ended ('budget', 'exhausted'; None when it was cut
    short) and the study's `claim` record (None without one)."""
    windows, incumbent, done_reason, claim = [], None, None, None
    started, measured = None, 0
    for record in records:
        kind = record.get("type")
        if kind == "start" and started is None:
            started = record["time"]
        if kind == "observation":
            measured += 1
        if kind == "observation" and record.get("purpose") in ("baseline", "candidate"):
            windows.append({
                "measured": measured - 1,
                "seconds": (record["time"] - started) / 1000 if started is not None else None,
                "window": int(record.get("window", 0)) if record["purpose"] == "candidate" else 0,
                "purpose": record["purpose"],
                "point": record["point"],
                "value": record.get("value"),
                "p99_ms": (record.get("signals") or {}).get("p99_ms"),
                "error_ratio": (record.get("signals") or {}).get("error_ratio"),
                "verdict": None,
                "incumbent": incumbent,
            })
        elif kind == "decision" and windows and windows[-1]["verdict"] is None and record.get("point") == windows[-1]["point"]:
            windows[-1]["verdict"] = record.get("verdict")
        elif kind == "incumbent":
            changed = record["point"] != incumbent
            incumbent = record["point"]
            if windows:
                windows[-1]["incumbent"] = incumbent
                if changed and started is not None:
                    # A promotion decided after the incumbent was measured again (a close call)
                    # cost those windows too.
                    windows[-1]["measured"] = measured - 1
                    windows[-1]["seconds"] = (record["time"] - started) / 1000
        elif kind == "done":
            done_reason = record.get("reason")
        elif kind == "claim":
            claim = record
    # A baseline measured twice (the first window discarded for lack of data) keeps the last.
    baselines = [w for w in windows if w["purpose"] == "baseline"]
    windows = baselines[-1:] + [w for w in windows if w["purpose"] == "candidate"]
    return windows, done_reason, claim
