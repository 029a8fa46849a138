#!/usr/bin/env bash
# Runs the example's integration test with its answers recorded, merges the example's
# operations (examples/extending/openapi.yaml) into docs/openapi.yaml, and checks every
# recorded answer against the result with scripts/check-openapi.py.
# Usage: check-openapi.sh BUILD_DIR PYTHON3
set -euo pipefail
src=$(cd "$(dirname "$0")/../../.." && pwd)
build=$(cd "${1:?usage: $0 BUILD_DIR PYTHON3}" && pwd)
python=${2:?usage: $0 BUILD_DIR PYTHON3}
tmp=$(mktemp -d /tmp/authsvc-notes-openapi.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if ! AUTHSVC_TEST_BACKEND=sqlite AUTHSVC_TEST_RESPONSE_LOG="$tmp/responses.jsonl" \
    "$build/notes_tests" --gtest_filter='NotesRouteTest.*' >"$tmp/run.log" 2>&1; then
  cat "$tmp/run.log" >&2
  exit 1
fi
"$python" - "$src/docs/openapi.yaml" "$src/examples/extending/openapi.yaml" "$tmp/spec.yaml" <<'PY'
import sys, yaml
spec = yaml.safe_load(open(sys.argv[1]))
extra = yaml.safe_load(open(sys.argv[2]))
for path in extra["paths"]:
    assert path not in spec["paths"], f"{path} is authsvc's already"
spec["paths"].update(extra["paths"])
spec["components"]["schemas"].update(extra["components"]["schemas"])
with open(sys.argv[3], "w") as out:
    yaml.safe_dump(spec, out, sort_keys=False)
PY
"$python" "$src/scripts/check-openapi.py" --quiet --spec "$tmp/spec.yaml" "$tmp/responses.jsonl"
