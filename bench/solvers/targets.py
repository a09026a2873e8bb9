"""Issue 13's targets for bench/solvers, with how sure each verdict is.

Two ratios of median regret after 30 and 50 evaluations:
- on the noisy problems, trimtab-bayes over optuna-tpe (target: at most 0.25), at 5% noise
  (results/results.csv) and at 15% (results/noise-15/results.csv);
- on the exact problems, trimtab-bayes now over trimtab-bayes before issue 13 (target: at most
  1.5), from before_issue_13.csv (how it was made: README.md, "Issue 13's targets").

A median over 20 or 40 seeds moves a lot with the seeds drawn (hartmann6 ends either near 1e-6 or
in its second well at 0.119), so each ratio comes with a 90% interval from a bootstrap over seeds:
each solver's seeds resampled with replacement, 2,000 times. A cell is "met" when the whole interval
is within the target, "missed" when none of it is, and "open" otherwise.

Usage: /usr/bin/python3 bench/solvers/targets.py [--results-dir DIR]
"""

import argparse
import collections
import csv
import os
import random

from report import quantile

POINTS = (30, 50)
NOISY = ("branin2-noisy", "hartmann6-noisy", "rosenbrock4-noisy", "ackley5-noisy", "service-noisy", "newbranin-noisy")
EXACT = ("branin2", "hartmann6", "rosenbrock4", "ackley5", "service", "newbranin")


def regrets(path, solver):
    """(problem, evaluations) -> the regret of each seed, for one solver, after POINTS evaluations."""
    found = collections.defaultdict(list)
    with open(path) as f:
        for row in csv.DictReader(f):
            if row["solver"] == solver and int(row["evaluations"]) in POINTS:
                found[(row["problem"], int(row["evaluations"]))].append(float(row["regret"]))
    return found


def median(values):
    return quantile(values, 0.5)


def ratio(a, b):
    return a / b if b > 0 else float("inf")


def interval(mine, theirs, rng, repetitions=2000):
    """The 5th and 95th percentiles of the ratio of medians over seed resamples."""
    ratios = sorted(ratio(median(rng.choices(mine, k=len(mine))), median(rng.choices(theirs, k=len(theirs))))
                    for _ in range(repetitions))
    return ratios[repetitions // 20], ratios[repetitions - 1 - repetitions // 20]


def cell(mine, theirs, target, rng):
    point = ratio(median(mine), median(theirs))
    low, high = interval(mine, theirs, rng)
    verdict = "met" if high <= target else "missed" if low > target else "open"
    return f"{point:.2f} [{low:.2f}, {high:.2f}] {verdict}", point <= target, verdict


def judge(pairs, target, rng, counts, kind):
    """The cells of one table row, one per (mine, theirs) pair of regret lists; tallies the verdicts
    under `kind` in `counts`."""
    cells = []
    for mine, theirs in pairs:
        text, under, verdict = cell(mine, theirs, target, rng)
        counts[kind] += 1
        counts[f"{kind} under"] += under
        counts[f"{kind} {verdict}"] += 1
        cells.append(text)
    return cells


def summary(counts, kind, target):
    return (f"{kind} cells with the median ratio <= {target}: {counts[kind + ' under']} of {counts[kind]}; "
            f"met with the whole interval: {counts[kind + ' met']}, missed: {counts[kind + ' missed']}, "
            f"open: {counts[kind + ' open']}")


def table(title, rows, columns):
    print(title)
    print()
    print("| problem | " + " | ".join(columns) + " |")
    print("|---|" + "---:|" * len(columns))
    for problem, cells in rows:
        print(f"| {problem} | " + " | ".join(cells) + " |")
    print()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results-dir", default=os.path.join(here, "results"))
    args = parser.parse_args()
    rng = random.Random(13)
    counts = collections.Counter()

    by_noise = {"5%": os.path.join(args.results_dir, "results.csv"),
                "15%": os.path.join(args.results_dir, "noise-15", "results.csv")}
    loaded = {noise: (regrets(path, "trimtab-bayes"), regrets(path, "optuna-tpe")) for noise, path in by_noise.items()}
    rows = [(problem, judge([(bayes[(problem, n)], tpe[(problem, n)]) for bayes, tpe in loaded.values() for n in POINTS],
                            0.25, rng, counts, "noisy"))
            for problem in NOISY]
    seeds = len(loaded["5%"][0][(NOISY[0], POINTS[0])])
    table(f"trimtab-bayes / optuna-tpe, median regret (target <= 0.25), {seeds} seeds, 90% bootstrap interval:",
          rows, [f"{noise}, n={n}" for noise in by_noise for n in POINTS])
    print(summary(counts, "noisy", 0.25))
    print()

    now = regrets(by_noise["5%"], "trimtab-bayes")
    before = regrets(os.path.join(here, "before_issue_13.csv"), "trimtab-bayes")
    rows = [(problem, judge([(now[(problem, n)], before[(problem, n)]) for n in POINTS], 1.5, rng, counts, "exact"))
            for problem in EXACT]
    table("trimtab-bayes now / before issue 13, median regret on the exact problems (target <= 1.5), "
          "90% bootstrap interval:", rows, [f"n={n}" for n in POINTS])
    print(summary(counts, "exact", 1.5))


if __name__ == "__main__":
    main()
