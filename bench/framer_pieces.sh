#!/usr/bin/env bash
# What a request that arrives in pieces costs (issue 21 item 3; bench/RESULTS.md, "A request
# in pieces"). Prints two tables:
# 1. the framer's own instructions (callgrind: the bench program's total with the framer
#    minus the same program's total without it) for one 4 KiB request fed in 1-, 64- and
#    4096-byte pieces, for a GET whose 4 KiB are request line and header fields and a POST
#    with ~0.7 KiB of header fields and a ~3.4 KiB body;
# 2. the server's CPU (utime + stime from /proc) per 4 KiB GET /healthz sent in one piece,
#    and in 64-byte pieces: 200 us apart (so that each is a read of its own) and back to
#    back; the server pinned to CPU 0 with one reactor thread, the client on CPU 1.
# Usage: bench/framer_pieces.sh [BUILD_DIR]   (default build-bench; it needs authsvc and
# bench_framer_pieces built there, and valgrind). BENCH_PIECES_REQUESTS (default 4000)
# requests per CPU measurement.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build-bench}
PROG="$BUILD/bench_framer_pieces"
AUTHSVC="$BUILD/authsvc"
REQUESTS=${BENCH_PIECES_REQUESTS:-4000}
for f in "$PROG" "$AUTHSVC"; do [ -x "$f" ] || { echo "missing $f" >&2; exit 1; }; done
command -v valgrind >/dev/null || { echo "valgrind is missing" >&2; exit 1; }

ir() {  # instructions of one run of the bench program
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$PROG" "$@" 2>&1 |
    sed -n 's/.*Collected : *//p'
}
echo "| request | pieces of | framer instructions | x one piece |"
echo "|---|---:|---:|---:|"
for kind in get post; do
  one=""
  for piece in 4096 64 1; do
    n=$(($(ir frame "$piece" 1 "$kind" framer) - $(ir frame "$piece" 1 "$kind" none)))
    [ -z "$one" ] && one=$n
    echo "| $kind | $piece | $n | $(awk -v a="$n" -v b="$one" 'BEGIN {printf "%.2f", a / b}') |"
  done
done

WORK=$(mktemp -d /tmp/authsvc-pieces.XXXXXX)
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
export AUTHSVC_JWT_SECRET
AUTHSVC_JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
export AUTHSVC_SERVER_HOST=127.0.0.1 AUTHSVC_SERVER_PORT=0 AUTHSVC_SERVER_THREADS=1
export AUTHSVC_DATABASE_BACKEND=sqlite AUTHSVC_DATABASE_SQLITE_PATH="$WORK/authsvc.db"
taskset -c 0 "$AUTHSVC" serve --config "$ROOT/config.yaml" 2>"$WORK/log" &
SERVER_PID=$!
port=""
for _ in $(seq 1 200); do
  port=$(sed -n 's/.*listening on [0-9.]*:\([0-9][0-9]*\).*/\1/p' "$WORK/log" | head -1)
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { cat "$WORK/log" >&2; exit 1; }
taskset -c 1 "$PROG" client "$port" "$SERVER_PID" 4096 200 1 0 >/dev/null  # warm-up
echo
echo "| pieces of | gap (us) | requests | connections | seconds | server CPU s | CPU us/request |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
for run in "4096 0" "64 200" "64 0"; do
  set -- $run
  taskset -c 1 "$PROG" client "$port" "$SERVER_PID" "$1" "$REQUESTS" 4 "$2"
done
