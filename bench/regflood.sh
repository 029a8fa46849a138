#!/usr/bin/env bash
# What a login costs in wall time while 32 connections flood POST /api/register, each
# registration from its own client address (X-Forwarded-For, with server.trusted_proxies
# 127.0.0.1/32), so the per-address registration limit lets every one through:
#
#   bench/regflood.sh
#
# Runs login.lua on one connection for BENCH_DURATION seconds alone, then again beside
# regflood.lua (BENCH_FLOOD_CONNECTIONS connections), and prints both BENCH lines and a
# Markdown table row per phase. The server is the shipped config.yaml with only the
# overrides of bench/README.md (and the trusted proxy); no CPU pinning. About 2 x
# BENCH_DURATION + 10 seconds. Everything it starts is stopped on exit.
#
# Environment (all optional):
#   BENCH_DURATION=30            seconds per phase
#   BENCH_FLOOD_CONNECTIONS=32   parallel registrations
#   AUTHSVC_BIN=build-bench/authsvc   the binary (built Release like run.sh if missing)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH="$ROOT/bench"
DURATION=${BENCH_DURATION:-30}
FLOOD=${BENCH_FLOOD_CONNECTIONS:-32}
AUTHSVC=${AUTHSVC_BIN:-$ROOT/build-bench/authsvc}
export BENCH_DIR="$BENCH"

log() { printf '[regflood %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v wrk >/dev/null || die "wrk is missing (scripts/setup.sh --bench)"
if [ ! -x "$AUTHSVC" ]; then
  log "building Release in $ROOT/build-bench"
  cmake -S "$ROOT" -B "$ROOT/build-bench" -DCMAKE_BUILD_TYPE=Release -DAUTHSVC_TESTS=OFF >/dev/null
  cmake --build "$ROOT/build-bench" -j"$(nproc)" --target authsvc >/dev/null
fi

WORK=$(mktemp -d /tmp/authsvc-regflood.XXXXXX)
PIDS=()
cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "${BENCH_KEEP:-0}" = 1 ] || [ $rc -ne 0 ]; then log "work directory kept: $WORK"; else rm -rf "$WORK"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export AUTHSVC_SERVER_HOST=127.0.0.1 AUTHSVC_SERVER_PORT=0
export AUTHSVC_SERVER_TRUSTED_PROXIES=127.0.0.1/32
export AUTHSVC_DATABASE_SQLITE_PATH="$WORK/regflood.db"
AUTHSVC_JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
AUTHSVC_REFRESH_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
export AUTHSVC_JWT_SECRET AUTHSVC_REFRESH_SECRET
export BENCH_EMAIL="bench@example.com"
BENCH_PASSWORD="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export BENCH_PASSWORD BENCH_RUN_ID=$$

echo "$BENCH_PASSWORD" | "$AUTHSVC" user add "$BENCH_EMAIL" --config "$ROOT/config.yaml" >/dev/null
"$AUTHSVC" serve --config "$ROOT/config.yaml" 2>"$WORK/server.log" &
PIDS+=("$!")
port=""
for _ in $(seq 1 200); do
  port=$(sed -n 's/.*listening on [0-9.]*:\([0-9][0-9]*\).*/\1/p' "$WORK/server.log" | head -1)
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { cat "$WORK/server.log" >&2; die "server did not start"; }
url="http://127.0.0.1:$port"

bench_line() { grep '^BENCH ' "$1" | tail -1 | sed 's/^BENCH //'; }
field() { sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" <<<"$1"; }
row() {  # row LABEL JSON
  printf '| %s | %s | %.1f | %.1f | %s |\n' "$1" "$(field "$2" requests)" \
    "$(awk -v v="$(field "$2" p50_us)" 'BEGIN {print v / 1000}')" \
    "$(awk -v v="$(field "$2" p99_us)" 'BEGIN {print v / 1000}')" \
    "$(( $(field "$2" status_errors) + $(field "$2" socket_errors) ))"
}

log "phase 1: logins alone (${DURATION}s, 1 connection)"
wrk -t1 -c1 -d"${DURATION}s" --timeout 30s -s "$BENCH/login.lua" "$url" >"$WORK/alone.txt"
alone=$(bench_line "$WORK/alone.txt")

log "phase 2: logins beside $FLOOD parallel registrations (${DURATION}s)"
wrk -t2 -c"$FLOOD" -d"$((DURATION + 3))s" --timeout 30s -s "$BENCH/regflood.lua" "$url" \
  >"$WORK/flood.txt" &
flood_pid=$!
PIDS+=("$flood_pid")
sleep 1
wrk -t1 -c1 -d"${DURATION}s" --timeout 30s -s "$BENCH/login.lua" "$url" >"$WORK/during.txt"
wait "$flood_pid"
during=$(bench_line "$WORK/during.txt")
flood=$(bench_line "$WORK/flood.txt")
throttled=$(curl -s "$url/metrics" | sed -n 's/^authsvc_registrations_throttled_total //p')

echo "alone:  $alone"
echo "during: $during"
echo "flood:  $flood"
echo
echo "| logins (1 connection) | requests | p50 ms | p99 ms | errors |"
echo "|---|---|---|---|---|"
row "alone" "$alone"
row "during $FLOOD parallel registrations" "$during"
printf '\nThe flood: %s registrations (%.1f/s), p50 %.0f ms, p99 %.0f ms, %s errors, %s refused by the limit.\n' \
  "$(field "$flood" requests)" "$(field "$flood" rps)" \
  "$(awk -v v="$(field "$flood" p50_us)" 'BEGIN {print v / 1000}')" \
  "$(awk -v v="$(field "$flood" p99_us)" 'BEGIN {print v / 1000}')" \
  "$(( $(field "$flood" status_errors) + $(field "$flood" socket_errors) ))" "${throttled:-?}"
