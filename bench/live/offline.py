"""bench/live's question asked offline, in seconds instead of hours: how many evaluations does each
solver need before it evaluates (and before it keeps) a configuration within the threshold of the
sweep's best?

No service runs. Each evaluation of a grid point replays one of the windows the sweep recorded for
that point (results/sweep_windows.csv), drawn at random, so the solver is told real windows with
their real noise and tails, including a window whose p99 broke a constraint. The solvers are driven
through `trimtab solve`, each told value with a standard error of `--sem` times the value (a live
window's own estimate is about that size; see README). What this leaves out is the agent's loop: the
baseline window, promotions and rollbacks, and the extra windows of a close call. So this ranks
solvers on the landscape cheaply and with many seeds; bench.py remains the measurement that counts.

    /usr/bin/python3 bench/live/offline.py [--seeds 50] [--budget 24] [--solvers bayes,random,grid]
        [--threshold 0.95] [--sem 0.015] [--trimtab build/agent/trimtab]
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench  # noqa: E402  (the sweep's reading and the best's definition live there)
from space import read_space  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=50)
    parser.add_argument("--budget", type=int, default=24)
    parser.add_argument("--solvers", default="bayes,random,grid")
    parser.add_argument("--threshold", type=float, default=0.95)
    parser.add_argument("--sem", type=float, default=0.015, help="told standard error, relative to the value")
    parser.add_argument("--trimtab", default="build/agent/trimtab")
    parser.add_argument("--sweep", default=os.path.join(HERE, "results", "sweep_windows.csv"))
    parser.add_argument("--config", default=os.path.join(HERE, "bench.yaml"))
    return parser.parse_args()


def space_yaml(space):
    lines = ["params:"]
    for name in space.names:
        lines.append(f"  {name}: {{type: ordinal, choices: {json.dumps(space.choices[name])}}}")
    return "\n".join(lines) + "\n"


def run(args, space, space_path, windows, ratios, solver, seed):
    """(first evaluation within the threshold, first evaluation whose incumbent is), 1-based, None
    when not within the budget."""
    draws = random.Random(f"windows/{seed}")  # the same stream for every solver (common random numbers)
    command = [args.trimtab, "solve", "--space", space_path, "--solver", solver, "--seed", str(seed),
               "--budget", str(args.budget)]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, bufsize=1)
    evaluated, incumbent_at, first_evaluated, first_kept = [], {}, None, None
    try:
        for line in process.stdout:
            message = json.loads(line)
            if "best" in message:
                if message["best"] is not None:
                    incumbent_at[message["evaluations"]] = message["best"]["id"]
                break
            if "incumbent" in message:
                incumbent_at[message["id"]] = message["incumbent"]
            key = space.key(message["params"])
            window = draws.choice(windows[key])
            evaluated.append(key)
            result = {"id": message["id"], "value": window["latency_ms"], "sem": args.sem * window["latency_ms"],
                      "constraints": [window["p99_ms"] - 100.0, window["error_ratio"] - 0.01]}
            process.stdin.write(json.dumps(result) + "\n")
            process.stdin.flush()
    finally:
        process.stdin.close()
        stderr = process.stderr.read()
        if process.wait() != 0:
            sys.exit(f"{' '.join(command)} failed: {stderr.strip()}")
    current = None
    for n in range(1, len(evaluated) + 1):
        if first_evaluated is None and ratios[evaluated[n - 1]] >= args.threshold:
            first_evaluated = n
        current = incumbent_at.get(n, current)
        if first_kept is None and current is not None and ratios[evaluated[current]] >= args.threshold:
            first_kept = n
    return first_evaluated, first_kept


def summary(values, budget):
    reached = sorted(v for v in values if v is not None)
    missing = [budget + 1] * (len(values) - len(reached))  # beyond the budget ranks last
    everything = sorted(reached + missing)
    q = statistics.quantiles(everything, n=4)
    return (f"{statistics.median(everything):g} [{q[0]:g}, {q[2]:g}] {len(reached)}/{len(values)}, "
            f"mean {statistics.mean(everything):.2f}")


def main():
    args = parse_args()
    space = read_space(args.config)
    measurements = bench.read_measurements(args.sweep, space)
    table = bench.aggregate(space, measurements)
    best = bench.best_of(table)
    windows = {}
    for m in measurements:
        if m["latency_ms"] is not None and m["p99_ms"] is not None and m["error_ratio"] is not None:
            windows.setdefault(space.key(m["point"]), []).append(m)
    ratios = {key: bench.ratio(entry, best) for key, entry in table.items()}
    print(f"best {best['latency_ms']:g} ms; {sum(r >= args.threshold for r in ratios.values())} of "
          f"{len(ratios)} points within {args.threshold:g}. Evaluations until one within it was evaluated / "
          f"kept: median [quartiles], runs that got there, mean (a run that did not counts as "
          f"{args.budget + 1}); {args.seeds} seeds, budget {args.budget}, told sem {args.sem:g} x value; "
          f"load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as scratch:
        space_path = os.path.join(scratch, "space.yaml")
        with open(space_path, "w") as f:
            f.write(space_yaml(space))
        print("| solver | evaluated | incumbent |\n|---|---|---|")
        for solver in args.solvers.split(","):
            results = [run(args, space, space_path, windows, ratios, solver, seed) for seed in range(args.seeds)]
            print(f"| {solver} | {summary([r[0] for r in results], args.budget)} | "
                  f"{summary([r[1] for r in results], args.budget)} |", flush=True)


if __name__ == "__main__":
    main()
