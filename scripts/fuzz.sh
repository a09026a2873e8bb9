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

# libFuzzer is single-threaded: one target a core at a time, their reports printed in order after.
run_target() { # target
  local name=${1%_fuzz}
  mkdir -p "$build/corpus/$name" "$build/findings/$name"
  "$build/fuzz/$1" -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$build/findings/$name/" \
    "$build/corpus/$name" "fuzz/corpus/$name" >"$build/logs/$name.log" 2>&1 || true
}
mkdir -p "$build/logs"
for target in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$(nproc)" ]; do wait -n || true; done
  run_target "$target" &
done
wait

crashed=false
for target in "${targets[@]}"; do
  name=${target%_fuzz}
  echo "== fuzz $name for ${seconds}s"
  grep -E "^(stat::number_of_executed_units|stat::new_units_added|==[0-9]+==ERROR|SUMMARY)" "$build/logs/$name.log" || true
  if [ -n "$(ls -A "$build/findings/$name")" ]; then
    echo "fuzz: $name found a crash: $(ls "$build/findings/$name")" >&2
    crashed=true
  fi
done
! $crashed
