#!/usr/bin/env bash
# Usage: check-build-refuses.sh BUILD_DIR CONTROL_PROBE [PROBE HEADER]...
# Builds CONTROL_PROBE, which must compile; then each PROBE, which must fail with the
# compiler (GCC or clang) not finding HEADER (a header of the layer above the probe's). Prints what went
# wrong and exits 1 if a probe compiled or failed for another reason.
set -uo pipefail
build=$1 control=$2
shift 2
if ! out=$(cmake --build "$build" --target "$control" 2>&1); then
  echo "the control probe $control does not compile:" >&2
  echo "$out" >&2
  exit 1
fi
bad=0 n=0
while [ $# -ge 2 ]; do
  probe=$1 header=$2
  shift 2
  n=$((n + 1))
  if out=$(cmake --build "$build" --target "$probe" 2>&1); then
    echo "$probe: an upward include of $header compiled" >&2
    bad=1
  elif ! grep -qF -e "$header: No such file or directory" -e "'$header' file not found" <<<"$out"; then
    echo "$probe: failed, but not for the include of $header:" >&2
    echo "$out" >&2
    bad=1
  fi
done
[ "$bad" = 0 ] && echo "check-build-refuses: $n upward includes stopped the build"
exit "$bad"
