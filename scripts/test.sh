#!/usr/bin/env bash
# Installs what is missing, starts a throwaway PostgreSQL, builds the test suite twice
# (optimised, and with AddressSanitizer + UndefinedBehaviorSanitizer) and runs every test
# in both: unit tests, and the integration suite once on SQLite and once on PostgreSQL
# (the first build also packages and checks the Debian package, ctest package.deb); then
# builds the fuzz targets and runs each for a few seconds (scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test --fuzz
jobs=$(nproc)

pgdir=$(mktemp -d /tmp/authsvc-test-pg.XXXXXX)
chmod 755 "$pgdir"
cleanup() { scripts/pg.sh stop "$pgdir"; rm -rf "$pgdir"; }
trap cleanup EXIT
for attempt in 1 2 3 4 5; do
  port=$((20000 + RANDOM % 30000))
  if dsn=$(scripts/pg.sh start "$pgdir" "$port" 2>/dev/null); then break; fi
  dsn=""
done
[ -n "$dsn" ] || { echo "could not start PostgreSQL for the tests" >&2; exit 1; }
export AUTHSVC_TEST_PG_DSN="host=127.0.0.1 port=$port user=app"
echo "=== PostgreSQL for the tests: $AUTHSVC_TEST_PG_DSN"

run_suite() {  # build dir, targets ("" for all), extra cmake args...
  local dir=$1 targets=$2; shift 2
  echo "=== building $dir"
  cmake -S . -B "$dir" "$@" >/dev/null
  # shellcheck disable=SC2086 # targets: a word list
  cmake --build "$dir" -j"$jobs" ${targets:+--target $targets}
  echo "=== testing $dir"
  (cd "$dir" && ctest -j"$jobs" --output-on-failure --timeout 180)
}

# The first build compiles everything (the bench programs too); the sanitizer build only
# what the tests run.
run_suite build-test "" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAUTHSVC_WERROR=ON
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite build-asan "authsvc unit_tests integration_tests" -DCMAKE_BUILD_TYPE=Debug \
  -DAUTHSVC_SANITIZE=ON -DAUTHSVC_WERROR=ON
# The fuzz targets keep building and run briefly from their seeds (scripts/fuzz.sh 60+
# for a real search).
scripts/fuzz.sh 5
