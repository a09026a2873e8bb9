#!/usr/bin/python3
"""Compares solvers by how few evaluations they need: trimtab's solvers (through `trimtab solve`)
and Optuna's TPE and random samplers, on the same problems with the same seeds, reporting the simple
regret after 10, 20, 30, 50 and 100 evaluations.

Each (problem, solver, seed) is one run with the full budget; the regret after fewer evaluations is
read off the same run. Writes results/results.csv (regret per evaluation), results/runs.csv (one line
per run), results/table.md and results/<problem>.svg, and prints the table.

Run it with /usr/bin/python3: Debian's python3-optuna (bench/solvers/setup.sh) lives in its
dist-packages, which a pyenv or virtualenv `python3` does not see. Solvers that are not available
here (a trimtab kind this binary does not know yet, or no Optuna) are skipped with a warning when
they come from the default list, and are an error when asked for with --solvers."""

import argparse
import csv
import json
import multiprocessing
import os
import sys
import tempfile
import time

import drivers
import problems as problem_registry
import report

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_SOLVERS = ("trimtab-bayes", "trimtab-random", "trimtab-grid", "optuna-tpe", "optuna-random")
REPORTED_BUDGETS = (10, 20, 30, 50, 100)
# Dispatched first, so the longest runs do not end up alone on one core at the end.
SLOW_SOLVERS = ("trimtab-bayes", "optuna-tpe")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trimtab", default=os.path.join(REPO, "build", "agent", "trimtab"),
                        help="the trimtab binary (default: build/agent/trimtab, from scripts/build.sh)")
    parser.add_argument("--seeds", type=int, default=20, help="runs per (problem, solver), seeds 0..N-1 (default 20)")
    parser.add_argument("--budget", type=int, default=100, help="evaluations per run (default 100)")
    parser.add_argument("--problems", help="comma-separated problem names (default: all): "
                        + ", ".join(problem_registry.PROBLEMS))
    parser.add_argument("--solvers", help="comma-separated solvers (default: " + ",".join(DEFAULT_SOLVERS)
                        + "); any trimtab-KIND is passed to `trimtab solve --solver KIND`")
    parser.add_argument("--noise", type=float, default=problem_registry.NOISE,
                        help="relative noise of the -noisy problems: told f (1 + NOISE N(0, 1)) (default %(default)s)")
    parser.add_argument("--sem", action=argparse.BooleanOptionalAction, default=True,
                        help="tell trimtab the standard error a window would estimate, NOISE x |told value| "
                        "(default on; Optuna cannot take one)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="parallel runs (default: cores)")
    parser.add_argument("--out", default=os.path.join(HERE, "results"), help="output directory")
    args = parser.parse_args()
    if args.seeds < 1 or args.budget < 1 or args.jobs < 1:
        parser.error("--seeds, --budget and --jobs must be at least 1")
    if not 0 < args.noise < 1:
        parser.error("--noise must lie between 0 and 1")
    return args


def select(names, known, what):
    if names is None:
        return list(known)
    chosen = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in chosen if n not in known]
    if unknown:
        sys.exit(f"bench.py: unknown {what} {', '.join(unknown)} (known: {', '.join(known)})")
    return chosen


def available_solvers(requested, explicit, trimtab, space_path):
    """The requested solvers that can run here. A missing one is skipped with a warning when it came
    from the default list (trimtab-bayes before it lands), and ends the run when asked for."""
    usable = []
    for solver in requested:
        family, _, kind = solver.partition("-")
        try:
            if family == "trimtab":
                drivers.probe_trimtab(trimtab, space_path, kind)
            elif family == "optuna" and kind in drivers.OPTUNA_SAMPLERS:
                try:
                    import optuna  # noqa: F401
                except ImportError as e:
                    raise drivers.SolverUnavailable(
                        f"cannot import optuna ({e}); run bench/solvers/setup.sh and use /usr/bin/python3")
            else:
                raise drivers.SolverUnavailable(
                    f"unknown solver '{solver}' (trimtab-KIND or optuna-{{{','.join(drivers.OPTUNA_SAMPLERS)}}})")
            usable.append(solver)
        except drivers.SolverUnavailable as e:
            if explicit:
                sys.exit(f"bench.py: {solver}: {e}")
            print(f"bench.py: skipping {solver}: {e}", file=sys.stderr)
    return usable


def init_worker(import_optuna):
    # Import Optuna before the first run, so its one-off import time is not charged to that run.
    if import_optuna:
        import optuna  # noqa: F401


def work(job):
    problem_name, solver, seed, budget, trimtab, space_path, noise, tell_sem = job
    problem = problem_registry.at_noise(problem_name, noise)
    regrets, seconds, best = drivers.run(solver, problem, seed, budget, trimtab, space_path, tell_sem)
    return problem_name, solver, seed, regrets, seconds, best


def main():
    args = parse_args()
    problem_names = select(args.problems, problem_registry.PROBLEMS, "problem")
    # Solver names are data: any trimtab-KIND goes to `trimtab solve`, which knows its kinds.
    solvers = list(DEFAULT_SOLVERS) if args.solvers is None else [s.strip() for s in args.solvers.split(",") if s.strip()]
    if not os.access(args.trimtab, os.X_OK):
        sys.exit(f"bench.py: no trimtab binary at {args.trimtab}; build it with scripts/build.sh")

    started = time.perf_counter()
    problem_registry.check_optima(problem_names)
    print(f"bench.py: f* checked for {', '.join(problem_names)} ({time.perf_counter() - started:.1f} s)",
          file=sys.stderr)

    with tempfile.TemporaryDirectory(prefix="trimtab-bench-") as space_dir:
        spaces = {}
        for name in problem_names:
            spaces[name] = os.path.join(space_dir, name + ".yaml")
            with open(spaces[name], "w") as f:
                f.write(problem_registry.PROBLEMS[name].space_yaml())
        solvers = available_solvers(solvers, args.solvers is not None, args.trimtab, spaces[problem_names[0]])
        if not solvers:
            sys.exit("bench.py: no solver to run")

        seeds = range(args.seeds)
        jobs = [(p, s, seed, args.budget, args.trimtab, spaces[p], args.noise, args.sem)
                for p in problem_names for s in solvers for seed in seeds]
        jobs.sort(key=lambda job: job[1] not in SLOW_SOLVERS)  # stable: otherwise in table order
        print(f"bench.py: {len(jobs)} runs ({len(problem_names)} problems x {len(solvers)} solvers x "
              f"{args.seeds} seeds, budget {args.budget}) in {args.jobs} processes", file=sys.stderr)

        curves, seconds, bests = {}, {}, {}
        start = time.perf_counter()
        with multiprocessing.Pool(args.jobs, initializer=init_worker,
                                  initargs=(any(s.startswith("optuna-") for s in solvers),)) as pool:
            for done, (problem, solver, seed, regrets, run_seconds, best) in enumerate(
                    pool.imap_unordered(work, jobs), 1):
                curves.setdefault((problem, solver), {})[seed] = regrets
                seconds.setdefault((problem, solver), {})[seed] = run_seconds
                bests[problem, solver, seed] = best
                elapsed = time.perf_counter() - start
                eta = elapsed / done * (len(jobs) - done)
                print(f"[{done:>{len(str(len(jobs)))}}/{len(jobs)}] {problem} {solver} seed {seed}: "
                      f"regret {report.format_regret(regrets[-1])} after {len(regrets)} evaluations, "
                      f"{run_seconds:.2f} s  (elapsed {elapsed:.0f} s, eta {eta:.0f} s)", file=sys.stderr)

    # Lists in seed order, so every output is the same whichever run finished first.
    write_outputs(args, problem_names, solvers, in_seed_order(curves), in_seed_order(seconds), bests)
    return 0


def in_seed_order(by_key):
    return {key: [by_seed[seed] for seed in sorted(by_seed)] for key, by_seed in by_key.items()}


def write_outputs(args, problem_names, solvers, curves, seconds, bests):
    os.makedirs(args.out, exist_ok=True)
    budgets = [n for n in REPORTED_BUDGETS if n <= args.budget]
    if args.budget not in budgets:
        budgets.append(args.budget)

    keys = [(p, s) for p in problem_names for s in solvers if (p, s) in curves]  # in table order
    # Raw results: the regret after every evaluation 1..budget of every run. A run that ended early
    # (an exhausted grid) repeats its last regret, as the table does.
    with open(os.path.join(args.out, "results.csv"), "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["problem", "solver", "seed", "evaluations", "regret"])
        for problem, solver in keys:
            for seed, curve in enumerate(curves[problem, solver]):
                for n in range(1, args.budget + 1):
                    out.writerow([problem, solver, seed, n, repr(report.regret_at(curve, n))])
    with open(os.path.join(args.out, "runs.csv"), "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["problem", "solver", "seed", "evaluations_done", "seconds", "final_regret", "best_params"])
        for problem, solver in keys:
            for seed, curve in enumerate(curves[problem, solver]):
                out.writerow([problem, solver, seed, len(curve), f"{seconds[problem, solver][seed]:.4f}",
                              repr(curve[-1]), json.dumps(bests[problem, solver, seed])])

    text = report.table(curves, seconds, problem_names, solvers, budgets, args.seeds)
    with open(os.path.join(args.out, "table.md"), "w") as f:
        f.write(text)
    for problem in problem_names:
        solver_curves = {s: curves[problem, s] for s in solvers if (problem, s) in curves}
        p = problem_registry.at_noise(problem, args.noise)
        with open(os.path.join(args.out, problem + ".svg"), "w") as f:
            f.write(report.svg(problem, p.description, p.f_star, solver_curves, args.budget, args.seeds))
    print(text)
    print(f"bench.py: wrote {args.out}/results.csv, runs.csv, table.md and an SVG per problem", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
