#!/usr/bin/env bash
# README's first command: installs what is missing, builds, and runs trimtab's main job. Until
# `trimtab demo` exists that is `trimtab solve` tuning a model of a service's latency.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
python3 examples/solve_demo.py build/agent/trimtab examples/spaces/service.yaml --solver bayes --budget 30
