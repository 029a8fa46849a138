#!/usr/bin/env bash
# Writes bench/RESULTS.md from the measurements of bench/run.sh (called by it).
# Usage: report.sh ROWS.tsv RSS_AFTER.tsv OUT.md HASH_THREADS ARGON_MEM_KIB ARGON_ITER
#                  LOG_LEVEL WORKER_THREADS DURATION CONNS LOGIN_CONNS LOAD_BEFORE LOAD_AFTER
# The section "What the profile shows" is copied from bench/PROFILE.md when it exists.
set -euo pipefail
rows=$1 rss=$2 out=$3 hash_threads=$4 argon_mem=$5 argon_iter=$6 log_level=$7
worker_threads=$8 duration=$9 conns=${10} login_conns=${11} load_before=${12} load_after=${13}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
cores=$(nproc)
mem=$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
# BENCH_COMMIT: the commit the binaries were built from (run.sh records it before building).
commit=${BENCH_COMMIT:-$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)}
dirty=""
# RESULTS.md itself (the previous run's table) does not count.
[ -n "$(git -C "$root" status --porcelain --untracked-files=no -- . ':!bench/RESULTS.md' \
  2>/dev/null)" ] && dirty=" (with uncommitted changes)"
virt=$(systemd-detect-virt 2>/dev/null || true)

# value MODE SCENARIO COLUMN (3 rps, 4 p50, 5 p99, 8 rss, 9 hwm, 10 cpu)
value() { awk -F'\t' -v m="$1" -v s="$2" -v c="$3" '$1 == m && $2 == s {print $c}' "$rows"; }
ms() { awk -v u="$1" 'BEGIN { if (u == "" || u == "-") print "-"; else printf "%.2f", u / 1000 }'; }
mib() { awk -v k="$1" 'BEGIN { if (k == "" || k == "-") print "-"; else printf "%.1f", k / 1024 }'; }
verdict() { awk -v ok="$1" 'BEGIN { print (ok == 1 ? "**pass**" : "**FAIL**") }'; }

{
  echo "# authsvc benchmark results"
  echo
  echo "Written by \`bench/run.sh\` (see [README.md](README.md)) on $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo
  echo "- Machine: $cpu, $cores cores${virt:+ ($virt VM)}, $mem RAM, kernel $(uname -r)"
  echo "- Commit: \`$commit\`$dirty"
  echo "- Load average (1, 5, 15 min) before the run: $load_before; after: $load_after."
  if awk -v l="${load_before%% *}" 'BEGIN { exit !(l >= 0.5) }'; then
    echo "  **The machine was not idle** before the run (other builds or tests were running):"
    echo "  absolute figures are lower and noisier than on an idle machine; the ratios of the"
    echo "  targets compare runs made minutes apart under the same load."
  fi
  echo "- Server: the shipped \`config.yaml\` as is, with only these overrides (environment):"
  echo "  \`server.host 127.0.0.1\`, \`server.port 0\`, \`server.threads\` 1 (pinned) or $cores"
  echo "  (unpinned), a temporary database, random 48-byte \`jwt.secret\` and \`refresh.secret\`. So: argon2id"
  echo "  m=$argon_mem KiB t=$argon_iter, \`auth.hash_threads\` $hash_threads,"
  echo "  \`server.worker_threads\` $worker_threads, SQLite in WAL mode with \`synchronous=NORMAL\`"
  echo "  (a power loss may lose the last transactions, never corrupt the file)."
  echo "- Logging as shipped: \`log.level: $log_level\`, text format, so **one access-log line"
  echo "  per request** (formatted by the request's thread, written in batches by the log"
  echo "  writer thread, at most 100 ms late) on stderr, redirected to a file."
  if [ "${BENCH_GOVERNOR:-on}" = on ]; then
    echo "- Hashing pool: nice +10, under \`SCHED_IDLE\` while a reactor thread is busy (the"
    echo "  server may leave \`SCHED_IDLE\` again here; see the README's deployment notes)."
  else
    echo "- Hashing pool: nice +10 throughout: the server may not leave \`SCHED_IDLE\` here (no"
    echo "  \`CAP_SYS_NICE\`, \`RLIMIT_NICE\` below 10), so a login storm adds up to a scheduler"
    echo "  tick to protected calls on a shared core (the README's deployment notes)."
  fi
  echo "- Pinned mode: the server (all its threads, including workers and the log writer) on CPU 0"
  echo "  with \`server.threads: 1\`; wrk on CPU 1 with \`-t1\`. Unpinned: no affinity,"
  echo "  \`server.threads: $cores\`, \`wrk -t$cores\`. In pinned mode PostgreSQL runs on CPU 0 too."
  echo "- wrk: plain (no \`Connection\` header: keep-alive as HTTP/1.1 clients do), ${duration} s"
  echo "  per scenario, $conns connections ($login_conns for login, $((login_conns * 2)) logins"
  echo "  beside the protected calls in the storm), \`--timeout 30s\`."
  echo "- Errors: non-2xx responses / socket errors (connect, read, write, timeout). RSS: the"
  echo "  server's VmRSS after the scenario (VmHWM, its peak, in brackets). CPU: the server's"
  echo "  user+system seconds during the scenario, and per request (CPU µs/req: the figure"
  echo "  least disturbed by other load on the machine)."
  echo
  echo "## Results"
  echo
  echo "| mode | scenario | req/s | p50 ms | p99 ms | errors | RSS MiB (peak) | server CPU s | CPU µs/req | notes |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"
  while IFS=$'\t' read -r mode scen rps p50 p99 serr sockerr r hwm c note nreq; do
    per=$(awk -v c="$c" -v n="$nreq" 'BEGIN { if (c == "-" || n == "-" || n == "" || n == 0) print "-"; else printf "%.0f", c * 1e6 / n }')
    rpsf=$(awk -v x="$rps" 'BEGIN { if (x == "") print "-"; else printf "%.0f", x }')
    rsscol="-"
    [ "$r" != "-" ] && rsscol="$(mib "$r") ($(mib "$hwm"))"
    echo "| $mode | $scen | $rpsf | $(ms "$p50") | $(ms "$p99") | $serr / $sockerr | $rsscol | $c | $per | $note |"
  done <"$rows"
  echo
  echo "## Targets (issues 5 and 12)"
  echo
  echo "| # | target | measured | result |"
  echo "|---|---|---|---|"
  for mode in pinned unpinned; do
    grep -q "^$mode	" "$rows" || continue
    label=""
    [ "$mode" = unpinned ] && label=" (unpinned, for information)"
    p=$(value "$mode" protected 3); c=$(value "$mode" ceiling 3)
    if [ -n "$p" ] && [ -n "$c" ]; then
      r=$(awk -v a="$p" -v b="$c" 'BEGIN { printf "%.2f", a / b }')
      ok=$(awk -v r="$r" 'BEGIN { print (r >= 0.90) }')
      echo "| 1 | protected ≥ 0.90 × ceiling$label | $(printf '%.0f' "$p") / $(printf '%.0f' "$c") = $r × | $(verdict "$ok") |"
    fi
    f=$(value "$mode" "refresh (SQLite)" 3)
    if [ -n "$f" ]; then
      ok=$(awk -v a="$f" 'BEGIN { print (a >= 12000) }')
      lim=$(value "$mode" "refresh limit without HTTP (SQLite)" 3)
      [ -n "$lim" ] && lim=" (without HTTP: $(printf '%.0f' "$lim")/s)"
      echo "| 2 | refresh on SQLite ≥ 12,000/s$label (WAL, \`synchronous=NORMAL\` as shipped) | $(printf '%.0f' "$f")/s$lim | $(verdict "$ok") |"
    fi
    l=$(value "$mode" login 3); h=$(value "$mode" "raw argon2id hash rate" 3)
    if [ -n "$l" ] && [ -n "$h" ]; then
      r=$(awk -v a="$l" -v b="$h" 'BEGIN { printf "%.2f", a / b }')
      ok=$(awk -v r="$r" 'BEGIN { print (r >= 0.90) }')
      echo "| 3 | login ≥ 0.90 × raw hash rate, same cores$label | $(printf '%.1f' "$l") / $(printf '%.1f' "$h") = $r × | $(verdict "$ok") |"
    fi
    a=$(value "$mode" "protected during login storm" 5); b=$(value "$mode" protected 5)
    if [ -n "$a" ] && [ -n "$b" ]; then
      r=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')
      ok=$(awk -v r="$r" 'BEGIN { print (r <= 3) }')
      echo "| 4 | protected p99 in the login storm ≤ 3 × without$label | $(ms "$a") ms / $(ms "$b") ms = $r × | $(verdict "$ok") |"
    fi
    if [ -f "$rss" ] && line=$(grep "^$mode	" "$rss"); then
      rk=$(cut -f2 <<<"$line"); hk=$(cut -f3 <<<"$line")
      limit=$((32 * 1024 + hash_threads * argon_mem))
      ok=$(awk -v a="$rk" -v l="$limit" 'BEGIN { print (a <= l) }')
      echo "| 5 | RSS after the bench ≤ 32 MiB + $hash_threads × $argon_mem KiB = $(mib "$limit") MiB$label | $(mib "$rk") MiB (peak $(mib "$hk")) | $(verdict "$ok") |"
    fi
    # Issue 12: ES256 against HS256 in the same run, and against OpenSSL on the same core.
    ratio_row() {  # ratio_row LABEL NUMERATOR_SCENARIO DENOMINATOR_SCENARIO MIN
      local a b r ok
      a=$(value "$mode" "$2" 3); b=$(value "$mode" "$3" 3)
      [ -n "$a" ] && [ -n "$b" ] || return 0
      r=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')
      ok=$(awk -v r="$r" -v m="$4" 'BEGIN { print (r >= m) }')
      echo "| $1$label | $(printf '%.0f' "$a") / $(printf '%.0f' "$b") = $r × | $(verdict "$ok") |"
    }
    ratio_row "12a | protected ES256, same token ≥ 0.90 × protected HS256" "protected ES256" protected 0.90
    ratio_row "12b | protected ES256, distinct tokens ≥ 0.80 × raw OpenSSL verify" \
      "protected ES256 distinct" "raw ES256 verify" 0.80
    ratio_row "12c | refresh ES256 ≥ 0.90 × refresh HS256 (SQLite)" "refresh ES256 (SQLite)" \
      "refresh (SQLite)" 0.90
  done
  if [ -f "$here/REGFLOOD.md" ]; then  # bench/regflood.sh, measured on its own
    echo
    echo "## A login during a registration flood (bench/regflood.sh)"
    sed '1{/^# /d}' "$here/REGFLOOD.md"
  fi
  echo
  echo "## What the profile shows"
  echo
  if [ -f "$here/PROFILE.md" ]; then
    sed '1{/^# /d}' "$here/PROFILE.md"
  else
    echo "(no bench/PROFILE.md yet)"
  fi
} >"$out"
