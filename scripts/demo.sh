#!/usr/bin/env bash
# README's first command: installs what is missing, builds, and runs trimtab's main job, `trimtab
# demo`: the demo service under load on loopback, tuned for about two minutes. Arguments go to
# `trimtab demo` (see `build/agent/trimtab demo --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
build/agent/trimtab demo "$@"
