#!/usr/bin/env bash
# Soak: the mixed scenario (bench/mixed.lua) against one authsvc for MINUTES, sampling the
# server's RSS, open file descriptors and threads every 10 s; writes bench/SOAK.md (target,
# pass/fail, samples) and bench/soak.png (gnuplot). A benchmark, not a test.
#
#   bench/soak.sh [MINUTES]      default 10; at least 3 (warm-up, second and last minute)
#
# The server runs as in bench/run.sh's unpinned mode: the shipped config.yaml, SQLite (WAL,
# synchronous=NORMAL), server.threads = cores, wrk -t<cores> -c$SOAK_CONNECTIONS on the same
# machine. Everything it starts is stopped on exit, even on failure.
#
# Environment (all optional):
#   SOAK_CONNECTIONS=32   wrk connections
#   SOAK_TOKENS           refresh tokens seeded (default MINUTES * 60 * 1000, enough for
#                         1,000 refreshes/s; the mixed scenario refreshes on 9% of requests)
#   SOAK_INTERVAL=10      seconds between samples
#   SOAK_OUT=bench        where SOAK.md and soak.png go
#   BENCH_NO_BUILD=1      use build-bench/ as it is
#   BENCH_KEEP=1          keep the work directory (server log, database, samples)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH="$ROOT/bench"
BUILD="$ROOT/build-bench"
MINUTES=${1:-10}
CONNS=${SOAK_CONNECTIONS:-32}
INTERVAL=${SOAK_INTERVAL:-10}
TOKENS=${SOAK_TOKENS:-$((MINUTES * 60 * 1000))}
OUT=${SOAK_OUT:-$BENCH}
CORES=$(nproc)
SECONDS_TOTAL=$((MINUTES * 60))
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)

log() { printf '[soak %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
[[ "$MINUTES" =~ ^[0-9]+$ ]] && [ "$MINUTES" -ge 3 ] || die "MINUTES must be a whole number >= 3"

"$ROOT/scripts/setup.sh" --bench
for tool in wrk curl gnuplot cmake; do
  command -v "$tool" >/dev/null || die "$tool is missing (scripts/setup.sh --bench)"
done
if [ "${BENCH_NO_BUILD:-0}" != 1 ]; then
  log "building Release in $BUILD"
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DAUTHSVC_TESTS=OFF >/dev/null
  cmake --build "$BUILD" -j"$CORES" --target authsvc bench_seed >/dev/null
fi
AUTHSVC="$BUILD/authsvc"

WORK=$(mktemp -d /tmp/authsvc-soak.XXXXXX)
SERVER_PID=""
WRK_PID=""
cleanup() {
  local rc=$?
  for pid in $WRK_PID $SERVER_PID; do kill "$pid" 2>/dev/null || true; done
  for pid in $WRK_PID $SERVER_PID; do wait "$pid" 2>/dev/null || true; done
  if [ "${BENCH_KEEP:-0}" = 1 ] || [ $rc -ne 0 ]; then
    log "work directory kept: $WORK"
  else
    rm -rf "$WORK"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the server: shipped config.yaml, overrides as in bench/run.sh --------------------
export BENCH_DIR="$BENCH" BENCH_EMAIL="soak@example.com"
BENCH_PASSWORD="soak-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
AUTHSVC_JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
AUTHSVC_REFRESH_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
export BENCH_PASSWORD AUTHSVC_JWT_SECRET AUTHSVC_REFRESH_SECRET
export AUTHSVC_SERVER_HOST=127.0.0.1 AUTHSVC_SERVER_PORT=0 AUTHSVC_SERVER_THREADS=$CORES
export AUTHSVC_DATABASE_BACKEND=sqlite AUTHSVC_DATABASE_SQLITE_PATH="$WORK/authsvc.db"

echo "$BENCH_PASSWORD" | "$AUTHSVC" user add "$BENCH_EMAIL" --config "$ROOT/config.yaml" >/dev/null
log "seeding $TOKENS refresh tokens"
"$BUILD/bench_seed" sqlite "$WORK/authsvc.db" "$TOKENS" "$WORK/tokens.txt" "$BENCH_EMAIL" >&2

"$AUTHSVC" serve --config "$ROOT/config.yaml" 2>"$WORK/server.log" &
SERVER_PID=$!
PORT=""
for _ in $(seq 1 200); do
  PORT=$(sed -n 's/.*listening on [0-9.]*:\([0-9][0-9]*\).*/\1/p' "$WORK/server.log" | head -1)
  [ -n "$PORT" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; die "server exited"; }
  sleep 0.05
done
[ -n "$PORT" ] || die "server did not start (see $WORK/server.log)"
URL="http://127.0.0.1:$PORT"
BENCH_ACCESS_TOKEN=$(curl -sf "$URL/api/login" -H 'Content-Type: application/json' \
  -d "{\"email\":\"$BENCH_EMAIL\",\"password\":\"$BENCH_PASSWORD\"}" |
  sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
[ -n "$BENCH_ACCESS_TOKEN" ] || die "login failed (see $WORK/server.log)"
export BENCH_ACCESS_TOKEN

# --- load and samples -------------------------------------------------------------------
# One sample: seconds since the start, RSS (KiB), open descriptors, threads, CPU seconds.
CLK_TCK=$(getconf CLK_TCK)
sample() {
  local p=/proc/$SERVER_PID rss fds threads ticks
  rss=$(awk '$1 == "VmRSS:" {print $2}' "$p/status")
  fds=$(find "$p/fd" -mindepth 1 -maxdepth 1 | wc -l)
  threads=$(find "$p/task" -mindepth 1 -maxdepth 1 | wc -l)
  ticks=$(awk '{print $14 + $15}' "$p/stat")
  printf '%d\t%s\t%s\t%s\t%.1f\n' "$1" "$rss" "$fds" "$threads" \
    "$(awk -v t="$ticks" -v h="$CLK_TCK" 'BEGIN {print t / h}')"
}

SAMPLES="$WORK/samples.tsv"
printf '# t_s\trss_kib\tfds\tthreads\tcpu_s\n' >"$SAMPLES"
log "mixed load for $MINUTES min: wrk -t$CORES -c$CONNS against $URL (pid $SERVER_PID)"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
wrk -t"$CORES" -c"$CONNS" -d"${SECONDS_TOTAL}s" --timeout 30s -s "$BENCH/mixed.lua" "$URL" \
  -- "$WORK/tokens.txt" "$CORES" >"$WORK/wrk.txt" 2>&1 &
WRK_PID=$!
START=$(date +%s)
for ((t = 0; t <= SECONDS_TOTAL; t += INTERVAL)); do
  now=$(($(date +%s) - START))
  [ "$now" -lt "$t" ] && sleep $((t - now))
  kill -0 "$SERVER_PID" 2>/dev/null || die "the server died (see $WORK/server.log)"
  sample "$t" >>"$SAMPLES"
  [ $((t % 60)) -eq 0 ] && log "t=${t}s: $(tail -1 "$SAMPLES" | cut -f2-4 | tr '\t' ' ') (RSS KiB, fds, threads)"
done
wait "$WRK_PID" || { cat "$WORK/wrk.txt" >&2; die "wrk failed"; }
WRK_PID=""
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
BENCH_LINE=$(sed -n 's/^BENCH //p' "$WORK/wrk.txt" | tail -1)
[ -n "$BENCH_LINE" ] || { cat "$WORK/wrk.txt" >&2; die "no BENCH line from wrk"; }
field() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" <<<"$BENCH_LINE"; }
REQUESTS=$(field requests); RPS=$(field rps); P50=$(field p50_us); P99=$(field p99_us)
STATUS_ERR=$(field status_errors); SOCKET_ERR=$(field socket_errors); EXHAUSTED=$(field exhausted)
TOKENS_USED=$(field tokens_used)
SERVER_ERRORS=$(grep -c '^[0-9T:.-]*Z error ' "$WORK/server.log" || true)
# Statuses other than 2xx in the access log (answers Pistache gives by itself, such as a 408
# after a timeout, are not logged there).
ACCESS_NON2XX=$(grep -cE '^[0-9T:.-]*Z info (GET|POST) [^ ]+ [013-9][0-9][0-9] ' "$WORK/server.log" || true)

# --- verdict: computed from the samples -----------------------------------------------
# second minute: 60 <= t < 120; last minute: t > T - 60; after warm-up: t >= 60.
# RSS is compared by each minute's highest sample: every login's argon2id hash allocates
# memory_kib (19 MiB) and frees it when done, so a sample is the memory kept plus 0 to
# hash_threads buffers, depending on the instant. With logins in every minute, the minute's
# peak (buffers in use) is the stable figure; what is kept (a leak) raises it. The means,
# which depend on how many samples caught a hash, are shown beside it.
read -r RSS2 RSSLAST MEAN2 MEANLAST FDMIN FDMAX THMIN THMAX < <(awk -v T="$SECONDS_TOTAL" '
  /^#/ { next }
  $1 >= 60 && $1 < 120 { s2 += $2; n2++; if ($2 > m2) m2 = $2 }
  $1 > T - 60 { sl += $2; nl++; if ($2 > ml) ml = $2 }
  $1 >= 60 {
    if (fmin == "" || $3 < fmin) fmin = $3; if ($3 > fmax) fmax = $3
    if (tmin == "" || $4 < tmin) tmin = $4; if ($4 > tmax) tmax = $4
  }
  END { printf "%d %d %d %d %d %d %d %d\n", m2, ml, s2 / n2, sl / nl, fmin, fmax, tmin, tmax }
' "$SAMPLES")
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%+.1f", (b - a) * 100 / a }'; }
RSS_CHANGE=$(pct "$RSS2" "$RSSLAST")
MEAN_CHANGE=$(pct "$MEAN2" "$MEANLAST")
verdict() { if [ "$1" = 1 ]; then echo PASS; else echo "**FAIL**"; fi; }
RSS_OK=$(awk -v c="$RSS_CHANGE" 'BEGIN { print (c <= 5 && c >= -5) ? 1 : 0 }')
FD_OK=$((FDMAX - FDMIN <= 2 ? 1 : 0))
TH_OK=$((THMAX == THMIN ? 1 : 0))
ERR_OK=$((STATUS_ERR + SOCKET_ERR == 0 ? 1 : 0))
LOAD_OK=$((EXHAUSTED == 0 ? 1 : 0))
ALL_OK=$((RSS_OK && FD_OK && TH_OK && ERR_OK && LOAD_OK))

# --- chart and SOAK.md ------------------------------------------------------------------
mkdir -p "$OUT"
gnuplot <<EOF
set terminal pngcairo size 900,480 font "sans,10"
set output "$OUT/soak.png"
set title "authsvc soak: mixed scenario, $MINUTES min, commit $COMMIT"
set xlabel "minutes"
set ylabel "RSS (MiB)"
set y2label "descriptors, threads"
set yrange [0:*]
set y2range [0:*]
set ytics nomirror
set y2tics
set key bottom right
set grid
plot "$SAMPLES" using (\$1/60):(\$2/1024) with linespoints pt 7 ps 0.5 title "RSS (MiB)", \
     "$SAMPLES" using (\$1/60):3 axes x1y2 with steps title "open descriptors", \
     "$SAMPLES" using (\$1/60):4 axes x1y2 with steps title "threads"
EOF

{
  echo "# Soak: authsvc under the mixed scenario for $MINUTES minutes"
  echo
  echo "Written by \`bench/soak.sh $MINUTES\` on $(date -u '+%Y-%m-%d %H:%M UTC'), commit \`$COMMIT\`;"
  echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $CORES cores,"
  echo "kernel $(uname -r); load average before $LOAD_BEFORE, after $LOAD_AFTER (a machine"
  echo "shared with other work gives lower rates). See bench/README.md (Soak) for the setup."
  echo
  echo "One server (shipped \`config.yaml\`, SQLite WAL with \`synchronous=NORMAL\`,"
  echo "\`server.threads: $CORES\`), \`wrk -t$CORES -c$CONNS -d${SECONDS_TOTAL}s -s bench/mixed.lua\`"
  echo "(90% \`GET /api/protected\`, 9% refresh with fresh seeded tokens, 1% login) on the same"
  echo "machine; the server's RSS (\`VmRSS\`), open descriptors (\`/proc/PID/fd\`) and threads"
  echo "(\`/proc/PID/task\`) sampled every ${INTERVAL} s."
  echo
  echo "## Target (issue 13) and result"
  echo
  echo "| what | target | measured | |"
  echo "|---|---|---|---|"
  echo "| RSS | last minute's highest sample within 5% of the second minute's | ${RSS2} KiB → ${RSSLAST} KiB (${RSS_CHANGE}%); means ${MEAN2} → ${MEANLAST} KiB (${MEAN_CHANGE}%) | $(verdict $RSS_OK) |"
  echo "| open descriptors | flat after the first minute (range ≤ 2) | ${FDMIN}-${FDMAX} | $(verdict $FD_OK) |"
  echo "| threads | flat after the first minute | ${THMIN}-${THMAX} | $(verdict $TH_OK) |"
  echo "| errors | none: wrk's non-2xx and socket errors | ${STATUS_ERR} non-2xx, ${SOCKET_ERR} socket | $(verdict $ERR_OK) |"
  echo "| load held | no wrk thread ran out of refresh tokens | $TOKENS_USED of $TOKENS tokens used | $(verdict $LOAD_OK) |"
  echo
  echo "Overall: $(verdict $ALL_OK)"
  echo
  echo "Load: $REQUESTS requests, $RPS req/s, p50 $P50 µs, p99 $P99 µs. Server log: $SERVER_ERRORS"
  echo "lines at level error, $ACCESS_NON2XX access-log lines with a status other than 2xx."
  echo
  echo "RSS is judged by each minute's highest sample: every login's argon2id hash allocates"
  echo "\`memory_kib\` (19 MiB) and frees it when done, so a sample is the memory kept plus 0 to"
  echo "\`hash_threads\` buffers, depending on the instant. With logins in every minute, the"
  echo "minute's peak is the stable figure, and memory kept (a leak) raises it; the means depend"
  echo "on how many of the six samples caught a hash."
  echo
  echo "![RSS, descriptors and threads over time](soak.png)"
  echo
  echo "## Samples"
  echo
  echo "| t (s) | RSS (KiB) | descriptors | threads | CPU (s) |"
  echo "|---:|---:|---:|---:|---:|"
  awk '!/^#/ { printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }' "$SAMPLES"
} >"$OUT/SOAK.md"
log "$(verdict $ALL_OK): RSS ${RSS_CHANGE}%, fds ${FDMIN}-${FDMAX}, threads ${THMIN}-${THMAX}," \
  "errors ${STATUS_ERR}+${SOCKET_ERR}; wrote $OUT/SOAK.md and $OUT/soak.png"
