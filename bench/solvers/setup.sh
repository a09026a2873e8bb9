#!/usr/bin/env bash
# Installs what the solver benchmark needs beyond trimtab's own build dependencies: Debian's
# Optuna 3.1 (for the TPE and random baselines) and Google Benchmark (for ask_latency).
#
# Debian's packages install into /usr/bin/python3's dist-packages, so the benchmark runs with
# /usr/bin/python3 rather than whatever `python3` is first on PATH (a pyenv or venv interpreter does
# not see dist-packages).
#
# --no-install-recommends matters: never let apt pull python3-scipy or python3-sklearn. They depend
# on the unversioned Boost 1.74 packages, which conflict with the Boost 1.81 trimtab builds
# against. Optuna's default TPESampler does not need scipy.
set -euo pipefail

packages=(python3 python3-optuna libbenchmark-dev)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"

# Belt and braces: fail loudly if something did drag scipy in.
if dpkg-query -W -f='${Status}' python3-scipy 2>/dev/null | grep -q "install ok installed"; then
  echo "setup.sh: python3-scipy is installed; it pulls Boost 1.74 and breaks trimtab's build" >&2
  exit 1
fi
