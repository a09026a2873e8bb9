#!/usr/bin/env bash
# The reliability and security campaign, end to end, with a summary table:
#   faults      tests/reliability/fault_injection_test.py  nine faults into a running agent
#   kills       tests/reliability/crash_consistency_test.py  SIGKILL at random points, restart, check
#   property    unit.guardrail_property                    randomised proposals through the loop
#   fuzz        scripts/fuzz.sh                            every libFuzzer target from its corpus
#   soak        tests/reliability/soak.py                  the agent tuning the demo service under wrk
#   security    tests/reliability/security_test.py         control server, file modes, secrets
#
#   scripts/reliability.sh             the full campaign (fuzz 120 s a target, soak 600 s, 1e6 proposals)
#   scripts/reliability.sh --bounded   what CI runs on every change (fuzz 10 s a target, soak 90 s)
#
# Installs what is missing and builds into BUILD_DIR (default build/) first. Logs and the soak's
# CSV go to RELIABILITY_OUT (default build/reliability/). Exit status 0 when every part passed.
set -uo pipefail
cd "$(dirname "$0")/.."

bounded=false
[ "${1:-}" = "--bounded" ] && bounded=true
if $bounded; then fuzz_seconds=10; soak_seconds=90; proposals=1000000; else fuzz_seconds=120; soak_seconds=600; proposals=1000000; fi
kills=${CRASH_KILLS:-100}

build=${BUILD_DIR:-build}
out=${RELIABILITY_OUT:-$build/reliability}
set -e
scripts/install-deps.sh redis-server wrk clang libclang-rt-14-dev
[ -x "$build/agent/trimtab" ] || BUILD_DIR="$build" scripts/build.sh
set +e
mkdir -p "$out"
trimtab=$build/agent/trimtab
demo_service=$build/examples/demo/trimtab_demo_service

declare -A result detail
run_part() { # name, command...
  local name=$1
  shift
  echo "== reliability: $name"
  local started=$SECONDS
  if "$@" >"$out/$name.log" 2>&1; then result[$name]=passed; else result[$name]=FAILED; fi
  detail[$name]="$((SECONDS - started)) s"
  tail -n 5 "$out/$name.log"
}

run_part faults python3 tests/reliability/fault_injection_test.py "$trimtab"
run_part kills env CRASH_KILLS="$kills" python3 tests/reliability/crash_consistency_test.py "$trimtab"
run_part property env TRIMTAB_PROPERTY_PROPOSALS="$proposals" "$build/tests/trimtab_tests" \
  --run_test=guardrail_property --log_level=message --color_output=false
run_part fuzz env FUZZ_SECONDS="$fuzz_seconds" scripts/fuzz.sh
run_part soak python3 tests/reliability/soak.py "$trimtab" "$demo_service" --seconds "$soak_seconds" --out "$out"
run_part security python3 tests/reliability/security_test.py "$trimtab"

# A part's summary line: from where its pattern starts (unittest prints it after the test's name),
# runs of spaces squeezed, no terminal colours.
line_of() { grep -h -m1 -o "$2.*" "$out/$1.log" | sed 's/\x1b\[[0-9;]*m//g' | tr -s ' '; }
fuzz_runs=$(grep -h "stat::number_of_executed_units" "$out/fuzz.log" | awk '{s += $2} END {print s + 0}')
fuzz_targets=$(grep -c "^== fuzz " "$out/fuzz.log")
fuzz_crashes=$(grep -c "found a crash" "$out/fuzz.log")

echo
echo "reliability campaign ($($bounded && echo bounded || echo full))"
printf '%-9s %-7s %-9s %s\n' part result time summary
row() { printf '%-9s %-7s %-9s %s\n' "$1" "${result[$1]}" "${detail[$1]}" "$2"; }
row faults "$(line_of faults 'fault injection:')"
row kills "$(line_of kills 'crash consistency:')"
row property "$(line_of property 'guardrail property:')"
row fuzz "$fuzz_targets targets x ${fuzz_seconds} s: $fuzz_runs executions, $fuzz_crashes crashes"
row soak "$(line_of soak 'agent RSS') | $(line_of soak 'agent CPU') | $(line_of soak 'p99 kept')"
row security "$(line_of security 'checks passed')"

for part in faults kills property fuzz soak security; do
  [ "${result[$part]}" = passed ] || { echo "reliability: $part failed; see $out/$part.log" >&2; exit 1; }
done
echo "reliability: every part passed"
