#!/usr/bin/env bash
# `trimtab probe --file` against the reference Go parser (expfmt's TextParser, from Debian's
# golang-github-prometheus-common-dev) on one generated Prometheus exposition: by default 540000
# series, about 49 MB, the same kind of text parse_bench.cpp measures. Builds trimtab and
# bench/parse/expfmt_parse (GOPATH mode against /usr/share/gocode: no module download), runs each
# program RUNS times (default 5), alternating, and prints a markdown table of wall and CPU
# (user + system) times, whole process, with the load average before and after.
#
#   bench/parse/compare_expfmt.sh [SERIES] [RUNS]        (BUILD_DIR=build by default)
#
# The times are only comparable on an idle machine; on a shared one the ratio says more than the
# seconds. Both programs read the whole file, parse it once, and print a summary.
set -euo pipefail
cd "$(dirname "$0")/../.."
series=${1:-540000}
runs=${2:-5}
build=${BUILD_DIR:-build}

scripts/install-deps.sh golang-go golang-github-prometheus-common-dev
cmake --build "$build" --target trimtab trimtab_bench_parse >/dev/null

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
GOPATH=/usr/share/gocode GO111MODULE=off GOCACHE="$work/gocache" \
  go build -o "$work/expfmt_parse" bench/parse/expfmt_parse/main.go
"$build/bench/parse/trimtab_bench_parse" --exposition "$series" "$work/exposition.txt"

python3 - "$runs" "$work/exposition.txt" "$build/agent/trimtab" "$work/expfmt_parse" <<'PY'
import os, resource, statistics, subprocess, sys, time

runs, path, trimtab, expfmt = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
programs = [
    ("`trimtab probe --file`", [trimtab, "probe", "--file", path]),
    ("expfmt `TextParser` (Go)", [expfmt, path]),
]

def run(command):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

def load():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]

load_before = load()
times = {name: [] for name, _ in programs}
for _ in range(runs):
    for name, command in programs:
        times[name].append(run(command))
load_after = load()

size = os.path.getsize(path)
print(f"{size} bytes ({size / 1e6:.1f} MB), {runs} runs each, load average {load_before} before, {load_after} after\n")
print("| program | wall s (median) | wall s (best) | CPU s (median) | MB/s (median wall) |")
print("|---|--:|--:|--:|--:|")
medians = {}
for name, _ in programs:
    walls = [w for w, _ in times[name]]
    cpus = [c for _, c in times[name]]
    medians[name] = (statistics.median(walls), min(walls), statistics.median(cpus))
    wall, best, cpu = medians[name]
    print(f"| {name} | {wall:.3f} | {best:.3f} | {cpu:.3f} | {size / wall / 1e6:.0f} |")
(t_name, t), (e_name, e) = [(name, medians[name]) for name, _ in programs]
print(f"| expfmt / trimtab | {e[0] / t[0]:.1f} x | {e[1] / t[1]:.1f} x | {e[2] / t[2]:.1f} x | |")
PY
