#!/usr/bin/env bash
# Installs what building and testing trimtab needs on Debian 12, plus any packages named as
# arguments, skipping apt entirely when everything is already there. Boost comes as the 1.81
# packages: the unversioned libboost-*-dev names pull 1.74, and so do python3-scipy and
# python3-sklearn, which must never be installed here.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config python3
  libboost1.81-dev libboost-json1.81-dev libboost-test1.81-dev libboost-program-options1.81-dev
  libyaml-cpp-dev libeigen3-dev libnlopt-dev
  libbenchmark-dev libpq-dev
  "$@"
)

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
