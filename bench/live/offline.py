"""bench/live's question asked offline, in seconds instead of hours: how many evaluations does each
solver need before it evaluates (and before it keeps) a configuration within the threshold of the
sweep's best?

No service runs. Each evaluation of a grid point replays one of the windows the sweep recorded for
that point (results/sweep_windows.csv), drawn at random, so the solver is told real windows with
their real noise and tails, including a window whose p99 broke a constraint. The solvers are driven
the way bench/solvers drives them (its drivers.py, through `trimtab solve`), each told value with a
standard error of `--sem` times the value (a live window's own estimate is about that size; see
README). What this leaves out is the agent's loop: the baseline window, promotions and rollbacks,
and the extra windows of a close call. So this ranks solvers on the landscape cheaply and with many
seeds; bench.py remains the measurement that counts.

    /usr/bin/python3 bench/live/offline.py [--seeds 50] [--budget 24] [--solvers bayes,random,grid]
        [--threshold 0.95] [--sem 0.015] [--trimtab build/agent/trimtab] [--power 10]
"""

import argparse
import os
import random
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.append(os.path.join(HERE, "..", "solvers"))  # after HERE: both folders have a bench.py

import bench  # noqa: E402  (the sweep's reading and the best's definition live there)
import drivers  # noqa: E402
from problems import Param, Problem  # noqa: E402
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
    parser.add_argument("--power", type=int, default=0, metavar="N",
                        help="also print each solver's share of runs that kept one within the threshold by each "
                             "evaluation, and how often N runs of the first solver have a lower median (kept) "
                             "than N runs of each other one, resampling these runs")
    return parser.parse_args()


class WindowReplay(drivers.Evaluator):
    """Tells the solver one of the point's recorded windows, drawn at random (the same stream for
    every solver: common random numbers); the regret is the sweep's, as bench.py scores it."""

    def __init__(self, problem, seed, space, windows, feasible):
        super().__init__(problem, seed)
        self.draws = random.Random(f"windows/{seed}")
        self.space, self.windows, self.feasible = space, windows, feasible

    def evaluate(self, params):
        key = self.space.key(params)
        window = self.draws.choice(self.windows[key])
        regret = max(0.0, self.problem.objective(params) - self.problem.f_star) if self.feasible[key] else None
        self.evaluated.append((dict(params), regret))
        return window["latency_ms"], [window["p99_ms"] - 100.0, window["error_ratio"] - 0.01]


def first_within(regrets, tolerance):
    """1-based index of the first regret within `tolerance`, None when there is none."""
    return next((n for n, r in enumerate(regrets, 1) if r is not None and r <= tolerance), None)


def summary(values, budget):
    reached = [v for v in values if v is not None]
    everything = sorted(reached + [budget + 1] * (len(values) - len(reached)))  # beyond the budget ranks last
    q = statistics.quantiles(everything, n=4)
    standard_error = statistics.stdev(everything) / len(everything) ** 0.5
    return (f"{statistics.median(everything):g} [{q[0]:g}, {q[2]:g}] {len(reached)}/{len(values)}, "
            f"mean {statistics.mean(everything):.2f} ± {standard_error:.2f}")


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
    feasible = {key: entry["feasible"] for key, entry in table.items()}
    problem = Problem("demo-sweep", tuple(Param(n, "ordinal", choices=tuple(space.choices[n])) for n in space.names),
                      lambda p: table[space.key(p)]["latency_ms"], best["latency_ms"],
                      "the demo service's sweep, replayed", noise=args.sem)
    # best / value >= threshold, as a regret: value - best <= best (1 / threshold - 1).
    tolerance = best["latency_ms"] * (1 / args.threshold - 1)
    within = sum(bench.ratio(entry, best) >= args.threshold for entry in table.values())
    print(f"best {best['latency_ms']:g} ms; {within} of {len(table)} points within {args.threshold:g}. "
          f"Evaluations until one within it was evaluated / kept: median [quartiles], runs that got there, "
          f"mean ± its standard error (a run that did not counts as {args.budget + 1}); {args.seeds} seeds, "
          f"budget {args.budget}, told sem {args.sem:g} x value; load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as scratch:
        space_path = os.path.join(scratch, "space.yaml")
        with open(space_path, "w") as f:
            f.write(problem.space_yaml())
        print("| solver | evaluated | incumbent |\n|---|---|---|")
        kept_by_solver = {}
        for solver in args.solvers.split(","):
            evaluated, kept = [], []
            for seed in range(args.seeds):
                replay = WindowReplay(problem, seed, space, windows, feasible)
                regrets, _, _ = drivers.run("trimtab-" + solver, problem, seed, args.budget, args.trimtab, space_path,
                                            evaluator=replay)
                evaluated.append(first_within([r for _, r in replay.evaluated], tolerance))
                kept.append(first_within(regrets, tolerance))
            print(f"| {solver} | {summary(evaluated, args.budget)} | {summary(kept, args.budget)} |", flush=True)
            kept_by_solver[solver] = [args.budget + 1 if k is None else k for k in kept]
    if args.power:
        print_power(kept_by_solver, args.power)


def print_power(kept_by_solver, runs, draws=20000):
    """What a live comparison of `runs` seeds per solver would conclude, if the live runs were
    distributed as these: the chance that the first solver's median is lower, equal, higher."""
    for solver, kept in kept_by_solver.items():
        print(f"{solver}: share of runs with one kept by evaluation 1, 2, ...: " +
              " ".join(f"{sum(k <= n for k in kept) / len(kept):.2f}" for n in range(1, 13)))
    rng = random.Random(1)
    first, *others = kept_by_solver
    for other in others:
        lower = equal = 0
        for _ in range(draws):
            a = statistics.median(rng.choices(kept_by_solver[first], k=runs))
            b = statistics.median(rng.choices(kept_by_solver[other], k=runs))
            lower += a < b
            equal += a == b
        print(f"{runs} runs each, median evaluations until kept: {first} lower than {other} in "
              f"{100 * lower / draws:.0f} % of {draws} resamples, equal in {100 * equal / draws:.0f} %, "
              f"higher in {100 * (draws - lower - equal) / draws:.0f} %")


if __name__ == "__main__":
    main()
