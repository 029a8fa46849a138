#!/usr/bin/env bash
# The authsvc benchmark: one command, from a clone of the repository:
#
#   bench/run.sh
#
# Builds Release (build-bench/), then for each mode (pinned: server on CPU 0 with
# server.threads 1, wrk on CPU 1 with -t1; unpinned: server.threads = cores, wrk -t<cores>)
# runs the scenarios of bench/README.md against 127.0.0.1 and writes bench/RESULTS.md.
# About 5-6 minutes on 2 cores. Everything it starts is stopped on exit, even on failure.
#
# Environment (all optional):
#   BENCH_DURATION=7          seconds per wrk scenario
#   BENCH_CONNECTIONS=32      wrk connections (ceiling, protected, refresh, mixed)
#   BENCH_LOGIN_CONNECTIONS=8 wrk connections for login; the login storm uses twice as many
#   BENCH_MODES="pinned unpinned"
#   BENCH_SQLITE_TOKENS=200000, BENCH_PG_TOKENS=50000   refresh tokens seeded per mode
#   BENCH_PG=1                0 skips the PostgreSQL refresh scenario
#   BENCH_RESULTS=bench/RESULTS.md
#   BENCH_KEEP=1              keep the work directory (logs, databases) after the run
#   BENCH_NO_BUILD=1          use build-bench/ as it is
#   BENCH_SCENARIOS="ceiling protected refresh login storm mixed es256 pg"   a subset, for quick
#                             checks while profiling (RESULTS.md then has only those rows)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH="$ROOT/bench"
BUILD="$ROOT/build-bench"
DURATION=${BENCH_DURATION:-7}
CONNS=${BENCH_CONNECTIONS:-32}
LOGIN_CONNS=${BENCH_LOGIN_CONNECTIONS:-8}
MODES=${BENCH_MODES:-"pinned unpinned"}
SQLITE_TOKENS=${BENCH_SQLITE_TOKENS:-200000}
PG_TOKENS=${BENCH_PG_TOKENS:-50000}
WITH_PG=${BENCH_PG:-1}
SCENARIOS=" ${BENCH_SCENARIOS:-ceiling protected refresh login storm mixed es256 pg} "
want() { [[ "$SCENARIOS" == *" $1 "* ]]; }
want pg || WITH_PG=0
RESULTS=${BENCH_RESULTS:-$BENCH/RESULTS.md}
CORES=$(nproc)
CLK_TCK=$(getconf CLK_TCK)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
BENCH_COMMIT=${BENCH_COMMIT:-$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)}
export BENCH_COMMIT  # the commit built and measured, for RESULTS.md
export BENCH_DIR="$BENCH"

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- prerequisites and build --------------------------------------------------------
"$ROOT/scripts/setup.sh" --bench
for tool in wrk curl taskset cmake; do
  command -v "$tool" >/dev/null || die "$tool is missing (apt-get install wrk curl util-linux cmake)"
done
[ "$CORES" -ge 2 ] || die "the pinned mode needs 2 CPUs (server on CPU 0, wrk on CPU 1)"
if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
  log "building Release in $BUILD"
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DAUTHSVC_TESTS=OFF >/dev/null
  cmake --build "$BUILD" -j"$CORES" --target authsvc bench_ceiling bench_seed bench_hashrate bench_rotate \
    bench_es256 >/dev/null
fi
AUTHSVC="$BUILD/authsvc"

# The shipped config.yaml is the bench config; only these are overridden (environment).
cfg() { sed -n "s/^ *$1: *\([^ #]*\).*/\1/p" "$ROOT/config.yaml" | head -1; }
ARGON_MEM=$(cfg memory_kib); ARGON_ITER=$(cfg iterations); HASH_THREADS=$(cfg hash_threads)
LOG_LEVEL=$(cfg level); WORKER_THREADS=$(cfg worker_threads)
[ -n "$ARGON_MEM" ] && [ -n "$ARGON_ITER" ] && [ -n "$HASH_THREADS" ] || die "cannot read config.yaml"

# --- process bookkeeping: everything started is stopped on exit ----------------------
WORK=$(mktemp -d /tmp/authsvc-bench.XXXXXX)
chmod 755 "$WORK"  # the PostgreSQL server runs as user postgres when we are root
PIDS=()
PG_DIR=""
cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do
    pkill -P "$pid" 2>/dev/null || true  # a background run_wrk's wrk
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ -n "$PG_DIR" ] && "$ROOT/scripts/pg.sh" stop "$PG_DIR" || true
  if [ "${BENCH_KEEP:-0}" = 1 ] || [ $rc -ne 0 ]; then
    log "work directory kept: $WORK"
  else
    rm -rf "$WORK"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget_pid() {
  local keep=() p
  for p in "${PIDS[@]}"; do [ "$p" != "$1" ] && keep+=("$p"); done
  PIDS=("${keep[@]}")
}
stop_pid() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  forget_pid "$1"
}

# Waits for "listening on HOST:PORT" in a log file; prints PORT.
wait_port() {
  local file=$1 pid=$2 port=""
  for _ in $(seq 1 200); do
    port=$(sed -n 's/.*listening on [0-9.]*:\([0-9][0-9]*\).*/\1/p' "$file" | head -1)
    [ -n "$port" ] && { echo "$port"; return 0; }
    kill -0 "$pid" 2>/dev/null || { cat "$file" >&2; die "server exited at start-up"; }
    sleep 0.05
  done
  die "server did not start (see $file)"
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
status_kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

# --- results ------------------------------------------------------------------------
ROWS="$WORK/rows.tsv"  # mode scenario rps p50 p99 status_err socket_err rss hwm cpu note requests
: >"$ROWS"
field() { sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" <<<"$1"; }

# run_wrk NAME PID CPUSET THREADS CONNS SCRIPT URL [ARGS...]: runs wrk, prints its BENCH line.
run_wrk() {
  local name=$1 conns=$5 script=$6 url=$7 out
  local threads=$4 cpuset=$3
  shift 7
  out="$WORK/wrk-$name.txt"
  local cmd=(wrk -t"$threads" -c"$conns" -d"${WRK_DURATION:-$DURATION}"s --timeout 30s
    -s "$BENCH/$script" "$url")
  [ $# -gt 0 ] && cmd+=(-- "$@")
  if [ -n "$cpuset" ]; then cmd=(taskset -c "$cpuset" "${cmd[@]}"); fi
  "${cmd[@]}" >"$out" 2>&1 || { cat "$out" >&2; die "wrk failed ($name)"; }
  grep '^BENCH ' "$out" | tail -1 | sed 's/^BENCH //'
}

# measure MODE SCENARIO PID NOTE -- command...: runs the command (which prints a BENCH
# JSON line), with the server's CPU seconds over the run and its RSS after it.
measure() {
  local mode=$1 scenario=$2 pid=$3 note=$4 before after json
  shift 5
  before=$(cpu_ticks "$pid")
  json=$("$@")
  after=$(cpu_ticks "$pid")
  local rss hwm cpu
  rss=$(status_kib "$pid" VmRSS); hwm=$(status_kib "$pid" VmHWM)
  cpu=$(awk -v a="$after" -v b="$before" -v t="$CLK_TCK" 'BEGIN {printf "%.2f", (a - b) / t}')
  local exhausted
  exhausted=$(field "$json" exhausted)
  [ "${exhausted:-0}" != 0 ] && note="$note; tokens ran out (rate is a lower bound)"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$mode" "$scenario" \
    "$(field "$json" rps)" "$(field "$json" p50_us)" "$(field "$json" p99_us)" \
    "$(field "$json" status_errors)" "$(field "$json" socket_errors)" "$rss" "$hwm" "$cpu" \
    "$note" "$(field "$json" requests)" >>"$ROWS"
  log "$mode $scenario: $(field "$json" rps) req/s, p50 $(field "$json" p50_us) us," \
    "p99 $(field "$json" p99_us) us, errors $(field "$json" status_errors)+$(field "$json" socket_errors)"
}

login_token() {  # login_token PORT -> access token
  curl -sf "http://127.0.0.1:$1/api/login" -H 'Content-Type: application/json' \
    -d "{\"email\":\"$BENCH_EMAIL\",\"password\":\"$BENCH_PASSWORD\"}" |
    sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p'
}

export BENCH_EMAIL="bench@example.com"
BENCH_PASSWORD="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export BENCH_PASSWORD
export AUTHSVC_JWT_SECRET AUTHSVC_REFRESH_SECRET
AUTHSVC_JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
AUTHSVC_REFRESH_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
export AUTHSVC_SERVER_HOST=127.0.0.1 AUTHSVC_SERVER_PORT=0

# start_authsvc MODE LOGFILE -> sets SERVER_PID, SERVER_PORT (env selects the database)
start_authsvc() {
  local mode=$1 logfile=$2 threads=$CORES pin=()
  if [ "$mode" = pinned ]; then threads=1; pin=(taskset -c 0); fi
  : >"$logfile"
  AUTHSVC_SERVER_THREADS=$threads "${pin[@]}" "$AUTHSVC" serve --config "$ROOT/config.yaml" \
    2>>"$logfile" &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  SERVER_PORT=$(wait_port "$logfile" "$SERVER_PID")
}

PG_DSN=""
start_pg() {  # start_pg MODE: a throwaway PostgreSQL (scripts/pg.sh), pinned to CPU 0 if pinned
  PG_DIR="$WORK/pg"
  local port
  port=$(awk 'BEGIN {srand(); print 40000 + int(rand() * 20000)}')
  while ss -ltn | grep -q ":$port "; do port=$((port + 1)); done
  if [ "$1" = pinned ]; then
    PG_DSN=$(taskset -c 0 "$ROOT/scripts/pg.sh" start "$PG_DIR" "$port")
  else
    PG_DSN=$("$ROOT/scripts/pg.sh" start "$PG_DIR" "$port")
  fi
}

# --- the scenarios, per mode --------------------------------------------------------
for mode in $MODES; do
  if [ "$mode" = pinned ]; then
    SRV_CPUS=0; WRK_CPUS=1; WRK_T=1; SRV_THREADS=1; HASH_PIN=(taskset -c 0)
  else
    SRV_CPUS=""; WRK_CPUS=""; WRK_T=$CORES; SRV_THREADS=$CORES; HASH_PIN=()
  fi
  dir="$WORK/$mode"
  mkdir -p "$dir"
  log "== $mode: server threads $SRV_THREADS${SRV_CPUS:+ on CPU $SRV_CPUS}, wrk -t$WRK_T${WRK_CPUS:+ on CPU $WRK_CPUS}"

  # SQLite server: user, seeded tokens, then scenarios 2-6.
  export AUTHSVC_DATABASE_BACKEND=sqlite AUTHSVC_DATABASE_SQLITE_PATH="$dir/authsvc.db"
  echo "$BENCH_PASSWORD" | "$AUTHSVC" user add "$BENCH_EMAIL" --config "$ROOT/config.yaml" \
    >/dev/null
  log "seeding $SQLITE_TOKENS refresh tokens (SQLite)"
  "$BUILD/bench_seed" sqlite "$dir/authsvc.db" "$SQLITE_TOKENS" "$dir/tokens.txt" \
    "$BENCH_EMAIL" >&2
  mixed_share=$((SQLITE_TOKENS / 5))
  head -n $((SQLITE_TOKENS - mixed_share)) "$dir/tokens.txt" >"$dir/tokens-refresh.txt"
  tail -n "$mixed_share" "$dir/tokens.txt" >"$dir/tokens-mixed.txt"
  start_authsvc "$mode" "$dir/server-sqlite.log"
  url="http://127.0.0.1:$SERVER_PORT"
  BENCH_ACCESS_TOKEN=$(login_token "$SERVER_PORT")
  [ -n "$BENCH_ACCESS_TOKEN" ] || die "login failed (see $dir/server-sqlite.log)"
  export BENCH_ACCESS_TOKEN

  # 1. ceiling: the same request (Authorization header included) to a bare Pistache
  # handler; authsvc is up but idle meanwhile.
  if ! want ceiling; then :
  elif [ -n "$SRV_CPUS" ]; then
    taskset -c "$SRV_CPUS" "$BUILD/bench_ceiling" 0 "$SRV_THREADS" >"$dir/ceiling.log" 2>&1 &
  else
    "$BUILD/bench_ceiling" 0 "$SRV_THREADS" >"$dir/ceiling.log" 2>&1 &
  fi
  if want ceiling; then
    cpid=$!
    PIDS+=("$cpid")
    cport=$(wait_port "$dir/ceiling.log" "$cpid")
    measure "$mode" ceiling "$cpid" "bare Pistache handler" -- \
      run_wrk "$mode-ceiling" "$cpid" "$WRK_CPUS" "$WRK_T" "$CONNS" protected.lua \
      "http://127.0.0.1:$cport"
    stop_pid "$cpid"
  fi


  want protected && measure "$mode" protected "$SERVER_PID" "GET /api/protected" -- \
    run_wrk "$mode-protected" "$SERVER_PID" "$WRK_CPUS" "$WRK_T" "$CONNS" protected.lua "$url"
  want refresh && measure "$mode" "refresh (SQLite)" "$SERVER_PID" "synchronous=NORMAL, WAL" -- \
    run_wrk "$mode-refresh" "$SERVER_PID" "$WRK_CPUS" "$WRK_T" "$CONNS" refresh.lua "$url" \
    "$dir/tokens-refresh.txt" "$WRK_T"

  # 3b. the refresh limit without HTTP: AuthService::refresh on its own database, from as
  # many threads as the server has database workers, on the server's cores (the server is
  # idle meanwhile). The server's refresh rate can only be lower.
  if want refresh; then
    log "seeding $SQLITE_TOKENS refresh tokens for bench_rotate"
    "$BUILD/bench_seed" sqlite "$dir/rotate.db" "$SQLITE_TOKENS" "$dir/rotate-tokens.txt" \
      "$BENCH_EMAIL" >&2
    rr=$("${HASH_PIN[@]}" "$BUILD/bench_rotate" "$dir/rotate.db" "$dir/rotate-tokens.txt" \
      "$WORKER_THREADS" "$DURATION") || die "bench_rotate failed: $rr"
    rrate=$(sed -n 's/.* rate=\([0-9.]*\).*/\1/p' <<<"$rr")
    rn=$(sed -n 's/.* rotations=\([0-9]*\).*/\1/p' <<<"$rr")
    rcpu=$(sed -n 's/.* cpu_us=\([0-9.]*\).*/\1/p' <<<"$rr")
    printf '%s\t%s\t%s\t-\t-\t0\t0\t-\t-\t%s\t%s\t%s\n' "$mode" \
      "refresh limit without HTTP (SQLite)" "$rrate" \
      "$(awk -v c="$rcpu" -v n="$rn" 'BEGIN { printf "%.2f", c * n / 1e6 }')" \
      "bench_rotate: AuthService::refresh, $WORKER_THREADS threads${SRV_CPUS:+ on CPU $SRV_CPUS}" \
      "$rn" >>"$ROWS"
    log "$mode refresh limit without HTTP: $rrate/s, $rcpu us CPU each"
    rm -f "$dir/rotate.db" "$dir/rotate.db-wal" "$dir/rotate.db-shm"
  fi

  # 4. raw hash rate on the server's cores (the server is idle meanwhile), then login.
  if want login; then
  hr=$("${HASH_PIN[@]}" "$BUILD/bench_hashrate" "$HASH_THREADS" 5 "$ARGON_MEM" "$ARGON_ITER")
  hrate=$(sed -n 's/.*rate=\([0-9.]*\).*/\1/p' <<<"$hr")
  printf '%s\t%s\t%s\t-\t-\t0\t0\t-\t-\t-\t%s\t-\n' "$mode" "raw argon2id hash rate" "$hrate" \
    "bench_hashrate, $HASH_THREADS threads${SRV_CPUS:+ on CPU $SRV_CPUS}" >>"$ROWS"
  log "$mode raw hash rate: $hrate/s"
  measure "$mode" login "$SERVER_PID" "m=$ARGON_MEM KiB, t=$ARGON_ITER, hash_threads $HASH_THREADS" -- \
    run_wrk "$mode-login" "$SERVER_PID" "$WRK_CPUS" "$WRK_T" "$LOGIN_CONNS" login.lua "$url"
  fi

  # 5. login storm: logins saturating the hashing pool while protected calls run.
  if want storm; then
  WRK_DURATION=$((DURATION + 2)) run_wrk "$mode-storm-login" "$SERVER_PID" "$WRK_CPUS" \
    "$WRK_T" $((LOGIN_CONNS * 2)) login.lua "$url" >"$dir/storm-login.json" &
  storm_pid=$!
  PIDS+=("$storm_pid")
  sleep 1
  measure "$mode" "protected during login storm" "$SERVER_PID" \
    "$((LOGIN_CONNS * 2)) login connections beside" -- \
    run_wrk "$mode-storm-protected" "$SERVER_PID" "$WRK_CPUS" "$WRK_T" "$CONNS" protected.lua "$url"
  wait "$storm_pid" || die "the login storm's wrk failed"
  forget_pid "$storm_pid"
  sj=$(cat "$dir/storm-login.json")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t-\t-\t-\t%s\t-\n' "$mode" "login storm (its logins)" \
    "$(field "$sj" rps)" "$(field "$sj" p50_us)" "$(field "$sj" p99_us)" \
    "$(field "$sj" status_errors)" "$(field "$sj" socket_errors)" "CPU and RSS: row above" >>"$ROWS"
  fi

  # 6. mixed
  want mixed && measure "$mode" mixed "$SERVER_PID" "90% protected, 9% refresh, 1% login" -- \
    run_wrk "$mode-mixed" "$SERVER_PID" "$WRK_CPUS" "$WRK_T" "$CONNS" mixed.lua "$url" \
    "$dir/tokens-mixed.txt" "$WRK_T"
  # RSS after the bench: the SQLite server after all its scenarios.
  printf '%s\t%s\t%s\t%s\n' "$mode" "$(status_kib "$SERVER_PID" VmRSS)" \
    "$(status_kib "$SERVER_PID" VmHWM)" "$(cpu_ticks "$SERVER_PID")" >>"$WORK/rss-after.tsv"
  stop_pid "$SERVER_PID"

  # 7. ES256: the same server signing with an EC P-256 key (jwt.keys_dir), HS256's
  # protected and refresh scenarios again, protected with a distinct token per request,
  # and on the server's core the raw OpenSSL ES256 sign and verify rates.
  if want es256; then
    export AUTHSVC_JWT_KEYS_DIR="$dir/keys"
    AUTHSVC_JWT_SIGNING_KID=$("$AUTHSVC" keys generate --config "$ROOT/config.yaml")
    export AUTHSVC_JWT_SIGNING_KID AUTHSVC_DATABASE_SQLITE_PATH="$dir/es256.db"
    echo "$BENCH_PASSWORD" | "$AUTHSVC" user add "$BENCH_EMAIL" --config "$ROOT/config.yaml" \
      >/dev/null
    "$BUILD/bench_seed" sqlite "$dir/es256.db" "$((SQLITE_TOKENS / 2))" "$dir/tokens-es256.txt" \
      "$BENCH_EMAIL" >&2
    "$BUILD/bench_es256" mint "$dir/keys" "$AUTHSVC_JWT_SIGNING_KID" 20000 \
      "$dir/es256-access.txt" 1
    start_authsvc "$mode" "$dir/server-es256.log"
    url="http://127.0.0.1:$SERVER_PORT"
    BENCH_ACCESS_TOKEN=$(login_token "$SERVER_PORT")
    [ -n "$BENCH_ACCESS_TOKEN" ] || die "ES256 login failed (see $dir/server-es256.log)"
    measure "$mode" "protected ES256" "$SERVER_PID" "the same ES256 token" -- \
      run_wrk "$mode-protected-es256" "$SERVER_PID" "$WRK_CPUS" "$WRK_T" "$CONNS" protected.lua "$url"
    BENCH_ACCESS_TOKEN="" BENCH_ACCESS_TOKEN_FILE="$dir/es256-access.txt" \
      measure "$mode" "protected ES256 distinct" "$SERVER_PID" "20,000 tokens cycled (> cache)" -- \
      run_wrk "$mode-protected-es256-distinct" "$SERVER_PID" "$WRK_CPUS" "$WRK_T" "$CONNS" \
      protected-distinct.lua "$url" "$WRK_T"
    measure "$mode" "refresh ES256 (SQLite)" "$SERVER_PID" "new tokens signed ES256" -- \
      run_wrk "$mode-refresh-es256" "$SERVER_PID" "$WRK_CPUS" "$WRK_T" "$CONNS" refresh.lua "$url" \
      "$dir/tokens-es256.txt" "$WRK_T"
    stop_pid "$SERVER_PID"
    # The raw rates on the server's core, nothing else running.
    raw=$("${HASH_PIN[@]}" "$BUILD/bench_es256" rates "$DURATION") || die "bench_es256 failed"
    for what in sign verify verifier libjwt; do
      rate=$(sed -n "s/.*\b$what=\([0-9]*\).*/\1/p" <<<"$raw")
      printf '%s\t%s\t%s\t-\t-\t0\t0\t-\t-\t-\t%s\t-\n' "$mode" "raw ES256 $what" "$rate" \
        "OpenSSL $(openssl version | cut -d' ' -f2), one thread, no HTTP" >>"$ROWS"
    done
    log "$mode raw ES256: $raw"
    unset AUTHSVC_JWT_KEYS_DIR AUTHSVC_JWT_SIGNING_KID BENCH_ACCESS_TOKEN_FILE
  fi

  # 3b. refresh on PostgreSQL
  if [ "$WITH_PG" = 1 ]; then
    start_pg "$mode"
    export AUTHSVC_DATABASE_BACKEND=postgresql AUTHSVC_DATABASE_POSTGRESQL_DSN="$PG_DSN"
    echo "$BENCH_PASSWORD" | "$AUTHSVC" user add "$BENCH_EMAIL" --config "$ROOT/config.yaml" \
      >/dev/null 2>&1 || true  # exists from the previous mode
    log "seeding $PG_TOKENS refresh tokens (PostgreSQL)"
    "$BUILD/bench_seed" postgresql "$PG_DSN" "$PG_TOKENS" "$dir/tokens-pg.txt" \
      "$BENCH_EMAIL" >&2
    start_authsvc "$mode" "$dir/server-pg.log"
    measure "$mode" "refresh (PostgreSQL)" "$SERVER_PID" \
      "PostgreSQL 15 local, fsync=off (scripts/pg.sh)${SRV_CPUS:+, on CPU 0 too}" -- \
      run_wrk "$mode-refresh-pg" "$SERVER_PID" "$WRK_CPUS" "$WRK_T" "$CONNS" refresh.lua \
      "http://127.0.0.1:$SERVER_PORT" "$dir/tokens-pg.txt" "$WRK_T"
    stop_pid "$SERVER_PID"
    "$ROOT/scripts/pg.sh" stop "$PG_DIR"
    unset AUTHSVC_DATABASE_POSTGRESQL_DSN
  fi
done

# --- RESULTS.md -----------------------------------------------------------------------
log "writing $RESULTS"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
# Whether the server could move its hashing threads out of SCHED_IDLE again (it says so
# at start when it cannot): the login storm's figure depends on it.
BENCH_GOVERNOR=on
grep -qs "hashing pool stays at nice +10" "$WORK"/*/server-sqlite.log && BENCH_GOVERNOR=off
export BENCH_GOVERNOR
"$BENCH/report.sh" "$ROWS" "$WORK/rss-after.tsv" "$RESULTS" "$HASH_THREADS" "$ARGON_MEM" \
  "$ARGON_ITER" "$LOG_LEVEL" "$WORKER_THREADS" "$DURATION" "$CONNS" "$LOGIN_CONNS" \
  "$LOAD_BEFORE" "$LOAD_AFTER"
log "done: $RESULTS"
