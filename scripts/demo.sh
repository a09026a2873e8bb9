#!/usr/bin/env bash
# README's first command: installs what is missing, builds the trimtab binary (only what the demo
# needs: no tests, benchmarks or examples beyond the demo), and runs trimtab's main job, `trimtab
# demo`: the demo service under load on loopback, tuned for about two minutes. Arguments go to
# `trimtab demo` (see `build/agent/trimtab demo --help`). BUILD_DIR (default build/) as for
# scripts/build.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
scripts/install-deps.sh
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} >/dev/null
cmake --build "$build_dir" --target trimtab --parallel "$(nproc)"
"$build_dir/agent/trimtab" demo "$@"
