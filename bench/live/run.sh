#!/usr/bin/env bash
# The live benchmark in one command, on a fresh Debian 12 machine too:
#   1. installs what is missing (scripts/install-deps.sh: trimtab's build dependencies);
#   2. builds trimtab (scripts/build.sh, into BUILD_DIR, default build/);
#   3. runs bench.py: the sweep of bench.yaml's grid on the live demo service, then every solver and
#      seed through `trimtab demo`; arguments given to run.sh go to bench.py, e.g.
#      `run.sh --seeds 3 --reuse-sweep`.
# Results land in bench/live/results/. The default run takes about 40 minutes, all of it live
# windows; nothing else should run on the machine meanwhile (its load is noise in every window).
set -euo pipefail
cd "$(dirname "$0")/../.."
build_dir=${BUILD_DIR:-build}

scripts/install-deps.sh
scripts/build.sh

# Standard library only, but /usr/bin/python3 as in bench/solvers, so a pyenv or venv does not matter.
/usr/bin/python3 bench/live/bench.py --trimtab "$build_dir/agent/trimtab" \
  --demo-service "$build_dir/examples/demo/trimtab_demo_service" "$@"
