#!/usr/bin/env bash
# The solver benchmark in one command, on a fresh Debian 12 machine too:
#   1. installs what is missing (trimtab's build dependencies, then Optuna and Google Benchmark);
#   2. builds trimtab (scripts/build.sh, into build/);
#   3. compares the solvers: bench.py with its defaults (20 seeds, budget 100, every problem and
#      solver); arguments given to run.sh go to bench.py, e.g. `run.sh --seeds 3`;
#   4. measures ask() latency with ask_latency (Google Benchmark).
# Results land in bench/solvers/results/. BUILD_DIR (default build) is where trimtab is built, as for
# scripts/build.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
results=bench/solvers/results
build_dir=${BUILD_DIR:-build}

scripts/install-deps.sh
bench/solvers/setup.sh
scripts/build.sh

# /usr/bin/python3, not the first python3 on PATH: Debian's python3-optuna is only visible to it.
/usr/bin/python3 bench/solvers/bench.py --trimtab "$build_dir/agent/trimtab" "$@"

latency=$build_dir/bench/trimtab_bench_ask_latency
mkdir -p "$results"
"$latency" --benchmark_out="$results/ask_latency.json" --benchmark_out_format=json | tee "$results/ask_latency.txt"
