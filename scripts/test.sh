#!/usr/bin/env bash
# README's second command: installs what is missing, builds, and runs every test:
#   1. the suite (unit tests, CLI tests) on a warnings-as-errors build;
#   2. the installed package, consumed by tests/consumer through find_package(trimtab);
#   3. every libFuzzer target for FUZZ_SECONDS (default 20) each;
#   4. the suite again under AddressSanitizer and UndefinedBehaviorSanitizer (last, so the run
#      ends with CTest's summary).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh chromium redis-server pgbouncer postgresql wrk

jobs=$(nproc)
echo "== build and test"
BUILD_DIR=build scripts/build.sh -DCMAKE_CXX_FLAGS=-Werror
ctest --test-dir build --output-on-failure --parallel "$jobs"

echo "== install, then build a consumer against the installed package"
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install build --prefix "$prefix/usr" >/dev/null
cmake -S tests/consumer -B "$prefix/consumer-build" -G Ninja -DCMAKE_PREFIX_PATH="$prefix/usr" >/dev/null
cmake --build "$prefix/consumer-build"
"$prefix/consumer-build/trimtab_consumer"

echo "== fuzz"
FUZZ_SECONDS=${FUZZ_SECONDS:-20} scripts/fuzz.sh

echo "== build and test under ASan + UBSan"
BUILD_DIR=build-sanitize BUILD_TYPE=Debug scripts/build.sh -DTRIMTAB_SANITIZE=ON -DCMAKE_CXX_FLAGS=-Werror
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-sanitize --output-on-failure --parallel "$jobs"
