#!/usr/bin/env bash
# parse_bench.cpp's throughput pinned to each CPU in turn: RUNS runs per CPU (default 10),
# alternating CPUs so that a slow spell of the host hits both alike, then one markdown table per
# exposition size with each CPU's median, quartiles, range and how many runs reached 1 GB/s, with
# the load average before and after. Beside each run's parse goes the bench's reference scan (one
# table lookup per byte of the same text, timed right after the parse), and the table counts the
# runs that were slow in both: a slow spell of the CPU, not of the parser. The per-run numbers go
# to bench/parse/results/pinned.csv.
#
#   bench/parse/pinned.sh [RUNS]          (BUILD_DIR=build by default)
#
# Why pinned: on a virtual machine the vCPUs need not be equally fast, and an unpinned run lands on
# whichever the scheduler picks, so its spread mixes the two. Run it on an idle machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-10}
build=${BUILD_DIR:-build}
cmake --build "$build" --target trimtab_bench_parse >/dev/null
bench="$build/bench/parse/trimtab_bench_parse"
cpus=$(nproc)
mkdir -p bench/parse/results
csv=bench/parse/results/pinned.csv
scratch=$(mktemp)
trap 'rm -f "$scratch"' EXIT

load_before=$(cut -d' ' -f1 /proc/loadavg)
echo "run,cpu,series,mb_per_s,reference_mb_per_s" >"$csv"
for run in $(seq 1 "$runs"); do
  for cpu in $(seq 0 $((cpus - 1))); do
    taskset -c "$cpu" "$bench" "$scratch" >/dev/null 2>&1
    # parse.csv's columns: series,bytes,mb_per_s,... and reference_mb_per_s last
    tail -n +2 "$scratch" | awk -F, -v run="$run" -v cpu="$cpu" \
      '$1 ~ /^[0-9]+$/ && !seen[$1]++ { print run "," cpu "," $1 "," $3 "," $NF }' >>"$csv"
  done
done
load_after=$(cut -d' ' -f1 /proc/loadavg)

/usr/bin/python3 - "$csv" "$runs" "$load_before" "$load_after" <<'PY'
import csv, statistics, sys
path, runs, before, after = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
rows = list(csv.DictReader(open(path)))
print(f"{runs} runs per CPU, alternating; load average {before} before, {after} after\n")
# A run is in a slow spell when its reference scan is under 3/4 of the fastest reference scan seen.
fastest_reference = max(float(r["reference_mb_per_s"]) for r in rows)
print("| series | CPU | median MB/s | quartiles | range | runs >= 1000 MB/s | reference scan MB/s, median | slow spells (reference < 3/4 of best) | median MB/s outside them |")
print("|--:|--:|--:|---|---|--:|--:|--:|--:|")
for series in sorted({int(r["series"]) for r in rows}):
    for cpu in sorted({int(r["cpu"]) for r in rows}):
        mine = [r for r in rows if int(r["series"]) == series and int(r["cpu"]) == cpu]
        v = sorted(float(r["mb_per_s"]) for r in mine)
        q = statistics.quantiles(v, n=4) if len(v) > 1 else [v[0], v[0], v[0]]
        fast = sum(x >= 1000 for x in v)
        reference = statistics.median(float(r["reference_mb_per_s"]) for r in mine)
        steady = [float(r["mb_per_s"]) for r in mine if float(r["reference_mb_per_s"]) >= 0.75 * fastest_reference]
        outside = f"{statistics.median(steady):.0f}" if steady else "-"
        print(f"| {series} | {cpu} | {statistics.median(v):.0f} | {q[0]:.0f}-{q[2]:.0f} | {v[0]:.0f}-{v[-1]:.0f} | {fast}/{len(v)} "
              f"| {reference:.0f} | {len(mine) - len(steady)}/{len(mine)} | {outside} |")
PY
