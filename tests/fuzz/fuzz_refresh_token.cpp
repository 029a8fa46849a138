// Fuzz target: the refresh-token decoder, everything AuthService does with a presented
// refresh token before the database lookup (isWellFormedRefreshToken, base64url decoding,
// the SHA-256 lookup key and the HMAC-derived successor). Input: the token's bytes.
// Beyond sanitizer findings it checks that a token accepted as well-formed is exactly the
// canonical base64url text of 32 bytes, and that base64url decoding round-trips.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "services/AuthService.h"
#include "common/Crypto.h"
#include "verify/Base64Url.h"
#include "verify/Sha256.h"

namespace crypto = authsvc::models::crypto;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const bool ready = (crypto::init(), true);
    static const crypto::HmacSha256 successorMac(authsvc::verify::sha256("fuzz successor key"));
    (void)ready;
    const std::string token(reinterpret_cast<const char*>(data), size);

    if (auto bytes = authsvc::verify::base64UrlDecode(token)) {
        // What decodes is canonical: encoding it again gives the same text.
        if (authsvc::verify::base64UrlEncode(*bytes) != token) std::abort();
    }
    if (authsvc::models::isWellFormedRefreshToken(token)) {
        auto bytes = authsvc::verify::base64UrlDecode(token);
        if (token.size() != 43 || !bytes || bytes->size() != 32) std::abort();
        // The lookup key and the successor, as AuthService::refresh computes them.
        const std::string hash = authsvc::verify::sha256(token);
        const std::string successor = authsvc::verify::base64UrlEncode(successorMac.mac(token));
        if (hash.size() != 32 || !authsvc::models::isWellFormedRefreshToken(successor)) {
            std::abort();
        }
    }
    return 0;
}
