#!/usr/bin/env bash
# Login storm against three authsvc instances on one PostgreSQL, auth.limits_store memory
# against database, interleaved A/B (the machine may be shared: compare ratios, not
# absolute rates). For bench/RESULTS.md, "Limits counted across instances".
#
#   bench/limits.sh [AUTHSVC_BINARY]     (default: build/authsvc)
#
# Per round and scenario, for each store (the order alternates by round: A B, B A, ...):
# three instances start on the shared database, one wrk per instance (-t1, BENCH_CONNS
# connections, BENCH_DURATION s) runs login.lua against it at the same time, then the
# instances stop. Scenarios:
#   ok     the right password: each login checks the two counters (address, email)
#   wrong  a wrong password with limits high enough never to refuse: each login checks
#          both counters and then adds to both (the most counting a login does)
#   throttled  a wrong password with the shipped limits (20 per address, 5 per account):
#          after the first few, every answer is 429 from the counters alone (no argon2id),
#          so the counting is all the work: the rate the service refuses a storm at
# Measured: logins/s of the three together (sum of the wrk rates), the CPU of the three
# instances and of the PostgreSQL server (postmaster and its backends, reaped ones
# included) per login, from /proc. Prints one TSV row per run and a summary by scenario
# and store (medians), and the ratios database/memory.
#
# Environment: BENCH_ROUNDS=3, BENCH_DURATION=8, BENCH_CONNS=4, BENCH_KEEP=1 keeps the
# work directory.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
AUTHSVC=${1:-$ROOT/build/authsvc}
ROUNDS=${BENCH_ROUNDS:-3}
DURATION=${BENCH_DURATION:-8}
CONNS=${BENCH_CONNS:-4}
CLK_TCK=$(getconf CLK_TCK)
WORK=$(mktemp -d /tmp/authsvc-limits-bench.XXXXXX)
chmod 755 "$WORK"  # the PostgreSQL server runs as another user when we are root
export BENCH_DIR="$ROOT/bench"
PIDS=()

log() { printf '[limits %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  "$ROOT/scripts/pg.sh" stop "$WORK/pg" >/dev/null 2>&1 || true
  [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT

[ -x "$AUTHSVC" ] || { log "no binary at $AUTHSVC"; exit 1; }
port=$(awk 'BEGIN {srand(); print 40000 + int(rand() * 20000)}')
while ss -ltn | grep -q ":$port "; do port=$((port + 1)); done
PG_DSN=$("$ROOT/scripts/pg.sh" start "$WORK/pg" "$port")
POSTMASTER=$(head -1 "$WORK/pg/data/postmaster.pid")

export AUTHSVC_DATABASE_BACKEND=postgresql AUTHSVC_DATABASE_POSTGRESQL_DSN="$PG_DSN"
export AUTHSVC_SERVER_HOST=127.0.0.1 AUTHSVC_SERVER_PORT=0
AUTHSVC_JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
AUTHSVC_REFRESH_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
export AUTHSVC_JWT_SECRET AUTHSVC_REFRESH_SECRET
export BENCH_EMAIL="bench@example.com"
RIGHT="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
echo "$RIGHT" | "$AUTHSVC" user add "$BENCH_EMAIL" --config "$ROOT/config.yaml" >/dev/null

# CPU ticks of the PostgreSQL server: the postmaster, its reaped children, its live ones.
pg_ticks() {
  local t
  t=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$POSTMASTER/stat")
  for c in $(ps -o pid= --ppid "$POSTMASTER"); do
    t=$((t + $(awk '{print $14 + $15}' "/proc/$c/stat" 2>/dev/null || echo 0)))
  done
  echo "$t"
}
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# run SCENARIO STORE ROUND: one run, one TSV row on stdout.
run() {
  local scenario=$1 store=$2 round=$3 pids=() ports=() logs=()
  local password=$RIGHT limit_ip=20 limit_account=5
  if [ "$scenario" = wrong ]; then password="wrong-$RIGHT"; limit_ip=1000000; limit_account=1000000; fi
  if [ "$scenario" = throttled ]; then password="wrong-$RIGHT"; fi
  for i in 0 1 2; do
    local lf="$WORK/$scenario-$store-$round-$i.log"
    AUTHSVC_AUTH_LIMITS_STORE=$store AUTHSVC_AUTH_LOGIN_RATE_LIMIT_PER_IP_PER_MINUTE=$limit_ip \
      AUTHSVC_AUTH_LOGIN_RATE_LIMIT_PER_ACCOUNT_PER_MINUTE=$limit_account \
      "$AUTHSVC" serve --config "$ROOT/config.yaml" 2>"$lf" &
    pids+=($!); PIDS+=($!); logs+=("$lf")
  done
  for i in 0 1 2; do
    local p=""
    for _ in $(seq 1 400); do
      p=$(sed -n 's/.*listening on [0-9.]*:\([0-9][0-9]*\).*/\1/p' "${logs[$i]}" | head -1)
      [ -n "$p" ] && break
      sleep 0.05
    done
    [ -n "$p" ] || { cat "${logs[$i]}" >&2; log "instance did not start"; exit 1; }
    ports+=("$p")
  done
  local pg0 cpu0=0 cpu1=0
  pg0=$(pg_ticks)
  for p in "${pids[@]}"; do cpu0=$((cpu0 + $(ticks "$p"))); done
  local wrks=()
  for i in 0 1 2; do
    BENCH_PASSWORD=$password wrk -t1 -c"$CONNS" -d"${DURATION}s" --timeout 30s \
      -s "$ROOT/bench/login.lua" "http://127.0.0.1:${ports[$i]}" >"$WORK/wrk-$i.txt" 2>&1 &
    wrks+=($!)
  done
  for w in "${wrks[@]}"; do wait "$w"; done
  for p in "${pids[@]}"; do cpu1=$((cpu1 + $(ticks "$p"))); done
  local pg1
  pg1=$(pg_ticks)
  for p in "${pids[@]}"; do kill "$p"; wait "$p" 2>/dev/null || true; done
  PIDS=()
  # The counts outlive the instances in the database (not in memory): each run starts clean.
  psql "$PG_DSN" -qc "TRUNCATE limit_counters" >/dev/null
  local requests=0 rps=0 errors=0 r
  for i in 0 1 2; do
    r=$(grep '^BENCH ' "$WORK/wrk-$i.txt" | sed 's/^BENCH //')
    requests=$((requests + $(sed -n 's/.*"requests":\([0-9]*\).*/\1/p' <<<"$r")))
    rps=$(awk -v a="$rps" -v b="$(sed -n 's/.*"rps":\([0-9.]*\).*/\1/p' <<<"$r")" 'BEGIN {print a + b}')
    errors=$((errors + $(sed -n 's/.*"status_errors":\([0-9]*\).*/\1/p' <<<"$r")))
  done
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$scenario" "$store" "$round" "$rps" "$requests" \
    "$errors" "$(awk -v t=$((cpu1 - cpu0)) -v h="$CLK_TCK" -v n="$requests" 'BEGIN {printf "%.0f", t / h * 1e6 / n}')" \
    "$(awk -v t=$((pg1 - pg0)) -v h="$CLK_TCK" -v n="$requests" 'BEGIN {printf "%.0f", t / h * 1e6 / n}')"
}

log "load before: $(cut -d' ' -f1-3 /proc/loadavg); $ROUNDS rounds, ${DURATION}s, $CONNS connections per instance"
ROWS="$WORK/rows.tsv"
printf 'scenario\tstore\tround\tlogins_per_s\tlogins\tnon_2xx\tauthsvc_cpu_us_per_login\tpg_cpu_us_per_login\n' | tee "$ROWS"
for round in $(seq 1 "$ROUNDS"); do
  for scenario in ok wrong throttled; do
    if [ $((round % 2)) = 1 ]; then order="memory database"; else order="database memory"; fi
    for store in $order; do run "$scenario" "$store" "$round" | tee -a "$ROWS"; done
  done
done
log "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$ROWS" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
med = lambda xs: statistics.median(xs)
print("\nmedians (scenario, store): logins/s, authsvc CPU us/login, PostgreSQL CPU us/login")
for sc in ("ok", "wrong", "throttled"):
    m = {}
    for st in ("memory", "database"):
        rs = [r for r in rows if r["scenario"] == sc and r["store"] == st]
        m[st] = [med([float(r[k]) for r in rs]) for k in
                 ("logins_per_s", "authsvc_cpu_us_per_login", "pg_cpu_us_per_login")]
        print(f"{sc:6} {st:9} {m[st][0]:8.1f} {m[st][1]:9.0f} {m[st][2]:7.0f}")
    # Per round ratios database/memory (the pair run back to back), then their median.
    ratios = []
    for rd in sorted({r["round"] for r in rows}):
        pair = {r["store"]: float(r["logins_per_s"]) for r in rows
                if r["scenario"] == sc and r["round"] == rd}
        ratios.append(pair["database"] / pair["memory"])
    extra = (m["database"][1] - m["memory"][1]) + (m["database"][2] - m["memory"][2])
    total = m["database"][1] + m["database"][2]
    print(f"{sc:6} database/memory logins/s per round: "
          + ", ".join(f"{x:.3f}" for x in ratios) + f" (median {med(ratios):.3f}); "
          f"extra CPU per login {extra:.0f} us = {100 * extra / total:.1f}% of a login's CPU")
EOF
