#include "services/OneTimeToken.h"

#include "common/Crypto.h"
#include "verify/Base64Url.h"

namespace authsvc::models {

MintedToken mintOneTimeToken() {
    crypto::init();
    MintedToken t;
    t.token = verify::base64UrlEncode(crypto::randomBytes(32));
    t.hashHex = crypto::sha256Hex(t.token);
    return t;
}

std::optional<std::string> oneTimeTokenHash(const std::string& token) {
    if (token.size() != kOneTimeTokenLength) return std::nullopt;
    auto bytes = verify::base64UrlDecode(token);
    if (!bytes || bytes->size() != 32) return std::nullopt;
    return crypto::sha256Hex(token);
}

}  // namespace authsvc::models
