#!/usr/bin/env bash
# Instructions per request of one scenario, by callgrind: counts that do not depend on what
# else the machine runs (this VM has no hardware counters for perf stat).
#
#   bench/callgrind.sh BUILD_DIR SCENARIO [SECONDS]
#
# SCENARIO: protected | protected-es256 | es256-distinct (20,000 ES256 tokens cycled, no
# cache hit) | refresh (SQLite) | refresh-pg (PostgreSQL at
# $BENCH_PG_DSN, e.g. from scripts/pg.sh; its schema public is emptied first). Starts BUILD_DIR/authsvc under
# `valgrind --tool=callgrind` (one reactor thread, the shipped config.yaml), warms it up
# with wrk for 3 s, zeroes the counts, runs `wrk -t1 -c4` for SECONDS (default 10), dumps,
# and prints the requests, the total instructions and the instructions per request, then
# the 40 functions with the most inclusive instructions (callgrind_annotate --inclusive).
# The dump stays in the work directory (printed; BENCH_KEEP=1 keeps all of it) for
# `callgrind_annotate --inclusive=yes --tree=calling FILE`.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 2 ] || { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
BUILD=$(cd "$1" && pwd)
SCENARIO=$2
SECONDS_RUN=${3:-10}
WORK=$(mktemp -d /tmp/authsvc-callgrind.XXXXXX)
PID=""
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
  [ "${BENCH_KEEP:-0}" = 1 ] || find "$WORK" -mindepth 1 ! -name 'callgrind.out*' -delete
}
trap cleanup EXIT

export BENCH_DIR="$ROOT/bench" BENCH_EMAIL="bench@example.com" BENCH_PASSWORD="bench-password-cg"
export AUTHSVC_JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
export AUTHSVC_REFRESH_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
export AUTHSVC_SERVER_HOST=127.0.0.1 AUTHSVC_SERVER_PORT=0 AUTHSVC_SERVER_THREADS=1
export AUTHSVC_DATABASE_BACKEND=sqlite AUTHSVC_DATABASE_SQLITE_PATH="$WORK/authsvc.db"
DB=sqlite
DB_AT="$WORK/authsvc.db"
if [ "$SCENARIO" = refresh-pg ]; then
  : "${BENCH_PG_DSN:?refresh-pg needs BENCH_PG_DSN}"
  psql "$BENCH_PG_DSN" -qc 'DROP SCHEMA public CASCADE; CREATE SCHEMA public' >/dev/null
  export AUTHSVC_DATABASE_BACKEND=postgresql AUTHSVC_DATABASE_POSTGRESQL_DSN="$BENCH_PG_DSN"
  DB=postgresql
  DB_AT=$BENCH_PG_DSN
fi
# The config.yaml of the build's own source tree (keys differ between revisions).
CFG="$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$BUILD/CMakeCache.txt")/config.yaml"
if [ "$SCENARIO" = protected-es256 ] || [ "$SCENARIO" = es256-distinct ]; then
  export AUTHSVC_JWT_KEYS_DIR="$WORK/keys"
  AUTHSVC_JWT_SIGNING_KID=$("$BUILD/authsvc" keys generate --config "$CFG")
  export AUTHSVC_JWT_SIGNING_KID
fi
echo "$BENCH_PASSWORD" | "$BUILD/authsvc" user add "$BENCH_EMAIL" --config "$CFG" >/dev/null
SCRIPT=protected.lua
ARGS=()
if [ "$SCENARIO" = refresh ] || [ "$SCENARIO" = refresh-pg ]; then
  "$BUILD/bench_seed" "$DB" "$DB_AT" 40000 "$WORK/tokens.txt" "$BENCH_EMAIL" >/dev/null 2>&1
  SCRIPT=refresh.lua
  ARGS=(-- "$WORK/tokens.txt" 1)
fi
if [ "$SCENARIO" = es256-distinct ]; then
  # 40,000 tokens: the warm-up's (and the cache's) are not the run's.
  "$BUILD/bench_es256" mint "$AUTHSVC_JWT_KEYS_DIR" "$AUTHSVC_JWT_SIGNING_KID" 40000 "$WORK/minted.txt" 1 >/dev/null
  tail -n 20000 "$WORK/minted.txt" >"$WORK/access-warm.txt"
  head -n 20000 "$WORK/minted.txt" >"$WORK/access.txt"
  export BENCH_ACCESS_TOKEN_FILE="$WORK/access-warm.txt"
  SCRIPT=protected-distinct.lua
  ARGS=(-- 1)
fi
valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out" \
  "$BUILD/authsvc" serve --config "$CFG" 2>"$WORK/server.log" &
PID=$!
PORT=""
for _ in $(seq 1 600); do
  PORT=$(sed -n 's/.*listening on [0-9.]*:\([0-9][0-9]*\).*/\1/p' "$WORK/server.log" | head -1)
  [ -n "$PORT" ] && break
  sleep 0.1
done
[ -n "$PORT" ] || { cat "$WORK/server.log"; exit 1; }
URL="http://127.0.0.1:$PORT"
TOKEN=$(curl -sf "$URL/api/login" -H 'Content-Type: application/json' \
  -d "{\"email\":\"$BENCH_EMAIL\",\"password\":\"$BENCH_PASSWORD\"}" |
  sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
export BENCH_ACCESS_TOKEN=$TOKEN
if [ "$SCENARIO" = refresh ] || [ "$SCENARIO" = refresh-pg ]; then
  # The warm-up takes its own tokens: the second half of the file.
  tail -n 20000 "$WORK/tokens.txt" >"$WORK/warm.txt"
  head -n 20000 "$WORK/tokens.txt" >"$WORK/run.txt"
  wrk -t1 -c4 -d3s -s "$ROOT/bench/$SCRIPT" "$URL" -- "$WORK/warm.txt" 1 >/dev/null
  ARGS=(-- "$WORK/run.txt" 1)
else
  wrk -t1 -c4 -d3s -s "$ROOT/bench/$SCRIPT" "$URL" "${ARGS[@]}" >/dev/null
fi
callgrind_control -z "$PID" >/dev/null
[ "$SCENARIO" != es256-distinct ] || export BENCH_ACCESS_TOKEN_FILE="$WORK/access.txt"
OUT=$(wrk -t1 -c4 -d"${SECONDS_RUN}s" -s "$ROOT/bench/$SCRIPT" "$URL" "${ARGS[@]}")
callgrind_control -d "$PID" >/dev/null
sleep 1
N=$(sed -n 's/.*"requests":\([0-9]*\).*/\1/p' <<<"$OUT")
ERRS=$(sed -n 's/.*"status_errors":\([0-9]*\).*/\1/p' <<<"$OUT")
DUMP=$(ls -t "$WORK"/callgrind.out.* | head -1)
TOTAL=$(callgrind_annotate "$DUMP" 2>/dev/null | sed -n 's/^\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
echo "scenario=$SCENARIO requests=$N non2xx=$ERRS instructions=$TOTAL per_request=$((TOTAL / N))"
echo "dump: $DUMP"
callgrind_annotate --inclusive=yes "$DUMP" 2>/dev/null | sed -n '/^Ir/,$p' | head -45
