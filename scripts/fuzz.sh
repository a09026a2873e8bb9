#!/usr/bin/env bash
# Builds every libFuzzer target in fuzz/ with clang (ASan + UBSan) and runs each for
# FUZZ_SECONDS (default 30), seeded from fuzz/corpus/<name>/. New inputs go to a scratch folder, so
# the committed corpus changes only when someone copies a finding into it; a crash fails the run
# and leaves its input in build-fuzz/findings/<name>/, to become a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh clang libclang-rt-14-dev

seconds=${FUZZ_SECONDS:-30}
build=build-fuzz
CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DTRIMTAB_FUZZ=ON \
  -DTRIMTAB_BUILD_TESTS=OFF >/dev/null
targets=()
for source in fuzz/*_fuzz.cpp; do targets+=("$(basename "$source" .cpp)"); done
cmake --build "$build" --target "${targets[@]}" --parallel "$(nproc)"

for target in "${targets[@]}"; do
  name=${target%_fuzz}
  scratch="$build/corpus/$name"
  findings="$build/findings/$name"
  mkdir -p "$scratch" "$findings"
  echo "== fuzz $name for ${seconds}s"
  "$build/fuzz/$target" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$findings/" \
    "$scratch" "fuzz/corpus/$name" 2>&1 | grep -E "^(stat::number_of_executed_units|stat::new_units_added|==[0-9]+==ERROR|SUMMARY)" || true
  if [ -n "$(ls -A "$findings")" ]; then
    echo "fuzz: $name found a crash: $(ls "$findings")" >&2
    exit 1
  fi
done
