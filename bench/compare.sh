#!/usr/bin/env bash
# A/B in one run: the work tree against a base revision, on the same machine, interleaved.
#
#   bench/compare.sh BASE_REV [SCENARIO...]
#
# Builds BASE_REV (from `git archive`, into the work directory) and the work tree (into
# build-compare/), both Release, then runs each chosen scenario on both, interleaved
# (A B, B A, A B, ... for BENCH_ROUNDS rounds, at least 3), pinned: the server on CPU 0 with
# server.threads 1, wrk on CPU 1 with -t1. Each run starts a fresh server on a fresh
# database with its own side's binary, config.yaml and seeder. It prints, per scenario, the
# medians of both sides (req/s and the server's CPU microseconds per request, which this
# shared VM reports most steadily) and the ratios new/base. This VM's speed moves by 25%
# between hours: only a ratio measured in one run holds.
#
# Scenarios (default: protected protected-es256 es256-distinct refresh):
#   protected        GET /api/protected, one HS256 token (the verified-token cache answers)
#   protected-es256  the same with one ES256 token
#   es256-distinct   GET /api/protected, 20,000 ES256 tokens cycled (no cache hit)
#   refresh          POST /api/refresh_token on SQLite, a fresh token per request
#   refresh-shuffled the same, the tokens presented in a random order (fixed seed), not in
#                    the order they were stored: a rotation's token lies on a page of its
#                    own, as in a service whose clients refresh at their own times
#   refresh-pg       the same on PostgreSQL (a throwaway server, scripts/pg.sh, on CPU 0 too)
#   refresh-mysql    the same on MariaDB (scripts/mariadb.sh, on CPU 0 too; both revisions
#                    need the mysql backend)
# Environment: BENCH_DURATION (7 s per run), BENCH_ROUNDS (3), BENCH_CONNECTIONS (32),
# BENCH_KEEP=1 keeps the work directory, BENCH_NO_BUILD=1 reuses both builds of a previous
# run with BENCH_WORK=DIR.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ $# -ge 1 ] || { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
BASE_REV=$1
shift
SCENARIOS=("$@")
[ ${#SCENARIOS[@]} -gt 0 ] || SCENARIOS=(protected protected-es256 es256-distinct refresh)
DURATION=${BENCH_DURATION:-7}
ROUNDS=${BENCH_ROUNDS:-3}
[ "$ROUNDS" -ge 3 ] || ROUNDS=3
CONNS=${BENCH_CONNECTIONS:-32}
CLK_TCK=$(getconf CLK_TCK)
BASE_SHA=$(git -C "$ROOT" rev-parse --short "$BASE_REV")
NEW_DESC="$(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- . ':!bench' || echo +changes)"

log() { printf '[compare %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

"$ROOT/scripts/setup.sh" --bench
[ "$(nproc)" -ge 2 ] || die "pinned runs need 2 CPUs"

WORK=${BENCH_WORK:-$(mktemp -d /tmp/authsvc-compare.XXXXXX)}
mkdir -p "$WORK"
chmod 755 "$WORK"
PIDS=()
PG_DIR=""
MY_DIR=""
cleanup() {
  local rc=$?
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ -n "$PG_DIR" ] && "$ROOT/scripts/pg.sh" stop "$PG_DIR" >/dev/null 2>&1 || true
  [ -n "$MY_DIR" ] && "$ROOT/scripts/mariadb.sh" stop "$MY_DIR" >/dev/null 2>&1 || true
  if [ "${BENCH_KEEP:-0}" = 1 ] || [ $rc -ne 0 ]; then log "work directory kept: $WORK"; else rm -rf "$WORK"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the two builds -----------------------------------------------------------------
TARGETS=(authsvc bench_seed bench_es256)
build() {  # build SRC BUILD
  cmake -S "$1" -B "$2" -DCMAKE_BUILD_TYPE=Release -DAUTHSVC_TESTS=OFF >/dev/null
  cmake --build "$2" -j"$(nproc)" --target "${TARGETS[@]}" >/dev/null
}
SRC_A="$WORK/base-src"
BUILD_A="$WORK/build-base"
SRC_B="$ROOT"
BUILD_B="$ROOT/build-compare"
if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
  rm -rf "$SRC_A"
  mkdir -p "$SRC_A"
  git -C "$ROOT" archive "$BASE_REV" | tar -x -C "$SRC_A"
  log "building base $BASE_SHA in $BUILD_A"
  build "$SRC_A" "$BUILD_A"
  log "building the work tree ($NEW_DESC) in $BUILD_B"
  build "$SRC_B" "$BUILD_B"
fi

# --- one run --------------------------------------------------------------------------
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
field() { sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" <<<"$1"; }
wait_port() {  # wait_port LOG PID -> the port of "listening on HOST:PORT"
  local port
  for _ in $(seq 1 200); do
    port=$(sed -n 's/.*listening on [0-9.]*:\([0-9][0-9]*\).*/\1/p' "$1" | head -1)
    [ -n "$port" ] && { echo "$port"; return 0; }
    kill -0 "$2" 2>/dev/null || { cat "$1" >&2; die "server exited at start-up"; }
    sleep 0.05
  done
  die "server did not start (see $1)"
}

export BENCH_DIR="$ROOT/bench" BENCH_EMAIL="bench@example.com"
BENCH_PASSWORD="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
AUTHSVC_JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
AUTHSVC_REFRESH_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
export BENCH_PASSWORD AUTHSVC_JWT_SECRET AUTHSVC_REFRESH_SECRET
export AUTHSVC_SERVER_HOST=127.0.0.1 AUTHSVC_SERVER_PORT=0 AUTHSVC_SERVER_THREADS=1

PG_DSN=""
start_pg() {
  PG_DIR="$WORK/pg"
  local port=$((40000 + RANDOM % 20000))
  PG_DSN=$(taskset -c 0 "$ROOT/scripts/pg.sh" start "$PG_DIR" "$port")
}
reset_pg() {  # an empty database for the next run
  psql "$PG_DSN" -qc 'DROP SCHEMA public CASCADE; CREATE SCHEMA public' >/dev/null 2>&1 ||
    die "cannot reset the PostgreSQL database"
}

MY_DSN=""
start_mysql() {
  MY_DIR="$WORK/mariadb"
  local port=$((40000 + RANDOM % 20000))
  MY_DSN=$(taskset -c 0 "$ROOT/scripts/mariadb.sh" start "$MY_DIR" "$port")
}
reset_mysql() {  # an empty database for the next run
  mariadb --socket="$MY_DIR/sock" -u root -e 'DROP DATABASE authsvc; CREATE DATABASE authsvc' ||
    die "cannot reset the MariaDB database"
}

RESULTS="$WORK/runs.tsv"  # scenario side round rps cpu_us_per_request requests
: >"$RESULTS"

# run_one SCENARIO SIDE ROUND: a fresh server of SIDE (A = base, B = work tree), one wrk run.
run_one() {
  local scenario=$1 side=$2 round=$3 src build dir
  if [ "$side" = A ]; then src=$SRC_A; build=$BUILD_A; else src=$SRC_B; build=$BUILD_B; fi
  dir="$WORK/run-$scenario-$side-$round"
  mkdir -p "$dir"
  local cfg="$src/config.yaml" bin="$build/authsvc" script=protected.lua args=()
  local env=(AUTHSVC_DATABASE_BACKEND=sqlite AUTHSVC_DATABASE_SQLITE_PATH="$dir/authsvc.db")
  if [ "$scenario" = refresh-pg ]; then
    reset_pg
    env=(AUTHSVC_DATABASE_BACKEND=postgresql AUTHSVC_DATABASE_POSTGRESQL_DSN="$PG_DSN")
  fi
  if [ "$scenario" = refresh-mysql ]; then
    reset_mysql
    env=(AUTHSVC_DATABASE_BACKEND=mysql AUTHSVC_DATABASE_MYSQL_DSN="$MY_DSN")
  fi
  case "$scenario" in
    protected-es256 | es256-distinct)
      env+=(AUTHSVC_JWT_KEYS_DIR="$dir/keys")
      local kid
      kid=$(env "${env[@]}" "$bin" keys generate --config "$cfg")
      env+=(AUTHSVC_JWT_SIGNING_KID="$kid") ;;
  esac
  echo "$BENCH_PASSWORD" | env "${env[@]}" "$bin" user add "$BENCH_EMAIL" --config "$cfg" >/dev/null
  case "$scenario" in
    refresh | refresh-shuffled | refresh-pg | refresh-mysql)
      local db="$dir/authsvc.db" kind=sqlite
      [ "$scenario" = refresh-pg ] && { db=$PG_DSN; kind=postgresql; }
      [ "$scenario" = refresh-mysql ] && { db=$MY_DSN; kind=mysql; }
      env "${env[@]}" "$build/bench_seed" "$kind" "$db" 150000 "$dir/tokens.txt" "$BENCH_EMAIL" \
        >/dev/null 2>&1 || die "seeding failed ($scenario $side)"
      if [ "$scenario" = refresh-shuffled ]; then
        shuf --random-source=<(yes authsvc) "$dir/tokens.txt" >"$dir/tokens.shuffled"
        mv "$dir/tokens.shuffled" "$dir/tokens.txt"
      fi
      script=refresh.lua; args=("$dir/tokens.txt" 1) ;;
    es256-distinct)
      "$build/bench_es256" mint "$dir/keys" "${env[-1]#*=}" 20000 "$dir/access.txt" 1 >/dev/null
      script=protected-distinct.lua; args=(1) ;;
  esac
  : >"$dir/server.log"
  env "${env[@]}" taskset -c 0 "$bin" serve --config "$cfg" 2>>"$dir/server.log" &
  local pid=$!
  PIDS+=("$pid")
  local port
  port=$(wait_port "$dir/server.log" "$pid")
  local token=""
  if [ "$scenario" != es256-distinct ]; then
    token=$(curl -sf "http://127.0.0.1:$port/api/login" -H 'Content-Type: application/json' \
      -d "{\"email\":\"$BENCH_EMAIL\",\"password\":\"$BENCH_PASSWORD\"}" |
      sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
    [ -n "$token" ] || die "login failed ($scenario $side, see $dir/server.log)"
  fi
  local before after out json
  before=$(cpu_ticks "$pid")
  out=$(BENCH_ACCESS_TOKEN=$token BENCH_ACCESS_TOKEN_FILE="$dir/access.txt" taskset -c 1 \
    wrk -t1 -c"$CONNS" -d"${DURATION}s" --timeout 30s -s "$ROOT/bench/$script" \
    "http://127.0.0.1:$port" ${args[@]+-- "${args[@]}"} 2>&1) || { echo "$out" >&2; die "wrk failed"; }
  after=$(cpu_ticks "$pid")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  PIDS=("${PIDS[@]/$pid/}")
  json=$(grep '^BENCH ' <<<"$out" | tail -1)
  local n rps errs
  n=$(field "$json" requests); rps=$(field "$json" rps)
  errs=$(( $(field "$json" status_errors) + $(field "$json" socket_errors) ))
  [ "$errs" = 0 ] || log "warning: $scenario $side round $round: $errs errors"
  [ "$(field "$json" exhausted)" = "" ] || [ "$(field "$json" exhausted)" = 0 ] ||
    log "warning: $scenario $side round $round ran out of tokens (rate is a lower bound)"
  local cpu_us
  cpu_us=$(awk -v a="$after" -v b="$before" -v t="$CLK_TCK" -v n="$n" \
    'BEGIN { printf "%.1f", (a - b) / t * 1e6 / n }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$scenario" "$side" "$round" "$rps" "$cpu_us" "$n" >>"$RESULTS"
  log "$scenario $side (round $round): $rps req/s, $cpu_us us CPU/request"
  rm -rf "$dir"
}

for s in "${SCENARIOS[@]}"; do
  case "$s" in
    protected | protected-es256 | es256-distinct | refresh | refresh-shuffled) ;;
    refresh-pg) [ -n "$PG_DSN" ] || start_pg ;;
    refresh-mysql) [ -n "$MY_DSN" ] || start_mysql ;;
    *) die "unknown scenario $s" ;;
  esac
done

log "base $BASE_SHA (A) against $NEW_DESC (B): ${SCENARIOS[*]}, $ROUNDS rounds of ${DURATION}s"
for round in $(seq 1 "$ROUNDS"); do
  for s in "${SCENARIOS[@]}"; do
    if [ $((round % 2)) = 1 ]; then run_one "$s" A "$round"; run_one "$s" B "$round"
    else run_one "$s" B "$round"; run_one "$s" A "$round"; fi
  done
done

# --- the table ------------------------------------------------------------------------
echo
echo "bench/compare.sh: base $BASE_SHA (A) vs $NEW_DESC (B), $(date -u +%F), $ROUNDS rounds x ${DURATION}s, pinned (server CPU 0, wrk CPU 1 -t1 -c$CONNS), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| scenario | A req/s | B req/s | B/A req/s | A CPU us/req | B CPU us/req | B/A CPU |"
echo "|---|---|---|---|---|---|---|"
for s in "${SCENARIOS[@]}"; do
  awk -F'\t' -v s="$s" '
    function median(a, n,   i, j, t) {
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    $1 == s && $2 == "A" { ra[++na] = $4; ca[na] = $5 }
    $1 == s && $2 == "B" { rb[++nb] = $4; cb[nb] = $5 }
    END {
      mra = median(ra, na); mrb = median(rb, nb); mca = median(ca, na); mcb = median(cb, nb)
      printf "| %s | %.0f | %.0f | %.2f | %.1f | %.1f | %.2f |\n", s, mra, mrb, mrb / mra, mca, mcb, mcb / mca
    }' "$RESULTS"
done
