#!/usr/bin/env bash
# What database.postgresql.prepared_statements false, and PgBouncer in transaction pooling,
# cost on POST /api/refresh_token: one binary, three ways, interleaved on the same machine.
#
#   bench/pgbouncer.sh [BINARY]      (default build/authsvc)
#
#   A  PostgreSQL directly, prepared_statements true (named statements, parsed once)
#   B  PostgreSQL directly, prepared_statements false (unnamed: parsed at every execution)
#   C  through PgBouncer (transaction pooling, 8 server connections), prepared_statements false
# A throwaway PostgreSQL (scripts/pg.sh) and PgBouncer (scripts/pgbouncer.sh), one database.
# Each run: a fresh server (server.threads 1, taskset CPU 0, beside PostgreSQL and PgBouncer),
# BENCH_CONNECTIONS (16) refresh chains fed by 3 logins each (refresh-chain.lua), wrk -t1
# on CPU 1 for BENCH_DURATION (5 s). BENCH_ROUNDS (5) rounds, the order rotating (ABC, BCA,
# CAB, ...) so that drift and the other load of the machine fall on all three alike; the
# ratios B/A and C/A are taken within each round and their median printed, of the rate and
# of the CPU time per refresh of authsvc, PgBouncer and PostgreSQL together (less disturbed
# than the rate by whatever else runs on the machine).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(readlink -f "${1:-$ROOT/build/authsvc}")
DURATION=${BENCH_DURATION:-5}
ROUNDS=${BENCH_ROUNDS:-5}
CONNS=${BENCH_CONNECTIONS:-16}
WORK=$(mktemp -d /tmp/authsvc-bench-pgb.XXXXXX)
chmod 755 "$WORK"
SERVER=""
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
  "$ROOT/scripts/pgbouncer.sh" stop "$WORK/pgb" || true
  "$ROOT/scripts/pg.sh" stop "$WORK/pg" || true
  rm -rf "$WORK"
}
trap cleanup EXIT
die() { echo "bench/pgbouncer.sh: $*" >&2; exit 1; }

pgport=$((40000 + RANDOM % 10000)); pgbport=$((50000 + RANDOM % 10000))
PG=$(taskset -c 0 "$ROOT/scripts/pg.sh" start "$WORK/pg" "$pgport")
PGB="$(taskset -c 0 "$ROOT/scripts/pgbouncer.sh" start "$WORK/pgb" "$pgbport" "$pgport" 8) dbname=authsvc"

export AUTHSVC_JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
export AUTHSVC_REFRESH_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
export AUTHSVC_SERVER_HOST=127.0.0.1 AUTHSVC_SERVER_PORT=0 AUTHSVC_SERVER_THREADS=1
export AUTHSVC_DATABASE_BACKEND=postgresql AUTHSVC_AUTH_REGISTER_RATE_LIMIT_PER_IP_PER_HOUR=0
export AUTHSVC_AUTH_LOGIN_RATE_LIMIT_PER_IP_PER_MINUTE=1000000
export AUTHSVC_AUTH_LOGIN_RATE_LIMIT_PER_ACCOUNT_PER_MINUTE=1000000
# The logins that feed the chains only: cheap hashes (refreshes hash no password).
export AUTHSVC_AUTH_ARGON2ID_MEMORY_KIB=64 AUTHSVC_AUTH_ARGON2ID_ITERATIONS=1
PASSWORD="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"

CLK_TCK=$(getconf CLK_TCK)
POSTMASTER=$(head -1 "$WORK/pg/data/postmaster.pid")
BOUNCER=$(cat "$WORK/pgb/pgbouncer.pid")
# CPU ticks (user + system) of authsvc ($1), PgBouncer, the postmaster and its children (the
# backends serving the run): the whole cost of a refresh, whatever else loads the machine.
cpu_ticks() {
  local pids total=0 p
  pids="$1 $BOUNCER $POSTMASTER $(ps -o pid= --ppid "$POSTMASTER")"
  for p in $pids; do
    [ -r "/proc/$p/stat" ] || continue
    total=$((total + $(sed 's/^.*) //' "/proc/$p/stat" | awk '{print $12 + $13}')))
  done
  echo "$total"
}

own_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }

run_one() {  # run_one VARIANT ROUND -> "VARIANT ROUND rate p50 p99 bad cpu_us authsvc_cpu_us"

  local v=$1 round=$2 dsn=$PG prep=true
  case $v in B) prep=false ;; C) dsn=$PGB; prep=false ;; esac
  local log="$WORK/server-$v-$round.log" port=""
  AUTHSVC_DATABASE_POSTGRESQL_DSN=$dsn AUTHSVC_DATABASE_POSTGRESQL_PREPARED_STATEMENTS=$prep \
    taskset -c 0 "$BIN" serve --config "$ROOT/config.yaml" >"$log" 2>&1 &
  SERVER=$!
  for _ in $(seq 200); do
    port=$(sed -n 's/.*listening on [0-9.]*:\([0-9][0-9]*\).*/\1/p' "$log" | head -1)
    [ -n "$port" ] && break
    kill -0 "$SERVER" 2>/dev/null || die "server exited: $(tail -3 "$log")"
    sleep 0.05
  done
  [ -n "$port" ] || die "server did not start"
  local url="http://127.0.0.1:$port" email="b-$v-$round-$RANDOM@example.com"
  curl -sf "$url/api/register" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"$PASSWORD\"}" >/dev/null || die "register failed"
  seq $((CONNS * 3)) | xargs -P 4 -I{} curl -sf "$url/api/login" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"$PASSWORD\"}" |
    grep -o '"refresh_token":"[^"]*"' | cut -d'"' -f4 >"$WORK/tokens"
  [ "$(wc -l <"$WORK/tokens")" -eq $((CONNS * 3)) ] || die "logins failed"
  local out before after
  local own_before own_after
  before=$(cpu_ticks "$SERVER"); own_before=$(own_ticks "$SERVER")
  out=$(taskset -c 1 wrk -t1 -c"$CONNS" -d"${DURATION}s" --timeout 30s \
    -s "$ROOT/bench/refresh-chain.lua" "$url" -- "$WORK/tokens" 1 | grep '^CHAIN')
  after=$(cpu_ticks "$SERVER"); own_after=$(own_ticks "$SERVER")
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
  local rate p50 p99 bad
  rate=$(sed -n 's/.* rate=\([0-9]*\).*/\1/p' <<<"$out")
  p50=$(sed -n 's/.* p50_us=\([0-9]*\).*/\1/p' <<<"$out")
  p99=$(sed -n 's/.* p99_us=\([0-9]*\).*/\1/p' <<<"$out")
  bad=$(sed -n 's/.* bad=\([0-9]*\).*/\1/p' <<<"$out")
  local ok cpu own
  ok=$(sed -n 's/.* ok=\([0-9]*\).*/\1/p' <<<"$out")
  cpu=$(( (after - before) * 1000000 / CLK_TCK / (ok > 0 ? ok : 1) ))
  own=$(( (own_after - own_before) * 1000000 / CLK_TCK / (ok > 0 ? ok : 1) ))
  echo "$v $round $rate $p50 $p99 $bad $cpu $own"
}

echo "bench/pgbouncer.sh $(date -u +%FT%TZ): $ROUNDS rounds x ${DURATION}s, $CONNS chains, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "variant round refresh/s p50_us p99_us non-200 cpu_us/refresh (all) (authsvc alone)"
: >"$WORK/runs"
orders=(ABC BCA CAB)
for round in $(seq "$ROUNDS"); do
  order=${orders[$(((round - 1) % 3))]}
  for v in $(fold -w1 <<<"$order"); do  # not in a pipe: cleanup must see $SERVER
    run_one "$v" "$round" >>"$WORK/runs"
    tail -1 "$WORK/runs"
  done
done
awk '{ rate[$1, $2] = $3; cpu[$1, $2] = $7 } END {
  n = 0
  for (r = 1; r <= '"$ROUNDS"'; r++) {
    b[++n] = rate["B", r] / rate["A", r]; c[n] = rate["C", r] / rate["A", r]
    cb[n] = cpu["B", r] / cpu["A", r]; cc[n] = cpu["C", r] / cpu["A", r]
  }
  asort(b); asort(c); asort(cb); asort(cc)
  m = int((n + 1) / 2)
  printf "median of the per-round ratios: rate B/A %.3f (min %.3f max %.3f)  C/A %.3f (min %.3f max %.3f)\n", b[m], b[1], b[n], c[m], c[1], c[n]
  printf "                                cpu  B/A %.3f (min %.3f max %.3f)  C/A %.3f (min %.3f max %.3f)\n", cb[m], cb[1], cb[n], cc[m], cc[1], cc[n]
}' "$WORK/runs"
