#!/usr/bin/env bash
# Installs what is missing, builds Release and runs `authsvc serve` with ./config.yaml
# (SQLite in ./data). Extra arguments go to authsvc, e.g. scripts/serve.sh --config my.yaml
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DAUTHSVC_TESTS=OFF >/dev/null
cmake --build build-release -j"$(nproc)" --target authsvc
if [ $# -eq 0 ]; then set -- --config config.yaml; fi
exec build-release/authsvc serve "$@"
