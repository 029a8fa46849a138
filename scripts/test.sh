#!/usr/bin/env bash
# Installs what is missing, starts a throwaway PostgreSQL and MariaDB, builds the test suite
# twice and runs it in both: unit tests, and the integration suite on SQLite, on PostgreSQL
# and on MariaDB.
# - build-test: GCC, optimised, warnings as errors, everything (the bench programs and the
#   examples too); it also packages and checks the Debian package (ctest package.deb).
# - build-asan: clang-15 with AddressSanitizer + UndefinedBehaviorSanitizer and libFuzzer's
#   coverage (AUTHSVC_FUZZ), which also builds the fuzz targets: after the suite each replays
#   its seeds and then searches 4,000 executions with a fixed -seed (scripts/fuzz.sh). Its
#   integration suite runs on SQLite only; the PostgreSQL storage code runs under the
#   sanitizers in the unit tests (PostgresRotationTest and others, on the same throwaway
#   server).
# The core library and the test binaries are unity builds (AUTHSVC_UNITY): the suite's
# time is mostly compiling.
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
# PgBouncer in transaction pooling in front of it (the pgbouncer.* tests, tests/CMakeLists.txt).
pgbdir=$(mktemp -d /tmp/authsvc-test-pgbouncer.XXXXXX)
chmod 755 "$pgbdir"
cleanup() { scripts/pgbouncer.sh stop "$pgbdir/b"; rm -rf "$pgbdir"; scripts/pg.sh stop "$pgdir"; rm -rf "$pgdir"; }
for attempt in 1 2 3 4 5; do
  pgbport=$((20000 + RANDOM % 30000))
  if AUTHSVC_TEST_PGBOUNCER_DSN=$(scripts/pgbouncer.sh start "$pgbdir/b" "$pgbport" "$port" 2>/dev/null); then break; fi
  AUTHSVC_TEST_PGBOUNCER_DSN=""
done
[ -n "$AUTHSVC_TEST_PGBOUNCER_DSN" ] || { echo "could not start PgBouncer for the tests" >&2; exit 1; }
export AUTHSVC_TEST_PGBOUNCER_DSN
echo "=== PgBouncer (transaction pooling) for the tests: $AUTHSVC_TEST_PGBOUNCER_DSN"

# MariaDB (scripts/mariadb.sh) for the "mysql." run and MysqlRotationTest.
mydir=$(mktemp -d /tmp/authsvc-test-mariadb.XXXXXX)
trap 'cleanup; scripts/mariadb.sh stop "$mydir"; rm -rf "$mydir"' EXIT
for attempt in 1 2 3 4 5; do
  myport=$((20000 + RANDOM % 30000))
  if scripts/mariadb.sh start "$mydir" "$myport" >/dev/null; then break; fi
  myport=""
done
[ -n "$myport" ] || { echo "could not start MariaDB for the tests" >&2; exit 1; }
export AUTHSVC_TEST_MYSQL_DSN="host=127.0.0.1 port=$myport user=app"
echo "=== MariaDB for the tests: $AUTHSVC_TEST_MYSQL_DSN"

run_suite() {  # build dir, targets ("" for all), tests to leave out ("" for none), cmake args...
  local dir=$1 targets=$2 exclude=$3; shift 3
  echo "=== building $dir"
  cmake -S . -B "$dir" "$@" >/dev/null
  # shellcheck disable=SC2086 # targets: a word list
  cmake --build "$dir" -j"$jobs" ${targets:+--target $targets}
  echo "=== testing $dir"
  (cd "$dir" && ctest -j"$jobs" --output-on-failure --timeout 180 ${exclude:+-E "$exclude"})
}

# Debug information: function names (-g1) and line tables, enough for stack traces; full
# -g costs 35% to 110% more compile time per file here.
run_suite build-test "" "" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DAUTHSVC_WERROR=ON -DAUTHSVC_UNITY=ON
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  run_suite build-asan test_binaries "^(postgresql|pgbouncer|mysql)[.]" \
  -DCMAKE_CXX_COMPILER=clang++-15 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" -DAUTHSVC_FUZZ=ON \
  -DAUTHSVC_UNITY=ON
# The fuzz targets replay their seeds and search a fixed number of executions with a fixed
# -seed (deterministic: no chance finding turns CI red); scripts/fuzz.sh 60 (or more) is the
# random search, run before an issue is resolved.
AUTHSVC_FUZZ_BUILD=build-asan AUTHSVC_FUZZ_RUNS=4000 AUTHSVC_FUZZ_SEED=1 scripts/fuzz.sh
