#!/usr/bin/env bash
# Installs what is missing, builds the test suite twice (optimised, and with
# AddressSanitizer + UndefinedBehaviorSanitizer) and runs every test in both.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
jobs=$(nproc)

run_suite() {  # build dir, extra cmake args...
  local dir=$1; shift
  echo "=== building $dir"
  cmake -S . -B "$dir" "$@" >/dev/null
  cmake --build "$dir" -j"$jobs"
  echo "=== testing $dir"
  (cd "$dir" && ctest -j"$jobs" --output-on-failure --timeout 180)
}

run_suite build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DAUTHSVC_SANITIZE=ON
