#!/usr/bin/env python3
"""Drives `trimtab solve` the way any program can: proposals arrive as JSON lines on the solver's
stdout, results go back on its stdin. The "service" here is a model of a server's p99 latency as a
function of its knobs, so the run takes seconds; on a real service each result would be one
observation window of live traffic.

Usage: solve_demo.py TRIMTAB SPACE.yaml [--solver random|grid] [--budget N] [--seed N]"""

import argparse
import json
import math
import subprocess
import sys


def p99_ms(params):
    """Latency model: too few workers queue requests, too many thrash; a short timeout retries
    and a long one holds slots; batching amortises overhead until batches wait to fill."""
    pool, timeout, batch, policy = params["pool_size"], params["timeout_ms"], params["batch"], params["policy"]
    queueing = 900.0 / pool
    contention = 0.04 * pool ** 1.5
    retries = 4000.0 / timeout
    held = timeout / 150.0
    batching = 40.0 / batch + 1.6 * batch
    cache = {"lru": 0.0, "lfu": -4.0, "random": 9.0}[policy]
    return 20.0 + queueing + contention + retries + held + batching + cache


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("trimtab")
    parser.add_argument("space")
    parser.add_argument("--solver", default="bayes")
    parser.add_argument("--budget", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    command = [args.trimtab, "solve", "--space", args.space, "--solver", args.solver,
               "--budget", str(args.budget), "--seed", str(args.seed)]
    print("$ " + " ".join(command))
    print(f"{'id':>3}  {'pool_size':>9} {'timeout_ms':>10} {'batch':>5} {'policy':>7}  {'p99_ms':>8}  {'best':>8}")
    solver = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    best = math.inf
    summary = None
    for line in solver.stdout:
        message = json.loads(line)
        if "best" in message:
            summary = message
            break
        params = message["params"]
        value = p99_ms(params)
        best = min(best, value)
        print(f"{message['id']:>3}  {params['pool_size']:>9} {params['timeout_ms']:>10.1f} {params['batch']:>5} "
              f"{params['policy']:>7}  {value:>8.2f}  {best:>8.2f}")
        solver.stdin.write(json.dumps({"id": message["id"], "value": value}) + "\n")
        solver.stdin.flush()
    code = solver.wait()
    if code != 0 or summary is None:
        print(f"trimtab solve exited with code {code}", file=sys.stderr)
        return 1
    default = {"pool_size": 20, "timeout_ms": math.sqrt(100 * 5000), "batch": 8, "policy": "lru"}
    best_params = summary["best"]["params"]
    print(f"\nbest after {summary['evaluations']} evaluations: {json.dumps(best_params)}")
    print(f"p99 {p99_ms(default):.2f} ms at the default configuration -> {summary['best']['value']:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
