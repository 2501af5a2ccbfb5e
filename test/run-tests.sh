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

if ((${#files[@]} == 0)); then
  mapfile -t files < <(find schemas services detectors test -name '*.test.ts' -not -path '*/node_modules/*' | sort)
  if ((unit_only)); then
    mapfile -t files < <(printf '%s\n' "${files[@]}" | grep -v '^test/')
  fi
fi

started=0
if ((!unit_only)) && ! bash deploy/stack/stack.sh status >/dev/null 2>&1; then
  bash deploy/stack/stack.sh up
  started=1
fi
cleanup() { if ((started)); then bash deploy/stack/stack.sh down || true; fi; }
trap cleanup EXIT

node --import tsx --test --test-reporter=spec --test-concurrency="${PODWATCH_TEST_CONCURRENCY:-2}" \
  --test-timeout="${PODWATCH_TEST_TIMEOUT:-600000}" "${files[@]}"
