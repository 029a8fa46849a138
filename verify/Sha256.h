// SHA-256 (FIPS 180-4) on OpenSSL: the one digest of the project (JWK thumbprints, the
// refresh tokens' lookup keys). Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace authsvc::verify {

// The 32 raw bytes of SHA-256(data).
std::string sha256(std::string_view data);

}  // namespace authsvc::verify
