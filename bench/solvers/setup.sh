#!/usr/bin/env bash
# Installs what the solver benchmark needs beyond trimtab's own build dependencies (which include
# Google Benchmark, for ask_latency): Debian's Optuna 3.1, for the TPE and random baselines.
#
# Debian's packages install into /usr/bin/python3's dist-packages, so the benchmark runs with
# /usr/bin/python3 rather than whatever `python3` is first on PATH (a pyenv or venv interpreter does
# not see dist-packages).
#
# --no-install-recommends matters: never let apt pull python3-scipy or python3-sklearn. They depend
# on the unversioned Boost 1.74 packages, which conflict with the Boost 1.81 trimtab builds
# against. Optuna's default TPESampler does not need scipy.
set -euo pipefail

cd "$(dirname "$0")/../.."
scripts/install-deps.sh python3-optuna

# Belt and braces: fail loudly if something did drag scipy in.
if dpkg-query -W -f='${Status}' python3-scipy 2>/dev/null | grep -q "install ok installed"; then
  echo "setup.sh: python3-scipy is installed; it pulls Boost 1.74 and breaks trimtab's build" >&2
  exit 1
fi
