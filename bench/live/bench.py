#!/usr/bin/python3
"""Live benchmark: on the real demo service, how many observation windows does each solver need to
reach a configuration within 95 % of the best one?

1. The sweep (sweep.py): every point of bench.yaml's grid measured on trimtab_demo_service under its
   built-in load, one window each; then the best few measured again, each point's value the median of
   its windows, and the best taken among those measured again, so it is not just the luckiest draw.
   Every window is kept in results/sweep_windows.csv (--reuse-sweep reads it back instead of
   sweeping); results/sweep.csv is the table derived from it.
2. The runs (runs.py): `trimtab demo --config bench.yaml --solver KIND --seed S --budget B` for every
   solver and seed, interleaved (seed 0 of every solver, then seed 1, ...) so a change in the
   machine's load spreads over the solvers; each run's journal is kept in results/journals/.
3. The score: each window's point is looked up in the sweep. "Evaluated": the first window whose
   point is feasible in the sweep with best / value >= 0.95; "incumbent": the first window after
   which the agent's incumbent is. Window 0 is the baseline, n the n-th candidate.

Writes results/sweep.csv, sweep_windows.csv, windows.csv, runs.csv, summary.csv, table.md and
windows_to_95.svg, and prints the table. Standard library only; run with /usr/bin/python3."""

import argparse
import csv
import json
import math
import os
import statistics
import sys
import time

import report
import runs as runs_module
import sweep as sweep_module
from space import format_number, read_space

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SOLVERS = ("bayes", "grid", "random")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    build = os.path.join(REPO, "build")
    parser.add_argument("--trimtab", default=os.path.join(build, "agent", "trimtab"), help="the trimtab binary")
    parser.add_argument("--demo-service", default=os.path.join(build, "examples", "demo", "trimtab_demo_service"),
                        help="the trimtab_demo_service binary (for the sweep)")
    parser.add_argument("--config", default=os.path.join(HERE, "bench.yaml"), help="the bench's tuning config")
    parser.add_argument("--rate", type=float, default=2500, help="requests per second of load (default 2500)")
    parser.add_argument("--seeds", type=int, default=5, help="runs per solver, seeds 0..N-1 (default 5)")
    parser.add_argument("--grid-seeds", type=int, default=1,
                        help="runs of the grid solver (default 1): its proposals do not depend on the seed, so "
                        "more runs only repeat the same points under fresh noise")
    parser.add_argument("--budget", type=int, default=24, help="candidate windows per run (default 24)")
    parser.add_argument("--solvers", default=",".join(SOLVERS), help="comma-separated (default bayes,grid,random)")
    parser.add_argument("--threshold", type=float, default=0.95, help="best / value to reach (default 0.95)")
    parser.add_argument("--also", default="0.8,0.9",
                        help="more thresholds for a second, shorter table (default 0.8,0.9; empty for none)")
    parser.add_argument("--settle", type=float, default=1.0, help="sweep: seconds before measuring (default 1)")
    parser.add_argument("--duration", type=float, default=2.0, help="sweep: seconds measured (default 2)")
    parser.add_argument("--top", type=int, default=5, help="sweep: best points measured again (default 5)")
    parser.add_argument("--repeats", type=int, default=3, help="sweep: extra measurements of each (default 3)")
    parser.add_argument("--recovery", default="pool_size=16,batch_size=8,batch_timeout_ms=1",
                        help="sweep: the configuration that drains the service after an overloaded point")
    parser.add_argument("--reuse-sweep", action="store_true", help="read results/sweep_windows.csv instead of sweeping")
    parser.add_argument("--reuse-runs", action="store_true",
                        help="read the runs' journals from results/journals instead of running them again")
    parser.add_argument("--sweep-only", action="store_true", help="stop after the sweep")
    parser.add_argument("--extend-sweep", type=int, default=0, metavar="N",
                        help="with --reuse-sweep: measure every point feasible in the sweep again, in whole passes "
                        "over the grid, until it has N windows, and add them to sweep_windows.csv")
    parser.add_argument("--out", default=os.path.join(HERE, "results"), help="output directory")
    args = parser.parse_args()
    if args.extend_sweep and not args.reuse_sweep:
        parser.error("--extend-sweep adds to a sweep: it needs --reuse-sweep")
    if args.seeds < 1 or args.grid_seeds < 0 or args.budget < 1 or args.top < 1 or args.repeats < 0:
        parser.error("--seeds, --budget and --top must be at least 1, --grid-seeds and --repeats at least 0")
    args.solvers = [s.strip() for s in args.solvers.split(",") if s.strip()]
    args.also = sorted({float(t) for t in args.also.split(",") if t.strip()} | {args.threshold})
    unknown = [s for s in args.solvers if s not in SOLVERS]
    if unknown:
        parser.error(f"unknown solver {', '.join(unknown)} (bayes, grid, random)")
    return args


def log(message):
    print(message, file=sys.stderr, flush=True)


# --- the sweep ----------------------------------------------------------------------------------

SIGNALS = ("latency_ms", "p99_ms", "error_ratio", "rps")


def aggregate(space, measurements):
    """Per point: the median of its measurements' signals (a window starved of CPU by another process
    is an outlier, not noise to average in), their count, and whether the medians meet the constraints."""
    by_key = {}
    for m in measurements:
        by_key.setdefault(space.key(m["point"]), []).append(m)
    table = {}
    for key, ms in by_key.items():
        entry = {"point": ms[0]["point"], "measurements": len(ms)}
        for name in SIGNALS:
            values = [m[name] for m in ms]
            entry[name] = None if any(v is None for v in values) else statistics.median(values)
        entry["feasible"] = sweep_module.feasible(entry)
        table[key] = entry
    return table


def best_of(table):
    """The best configuration: the lowest median among the feasible points that were measured again
    (all points when none was). A point measured once is judged by that one window, but it cannot
    set the bar: the lowest of 250 single windows is mostly the luckiest draw (the winner's curse)."""
    feasible = [e for e in table.values() if e["feasible"]]
    most = max((e["measurements"] for e in feasible), default=1)
    confirmed = [e for e in feasible if e["measurements"] > 1 or most == 1]
    return min(confirmed, key=lambda e: e["latency_ms"]) if confirmed else None


def warmed_sweeper(args, space):
    """The demo service under its load and a sweeper on it, after the 4 MB cache and the
    connections were warmed on the recovery configuration."""
    recovery = dict(item.split("=") for item in args.recovery.split(","))
    recovery = {name: float(recovery[name]) for name in space.names}
    service = sweep_module.DemoService(args.demo_service, args.rate)
    try:
        sweeper = sweep_module.Sweeper(service, args.settle, args.duration, recovery, log)
        service.apply(recovery)
        time.sleep(5)
    except BaseException:
        service.close()
        raise
    return service, sweeper


def run_sweep(args, space):
    grid = space.grid()
    per_point = args.settle + args.duration
    log(f"bench.py: sweeping {len(grid)} points at {args.rate:g} requests/s, {args.settle:g} s settle + "
        f"{args.duration:g} s measured each (about {len(grid) * per_point / 60:.0f} min, plus recovery "
        "after overloaded points)")
    service, sweeper = warmed_sweeper(args, space)
    measurements = []
    try:
        started = time.monotonic()

        def measure(point, round_):
            m = sweeper.measure(point)
            m.update(point=point, round=round_, seconds=time.monotonic() - started)
            measurements.append(m)
            return m

        for i, point in enumerate(grid, 1):
            m = measure(point, 0)
            if i % 20 == 0 or i == len(grid):
                elapsed = time.monotonic() - started
                log(f"[{i}/{len(grid)}] {space.describe(point)}: {format_signal(m)}  "
                    f"(elapsed {elapsed:.0f} s, eta {elapsed / i * (len(grid) - i):.0f} s)")
        # The best few again, round-robin so a drift in the machine's load touches them alike; then
        # again for any point the new medians bring into the top few, until the top few all have
        # 1 + repeats measurements (at most four rounds of this).
        wanted = 1 + args.repeats
        for attempt in range(5):
            table = aggregate(space, measurements)
            ranked = sorted((e for e in table.values() if e["feasible"]), key=lambda e: e["latency_ms"])
            todo = [e for e in ranked[:args.top] if e["measurements"] < wanted]
            if not todo:
                break
            if attempt == 4:
                log("bench.py: the top points kept changing under noise; some rest on a single measurement")
                break
            for round_ in range(1, wanted):
                for e in todo:
                    if e["measurements"] <= round_:
                        measure(e["point"], round_)
    finally:
        service.close()
    log(f"bench.py: sweep done in {measurements[-1]['seconds']:.0f} s")
    return measurements


def extend_sweep(args, space, measurements):
    """Every grid point not measured yet gets a window, and every point feasible by its median is
    measured again until it has `args.extend_sweep` windows; then the points within the threshold
    of the new best get twice that.

    The sweep's first pass gives most points one window, and windows are heavy-tailed: a point
    measured right after a recovery, or while the machine hiccuped, can read 40 % off its typical
    value, and the score then judges every run that holds it by that draw. Whole passes over the
    grid in nested order (not one point N times in a row) keep a drift in the machine's speed from
    landing on some points only; each pass logs the median ratio of its windows to the points'
    earlier medians, which is how a sweep extended on another machine shows that it is not
    comparable (it should be about 1)."""
    table = aggregate(space, measurements)

    def short_of(point, windows):
        entry = table.get(space.key(point))
        return 0 if entry is None else max(0, windows - entry["measurements"])

    def first_phase(point):
        # A point not measured yet gets a window; then the feasible ones get the rest.
        entry = table.get(space.key(point))
        return entry is None or (entry["feasible"] and short_of(point, args.extend_sweep) > 0)

    def near_best(point):
        # The best is the lowest of many medians, itself a lucky draw: the points the score calls
        # good enough (the best among them) get twice the windows.
        return ratio(table[space.key(point)], best_of(table)) >= args.threshold and \
            short_of(point, 2 * args.extend_sweep) > 0

    added = []
    if not any(first_phase(p) or near_best(p) for p in space.grid()):
        log("bench.py: every point already has the windows asked")
        return measurements
    offset = max((m["seconds"] for m in measurements), default=0.0)
    service, sweeper = warmed_sweeper(args, space)
    try:
        started = time.monotonic()
        phases = (("every feasible point", first_phase, args.extend_sweep),
                  ("near the best", near_best, 2 * args.extend_sweep))
        for phase, needs_more, windows in phases:
            while todo := [p for p in space.grid() if needs_more(p)]:
                log(f"bench.py: a pass over {len(todo)} points, {phase}, to {windows} windows")
                ratios = []
                for i, point in enumerate(todo, 1):
                    key = space.key(point)
                    m = sweeper.measure(point)
                    m.update(point=point, round=table[key]["measurements"] if key in table else 0,
                             seconds=offset + time.monotonic() - started)
                    added.append(m)
                    if m["latency_ms"] is not None and key in table and table[key]["latency_ms"]:
                        ratios.append(m["latency_ms"] / table[key]["latency_ms"])
                    if i % 40 == 0 or i == len(todo):
                        log(f"[{i}/{len(todo)}] {space.describe(point)}: {format_signal(m)}  "
                            f"(elapsed {time.monotonic() - started:.0f} s)")
                if len(ratios) >= 2:
                    quartiles = statistics.quantiles(ratios, n=4)
                    log(f"bench.py: this pass's windows against the earlier medians: median ratio "
                        f"{statistics.median(ratios):.3f}, quartiles {quartiles[0]:.3f} to {quartiles[2]:.3f}")
                table = aggregate(space, measurements + added)
    finally:
        service.close()
    return measurements + added


def format_signal(m):
    def f(x, digits=3):
        return "-" if x is None else f"{x:.{digits}g}"
    return (f"latency {f(m['latency_ms'])} ms, p99 {f(m['p99_ms'])} ms, errors {f(m['error_ratio'], 2)}, "
            f"{m['rps']:.0f} rps{'' if m['feasible'] else ' (infeasible)'}")


MEASUREMENT_COLUMNS = ("round",) + SIGNALS + ("feasible", "recovery_s", "loadavg", "seconds")


def write_measurements(path, space, measurements):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(list(space.names) + list(MEASUREMENT_COLUMNS))
        for m in measurements:
            w.writerow([format_number(m["point"][n]) for n in space.names] + [m["round"]] +
                       [csv_number(m[s]) for s in SIGNALS] +
                       [int(m["feasible"]), f"{m['recovery_s']:.1f}", f"{m['loadavg']:.2f}", f"{m['seconds']:.1f}"])


def read_measurements(path, space, complete=True):
    """sweep_windows.csv back into measurements; exits when it does not cover the config's grid
    (`complete`), or holds points off the grid."""
    measurements = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            m = {"point": {n: float(row[n]) for n in space.names}, "round": int(row["round"]),
                 "feasible": row["feasible"] == "1", "recovery_s": float(row["recovery_s"]),
                 "loadavg": float(row["loadavg"]), "seconds": float(row["seconds"])}
            for name in SIGNALS:
                m[name] = float(row[name]) if row[name] != "" else None
            measurements.append(m)
    measured = {space.key(m["point"]) for m in measurements}
    grid = {space.key(p) for p in space.grid()}
    if measured - grid or (complete and measured != grid):
        sys.exit(f"bench.py: {path} was measured on another grid than the {len(grid)} points of the config "
                 f"({len(grid - measured)} missing, {len(measured - grid)} extra); sweep again without --reuse-sweep")
    return measurements


def write_table(path, space, table, best):
    """sweep.csv: per grid point the medians, how many windows, feasibility and best / value."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(list(space.names) + list(SIGNALS) + ["measurements", "feasible", "ratio"])
        for point in space.grid():
            e = table[space.key(point)]
            w.writerow([format_number(point[n]) for n in space.names] + [csv_number(e[s]) for s in SIGNALS] +
                       [e["measurements"], int(e["feasible"]), f"{ratio(e, best):.4f}"])


def window_noise(path, space):
    """How much one sweep window says: over the points measured three times or more, the median of
    their median absolute deviation relative to their median latency. None without such points."""
    if not os.path.exists(path):
        return None
    by_key = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            if row["latency_ms"]:
                by_key.setdefault(tuple(float(row[n]) for n in space.names), []).append(float(row["latency_ms"]))
    spreads = []
    for values in by_key.values():
        if len(values) >= 3:
            middle = statistics.median(values)
            spreads.append(statistics.median(abs(v - middle) for v in values) / middle)
    return (statistics.median(spreads), len(spreads)) if spreads else None


def csv_number(x):
    return "" if x is None else f"{x:.6g}"


def ratio(entry, best):
    """best / value for a feasible point, at most 1 (one window can beat the confirmed best by luck);
    0 for an infeasible one (the objective is minimised)."""
    if entry is None or not entry["feasible"] or best is None:
        return 0.0
    return min(1.0, best["latency_ms"] / entry["latency_ms"])


# --- the runs -----------------------------------------------------------------------------------

def run_name(solver, seed):
    return f"{solver}-seed{seed}"


def planned_runs(args):
    plan = []
    for seed in range(max(args.seeds, args.grid_seeds)):
        for solver in args.solvers:
            if seed < (args.grid_seeds if solver == "grid" else args.seeds):
                plan.append((solver, seed))
    return plan


def do_runs(args, plan):
    journals = os.path.join(args.out, "journals")
    per_window = 3 * 4  # generous: settle + duration, rollbacks, start-up
    timeout = (args.budget + 1) * per_window + 60
    results = {}
    started = time.monotonic()
    for i, (solver, seed) in enumerate(plan, 1):
        state = os.path.join(journals, run_name(solver, seed))
        if args.reuse_runs:
            with open(os.path.join(state, "run.json")) as f:
                meta = json.load(f)
        else:
            seconds, load_before, load_after = runs_module.run_demo(
                args.trimtab, args.config, solver, seed, args.budget, args.rate, state, timeout)
            meta = {"seconds": seconds, "loadavg": (load_before + load_after) / 2}
            with open(os.path.join(state, "run.json"), "w") as f:
                json.dump(meta, f)
        windows, done_reason, claim = runs_module.windows_from_journal(
            runs_module.read_journal(os.path.join(state, "journal.jsonl")))
        meta["done"] = done_reason
        meta["claim"] = claim
        results[solver, seed] = (windows, meta)
        elapsed = time.monotonic() - started
        progress = "" if args.reuse_runs else f"  (elapsed {elapsed:.0f} s, eta {elapsed / i * (len(plan) - i):.0f} s)"
        log(f"[{i}/{len(plan)}] {solver} seed {seed}: {len(windows) - 1} candidate windows, "
            f"{meta['seconds']:.0f} s, ended by {done_reason or 'time'}{progress}")
    return results


# --- scoring ------------------------------------------------------------------------------------

def score(space, table, best, windows, budget, threshold):
    """Curves over windows 0..budget (a run cut short repeats its last window) and the first windows
    at which the evaluated point, and the incumbent, reached the threshold."""
    evaluated, incumbent, rows = [], [], []
    best_so_far = 0.0
    for w in windows:
        entry = table.get(space.key(w["point"]))
        r = ratio(entry, best)
        best_so_far = max(best_so_far, r)
        inc_entry = table.get(space.key(w["incumbent"])) if w["incumbent"] else None
        evaluated.append(best_so_far)
        incumbent.append(ratio(inc_entry, best))
        rows.append((w, entry, r, inc_entry))
    evaluated = (evaluated + [evaluated[-1]] * (budget + 1))[:budget + 1]
    incumbent = (incumbent + [incumbent[-1]] * (budget + 1))[:budget + 1]

    def first(curve):
        return next((n for n, v in enumerate(curve) if v >= threshold), math.inf)

    to_incumbent = first(incumbent)
    # The cost of getting there: every window measured (extensions too) and seconds of traffic.
    reached = windows[to_incumbent] if to_incumbent < len(windows) else None
    return {"evaluated": evaluated, "incumbent": incumbent, "rows": rows,
            "to_evaluated": first(evaluated), "to_incumbent": to_incumbent,
            "to_incumbent_measured": reached["measured"] if reached else math.inf,
            "to_incumbent_seconds": reached["seconds"] if reached and reached["seconds"] is not None else math.inf}


def claim_error(space, table, baseline, final, claim):
    """The claim against the sweep: (claimed improvement, the sweep's improvement of the final
    incumbent over the baseline, absolute difference), in percentage points; None where the run
    claimed nothing numeric or the sweep lacks a point. The objective is minimised, so the sweep's
    improvement is (baseline - final) / baseline."""
    if not claim or claim.get("improvement") is None or not claim.get("relative", True) or not final:
        return None
    base = table.get(space.key(baseline))
    end = table.get(space.key(final))
    if not base or not end or base["latency_ms"] in (None, 0) or end["latency_ms"] is None:
        return None
    claimed = 100 * claim["improvement"]
    true = 100 * (base["latency_ms"] - end["latency_ms"]) / base["latency_ms"]
    return claimed, true, abs(claimed - true)


def main():
    args = parse_args()
    space = read_space(args.config)
    os.makedirs(args.out, exist_ok=True)
    sweep_path = os.path.join(args.out, "sweep_windows.csv")
    if args.reuse_sweep:
        if not os.path.exists(sweep_path):
            sys.exit(f"bench.py: --reuse-sweep, but there is no {sweep_path}")
        log(f"bench.py: reusing {sweep_path}")
        if args.extend_sweep:
            write_measurements(sweep_path, space,
                               extend_sweep(args, space, read_measurements(sweep_path, space, complete=False)))
    else:
        for binary in (args.demo_service,):
            if not os.access(binary, os.X_OK):
                sys.exit(f"bench.py: no executable {binary}; build trimtab with scripts/build.sh")
        write_measurements(sweep_path, space, run_sweep(args, space))
    table = aggregate(space, read_measurements(sweep_path, space))
    best = best_of(table)
    write_table(os.path.join(args.out, "sweep.csv"), space, table, best)
    if best is None:
        sys.exit("bench.py: no grid point met the constraints in the sweep")
    close = sum(1 for e in table.values() if ratio(e, best) >= args.threshold)
    feasible = sum(1 for e in table.values() if e["feasible"])
    log(f"bench.py: best {space.describe(best['point'])}: {best['latency_ms']:.3g} ms "
        f"(p99 {best['p99_ms']:.3g} ms, {best['measurements']} measurements); {feasible} of {len(table)} points "
        f"feasible, {close} within {args.threshold:.0%}")
    if args.sweep_only:
        return 0

    if not args.reuse_runs and not os.access(args.trimtab, os.X_OK):
        sys.exit(f"bench.py: no executable {args.trimtab}; build trimtab with scripts/build.sh")
    plan = planned_runs(args)
    log(f"bench.py: {len(plan)} runs of budget {args.budget}" + (" (reusing their journals)" if args.reuse_runs else ""))
    results = do_runs(args, plan)

    scores = {key: score(space, table, best, windows, args.budget, args.threshold)
              for key, (windows, _) in results.items()}
    write_outputs(args, space, table, best, plan, results, scores, close, feasible)
    return 0


def write_outputs(args, space, table, best, plan, results, scores, close, feasible):
    names = space.names
    with open(os.path.join(args.out, "windows.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["solver", "seed", "window"] + list(names) +
                   ["live_latency_ms", "live_p99_ms", "verdict", "sweep_latency_ms", "sweep_feasible", "ratio",
                    "best_ratio_so_far"] + [f"incumbent_{n}" for n in names] + ["incumbent_ratio"])
        for solver, seed in plan:
            s = scores[solver, seed]
            for n, (win, entry, r, inc_entry) in enumerate(s["rows"]):
                inc = win["incumbent"] or {}
                w.writerow([solver, seed, win["window"]] + [format_number(win["point"][p]) for p in names] +
                           [csv_number(win["value"]), csv_number(win["p99_ms"]), win["verdict"] or "",
                            csv_number(entry["latency_ms"]) if entry else "", int(bool(entry and entry["feasible"])),
                            f"{r:.4f}", f"{s['evaluated'][min(n, args.budget)]:.4f}"] +
                           [format_number(inc[p]) if p in inc else "" for p in names] +
                           [f"{s['incumbent'][min(n, args.budget)]:.4f}"])

    def value_of(point):
        e = table.get(space.key(point)) if point else None
        return e["latency_ms"] if e and e["feasible"] else math.inf

    run_rows = {}
    with open(os.path.join(args.out, "runs.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["solver", "seed", "candidate_windows", "windows_to_95_evaluated", "windows_to_95_incumbent",
                    "best_evaluated", "best_evaluated_sweep_ms", "final_incumbent", "final_incumbent_sweep_ms",
                    "distinct_points", "rollbacks", "seconds", "ended_by", "loadavg", "windows_measured_to_95_incumbent",
                    "traffic_seconds_to_95_incumbent", "claim_method", "claimed_improvement_pct",
                    "sweep_improvement_pct", "claim_error_points"])
        for solver, seed in plan:
            windows, meta = results[solver, seed]
            s = scores[solver, seed]
            best_eval = max(s["rows"], key=lambda row: row[2])[0]["point"]
            final = windows[-1]["incumbent"]
            row = {"best": value_of(best_eval) if max(r[2] for r in s["rows"]) > 0 else math.inf,
                   "final": value_of(final),
                   "claim": claim_error(space, table, windows[0]["point"], final, meta.get("claim"))}
            run_rows[solver, seed] = row
            w.writerow([solver, seed, len(windows) - 1, report.format_windows(s["to_evaluated"], args.budget),
                        report.format_windows(s["to_incumbent"], args.budget), space.describe(best_eval),
                        csv_number(row["best"]) if math.isfinite(row["best"]) else "", space.describe(final or {}) if final else "",
                        csv_number(row["final"]) if math.isfinite(row["final"]) else "",
                        len({space.key(x["point"]) for x in windows}),
                        sum(1 for x in windows if x["verdict"] == "rollback"), f"{meta['seconds']:.1f}",
                        meta["done"] or "time", f"{meta['loadavg']:.2f}",
                        report.format_windows(s["to_incumbent_measured"], args.budget),
                        "" if math.isinf(s["to_incumbent_seconds"]) else f"{s['to_incumbent_seconds']:.1f}",
                        (meta.get("claim") or {}).get("method", "")] +
                       (["", "", ""] if row["claim"] is None else [f"{x:.2f}" for x in row["claim"]]))

    summaries = []
    for solver in args.solvers:
        keys = [(s, seed) for s, seed in plan if s == solver]
        if not keys:
            continue
        evaluated = [scores[k]["to_evaluated"] for k in keys]
        incumbent = [scores[k]["to_incumbent"] for k in keys]
        summaries.append({
            "solver": solver, "runs": len(keys), "evaluated": evaluated, "incumbent": incumbent,
            "median_evaluated": report.quantile(evaluated, 0.5), "median_incumbent": report.quantile(incumbent, 0.5),
            "reached_evaluated": sum(1 for n in evaluated if math.isfinite(n)),
            "reached_incumbent": sum(1 for n in incumbent if math.isfinite(n)),
            "median_best_value": report.quantile([run_rows[k]["best"] for k in keys], 0.5),
            "median_final_value": report.quantile([run_rows[k]["final"] for k in keys], 0.5),
            "seconds": sum(results[k][1]["seconds"] for k in keys) / len(keys),
            "incumbent_seconds": [scores[k]["to_incumbent_seconds"] for k in keys],
            "median_incumbent_seconds": report.quantile([scores[k]["to_incumbent_seconds"] for k in keys], 0.5),
            "median_incumbent_measured": report.quantile([scores[k]["to_incumbent_measured"] for k in keys], 0.5),
            "claim_errors": [run_rows[k]["claim"][2] for k in keys if run_rows[k]["claim"] is not None],
        })
    with open(os.path.join(args.out, "summary.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["solver", "runs", "median_windows_to_95_evaluated", "median_windows_to_95_incumbent",
                    "reached_evaluated", "reached_incumbent", "median_best_evaluated_sweep_ms",
                    "median_final_incumbent_sweep_ms", "mean_seconds_per_run", "budget", "best_sweep_ms",
                    "median_windows_measured_to_95_incumbent", "median_traffic_seconds_to_95_incumbent",
                    "claims", "median_claim_error_points"])
        for s in summaries:
            w.writerow([s["solver"], s["runs"], report.format_windows(s["median_evaluated"], args.budget),
                        report.format_windows(s["median_incumbent"], args.budget), s["reached_evaluated"],
                        s["reached_incumbent"], csv_number(s["median_best_value"]) if math.isfinite(s["median_best_value"]) else "",
                        csv_number(s["median_final_value"]) if math.isfinite(s["median_final_value"]) else "",
                        f"{s['seconds']:.1f}", args.budget, csv_number(best["latency_ms"]),
                        report.format_windows(s["median_incumbent_measured"], args.budget),
                        "" if math.isinf(s["median_incumbent_seconds"]) else f"{s['median_incumbent_seconds']:.1f}",
                        len(s["claim_errors"]),
                        f"{statistics.median(s['claim_errors']):.2f}" if s["claim_errors"] else ""])

    text = report.table(summaries, args.budget, best["latency_ms"], args.threshold)
    text += (f"\nSweep: {space.size()} grid points, {feasible} feasible, {close} within {args.threshold:.0%} of the "
             f"best, {space.describe(best['point'])} (median of {best['measurements']} measurements).")
    noise = window_noise(os.path.join(args.out, "sweep_windows.csv"), space)
    if noise:
        text += (f" One window's noise: median absolute deviation {noise[0]:.0%} of the median, over the "
                 f"{noise[1]} points measured again.")
    text += "\n"
    if len(args.also) > 1:
        text += "\n" + thresholds_table(args, plan, scores)
    with open(os.path.join(args.out, "table.md"), "w") as f:
        f.write(text)
    curves = {}
    for solver, seed in plan:
        curves.setdefault(solver, []).append(scores[solver, seed])
    note = (f"Median over runs (25-75% band shaded) of best / value, both from the sweep, 0 for a point that "
            f"breaks a constraint. {space.size()}-point grid, {close} points within {args.threshold:.0%}; "
            f"{', '.join(f'{s}: {len(c)} runs' for s, c in curves.items())}; budget {args.budget}.")
    with open(os.path.join(args.out, "windows_to_95.svg"), "w") as f:
        f.write(report.svg(curves, args.budget, best["latency_ms"], args.threshold, note))
    print(text)
    log(f"bench.py: wrote {args.out}/table.md, summary.csv, runs.csv, windows.csv, windows_to_95.svg")


def first_at(curve, threshold):
    return next((n for n, v in enumerate(curve) if v >= threshold), math.inf)


def thresholds_table(args, plan, scores):
    """Median windows to several thresholds, evaluated / incumbent, and how many runs got there."""
    lines = ["Median windows to other thresholds of best / value: evaluated / incumbent "
             "(runs that got there, evaluated / incumbent).", "",
             "| solver | " + " | ".join(f"{t:.0%}" for t in args.also) + " |",
             "|---|" + "---:|" * len(args.also)]
    for solver in args.solvers:
        keys = [k for k in plan if k[0] == solver]
        if not keys:
            continue
        cells = []
        for t in args.also:
            ev = [first_at(scores[k]["evaluated"], t) for k in keys]
            inc = [first_at(scores[k]["incumbent"], t) for k in keys]
            cells.append(f"{report.format_windows(report.quantile(ev, 0.5), args.budget)} / "
                         f"{report.format_windows(report.quantile(inc, 0.5), args.budget)} "
                         f"({sum(map(math.isfinite, ev))}/{len(keys)}, {sum(map(math.isfinite, inc))}/{len(keys)})")
        lines.append(f"| {solver} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
