#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz: clang-15, AddressSanitizer + UndefinedBehavior-
# Sanitizer, in build-fuzz/ or AUTHSVC_FUZZ_BUILD) and runs each one for SECONDS (default
# 60), one after another, starting from its committed seed corpus
# (tests/fuzz/corpus/<name>/). What a run adds to the corpus stays in
# <build>/corpus/<name>/. Fails if any target finds a crash, a
# leak, a sanitizer report or an input that runs over 60 s (a hang; the limit leaves room
# for a machine shared with builds); the input is kept in <build>/artifacts/<name>/.
# Usage: scripts/fuzz.sh [SECONDS] [NAME...]   (NAME: bearer, http, ...; default all)
# AUTHSVC_FUZZ_RUNS=N (the test command's mode): instead of SECONDS, each target replays its
# seeds and then searches for N executions in all, with the fixed -seed AUTHSVC_FUZZ_SEED
# (default 1), so that a run finds the same things every time: a red CI is never a chance
# finding. Without it (a real search, before an issue is resolved) the search is random;
# whatever it finds becomes a committed seed.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift $(($# > 0 ? 1 : 0))
scripts/setup.sh --fuzz

# AUTHSVC_FUZZ_BUILD: an existing build directory configured with AUTHSVC_FUZZ=ON (as
# scripts/test.sh's sanitizer build is) to build and run the targets in instead.
build=${AUTHSVC_FUZZ_BUILD:-build-fuzz}
echo "=== building $build"
if [ -z "${AUTHSVC_FUZZ_BUILD:-}" ]; then
  cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++-15 -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DAUTHSVC_FUZZ=ON -DAUTHSVC_TESTS=OFF >/dev/null
fi
cmake --build "$build" -j"$(nproc)" --target fuzz_targets

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for src in tests/fuzz/fuzz_*.cpp; do names+=("$(basename "$src" .cpp | sed 's/^fuzz_//')"); done
fi

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
# Readable stack traces need a symbolizer: clang-15's own (package llvm-15) or any other.
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ]; then
  ASAN_SYMBOLIZER_PATH=$(command -v llvm-symbolizer-15 || command -v llvm-symbolizer || true)
  export ASAN_SYMBOLIZER_PATH
fi
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
failed=()
for name in "${names[@]}"; do
  corpus=$build/corpus/$name artifacts=$build/artifacts/$name
  log=$build/fuzz-$name.log
  mkdir -p "$corpus" "$artifacts"
  dict=()
  [ -f "tests/fuzz/$name.dict" ] && dict=(-dict="tests/fuzz/$name.dict")
  if [ -n "${AUTHSVC_FUZZ_RUNS:-}" ]; then
    budget=(-runs="$AUTHSVC_FUZZ_RUNS" -seed="${AUTHSVC_FUZZ_SEED:-1}")
    echo "=== fuzz_$name: ${AUTHSVC_FUZZ_RUNS} executions, -seed=${AUTHSVC_FUZZ_SEED:-1}"
  else
    budget=(-max_total_time="$seconds")
    echo "=== fuzz_$name for ${seconds}s"
  fi
  if "$build"/tests/fuzz/fuzz_"$name" "${budget[@]}" -timeout=60 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" "${dict[@]}" \
      "$corpus" "tests/fuzz/corpus/$name" >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "fuzz_$name: ${execs:-?} executions, no finding"
  else
    tail -n 40 "$log"
    echo "fuzz_$name: FOUND A PROBLEM (log $log, input in $artifacts/)"
    failed+=("$name")
  fi
done
[ ${#failed[@]} -eq 0 ] || { echo "fuzz targets with findings: ${failed[*]}" >&2; exit 1; }
