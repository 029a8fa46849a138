#!/usr/bin/env bash
# Installs the Debian 12 packages authsvc needs that are missing, and nothing else.
# Usage: scripts/setup.sh [--test] [--bench] [--fuzz] [--package]
set -euo pipefail

packages=(g++ cmake make pkg-config libpistache-dev libssl-dev libsoci-dev
  libsqlite3-dev libpq-dev libmariadb-dev libyaml-cpp-dev libsodium-dev nlohmann-json3-dev libcli11-dev
  libspdlog-dev libcurl4-openssl-dev)
# The Debian package (scripts/package.sh: dpkg-shlibdeps) and its check
# (scripts/check-package.sh: systemd-analyze, curl); the test suite runs that check.
package=(dpkg-dev systemd curl)
for arg in "$@"; do
  case "$arg" in
    --test) packages+=(libgtest-dev libjwt-dev postgresql pgbouncer openssl python3-yaml python3-jsonschema "${package[@]}") ;;
    --bench) packages+=(wrk libjwt-dev postgresql pgbouncer mariadb-server gnuplot-nox) ;;
    --fuzz) packages+=(clang-15 libfuzzer-15-dev libhttp-parser-dev) ;;  # scripts/fuzz.sh
    --package) packages+=("${package[@]}") ;;
    *) echo "usage: $0 [--test] [--bench] [--fuzz] [--package]" >&2; exit 2 ;;
  esac
done
# The mail tests' SMTP server (tests/integration/support/smtp_sink.py) and the browser
# test of the account pages (tests/browser/test_pages.py).
[[ " $* " == *" --test "* ]] && packages+=(python3-aiosmtpd chromium chromium-driver python3-selenium)
# TOTP codes from an implementation that is not ours (tests/integration/MfaTest.cpp).
[[ " $* " == *" --test "* ]] && packages+=(oathtool)
# The MariaDB run of the suite (scripts/mariadb.sh) and the Galera tests.
[[ " $* " == *" --test "* ]] && packages+=(mariadb-server galera-4)
# The Galera tests' state transfers (scripts/galera.sh: wsrep_sst_method=rsync).
[[ " $* " == *" --test "* ]] && packages+=(rsync)
# The OAuth client-library test (tests/oauth/test_oauth_client.py; PyJWT needs cryptography
# for ES256, which python3-jwt only recommends).
[[ " $* " == *" --test "* ]] && packages+=(python3-requests-oauthlib python3-jwt python3-cryptography)
# Redocly CLI (ctest openapi.lint) and the Node verifier (examples/node-verifier): node and
# npm, Debian's unless the machine has them (the packages come from the npm registry by npm ci).
[[ " $* " == *" --test "* ]] && ! command -v npm >/dev/null && packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
