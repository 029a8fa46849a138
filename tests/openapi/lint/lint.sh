#!/usr/bin/env bash
# ctest openapi.lint: docs/openapi.yaml against Redocly CLI's recommended rules
# (redocly.yaml beside this script; the CLI pinned in package-lock.json, installed into
# WORK_DIR). Fails on any error AND on any warning (redocly itself exits 0 on warnings).
# Usage: lint.sh WORK_DIR [SPEC]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$1
spec=${2:-$here/../../../docs/openapi.yaml}
bash "$here/../../support/npm-ci.sh" "$here" "$work"
set +e
"$work/node_modules/.bin/redocly" lint --config "$here/redocly.yaml" --format json "$spec" \
  >"$work/lint.json" 2>"$work/lint.err"
status=$?
set -e
node - "$work/lint.json" "$status" <<'JS'
const [file, status] = process.argv.slice(2);
let report;
try {
  report = JSON.parse(require("fs").readFileSync(file, "utf8"));
} catch (e) {
  console.error(`openapi.lint: no JSON report from redocly (exit ${status}): ${e.message}`);
  process.exit(1);
}
for (const p of report.problems) {
  const where = (p.location || []).map((l) => l.pointer).join(" ");
  console.log(`${p.severity} ${p.ruleId}: ${p.message} (${where})`);
}
const { errors, warnings } = report.totals;
console.log(`redocly ${report.version}: ${errors} error(s), ${warnings} warning(s)`);
process.exit(errors === 0 && warnings === 0 && status === "0" ? 0 : 1);
JS
