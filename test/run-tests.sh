#!/usr/bin/env bash
# The project's one test command: starts the real stack if it is not running (and stops it
# afterwards if it started it), then runs every unit and integration test with node:test.
#   test/run-tests.sh            all tests
#   test/run-tests.sh --unit     unit tests only (no stack)
#   test/run-tests.sh FILE...    the named test files (starts the stack)
set -euo pipefail
cd "$(dirname "$0")/.."

unit_only=0
files=()
for a in "$@"; do
  case "$a" in
    --unit) unit_only=1 ;;
    *) files+=("$a") ;;
  esac
done

faults=()
if ((${#files[@]} == 0)); then
  mapfile -t files < <(find schemas services detectors test -name '*.test.ts' -not -path '*/node_modules/*' -not -path 'test/faults/*' | sort)
  if ((unit_only)); then
    mapfile -t files < <(printf '%s\n' "${files[@]}" | grep -v '^test/')
  else
    # Fault tests stop and start the shared Kafka and Elasticsearch: they run alone, one at a time.
    mapfile -t faults < <(find test/faults -name '*.test.ts' 2>/dev/null | sort)
  fi
fi

started=0
if ((!unit_only)) && ! bash deploy/stack/stack.sh status >/dev/null 2>&1; then
  bash deploy/stack/stack.sh up
  started=1
fi
cleanup() { if ((started)); then bash deploy/stack/stack.sh down || true; fi; }
trap cleanup EXIT

summary=$(mktemp)
run_tests() { # concurrency, files...
  local c=$1; shift
  node --require ./test/helpers/flush-reports.cjs --import tsx --test --test-force-exit --test-reporter=spec --test-concurrency="$c" \
    --test-timeout="${PODWATCH_TEST_TIMEOUT:-600000}" "$@" | tee -a "$summary"
  return "${PIPESTATUS[0]}"
}

rc=0
run_tests "${PODWATCH_TEST_CONCURRENCY:-2}" "${files[@]}" || rc=$?
if ((${#faults[@]})); then
  echo "== fault tests (one at a time) =="
  run_tests 1 "${faults[@]}" || rc=$?
fi
# One closing line for both phases.
pass=$(sed -n 's/^ℹ pass \([0-9]*\)$/\1/p' "$summary" | awk '{s+=$1} END {print s+0}')
fail=$(sed -n 's/^ℹ fail \([0-9]*\)$/\1/p' "$summary" | awk '{s+=$1} END {print s+0}')
rm -f "$summary"
echo "tests: ${pass:-0} passed, ${fail:-0} failed"
exit $rc
