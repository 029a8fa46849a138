#!/usr/bin/env bash
# Installs the exact dependencies of a package.json + package-lock.json folder of the source
# tree into a work folder (the build dir: node_modules is never in the source tree), with
# `npm ci`, again only when the lock file changed. Prints nothing on success but npm's errors.
# Usage: npm-ci.sh SOURCE_DIR WORK_DIR
set -euo pipefail
src=$1
work=$2
command -v npm >/dev/null || { echo "npm-ci.sh: no npm (scripts/setup.sh --test)" >&2; exit 1; }
mkdir -p "$work"
if ! cmp -s "$src/package-lock.json" "$work/.installed-lock.json" || [ ! -d "$work/node_modules" ]; then
  cp "$src/package.json" "$src/package-lock.json" "$work/"
  rm -f "$work/.installed-lock.json"
  # No install scripts: none of these packages needs one to run.
  (cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
  cp "$src/package-lock.json" "$work/.installed-lock.json"
fi
