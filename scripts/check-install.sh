#!/usr/bin/env bash
# Installs the verify library from a build directory into a temporary prefix, builds
# examples/consumer against it as a separate project, and checks that the consumer accepts
# an RS256 token signed here with openssl and refuses a tampered one.
# Usage: scripts/check-install.sh BUILD_DIR   (the build must have built authsvc_verify)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: $0 BUILD_DIR}" && pwd)
tmp=$(mktemp -d /tmp/authsvc-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build" --prefix "$tmp/prefix" --component verify >/dev/null
test -f "$tmp/prefix/lib/libauthsvc_verify.a"
test -f "$tmp/prefix/include/authsvc/verify/Verifier.h"
test -f "$tmp/prefix/lib/cmake/authsvc_verify/authsvc_verifyConfig.cmake"

cmake -S "$src/examples/consumer" -B "$tmp/consumer" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$tmp/consumer" >/dev/null

b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/key.pem" 2>/dev/null
openssl pkey -in "$tmp/key.pem" -pubout -out "$tmp/pub.pem"
now=$(date +%s)
header=$(printf '{"alg":"RS256","typ":"JWT","kid":"k1"}' | b64url)
payload=$(printf '{"iss":"authsvc","aud":"api","sub":"user-7","iat":%d,"exp":%d}' \
  "$now" $((now + 300)) | b64url)
sig=$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -sign "$tmp/key.pem" | b64url)
token="$header.$payload.$sig"

out=$("$tmp/consumer/verify-consumer" "$tmp/pub.pem" k1 authsvc api "$token")
[ "$out" = "sub=user-7" ] || { echo "expected sub=user-7, got: $out" >&2; exit 1; }

tampered=$(printf '{"iss":"authsvc","aud":"api","sub":"admin","iat":%d,"exp":%d}' \
  "$now" $((now + 300)) | b64url)
rc=0
out=$("$tmp/consumer/verify-consumer" "$tmp/pub.pem" k1 authsvc api \
  "$header.$tampered.$sig") || rc=$?
[ "$rc" = 1 ] && [[ "$out" == *'error="invalid_token"'* ]] ||
  { echo "a tampered token was not refused (rc $rc): $out" >&2; exit 1; }
echo "verify package: installed, consumer built, token accepted, tampered token refused"
