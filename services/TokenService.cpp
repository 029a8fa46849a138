#include "services/TokenService.h"

#include "common/Crypto.h"
#include "common/Error.h"
#include "common/JsonText.h"
#include "verify/Base64Url.h"

namespace authsvc::models {
namespace {

// A JSON string literal for s; bytes that are not UTF-8 become U+FFFD rather than an
// exception (configured issuer and audience, subjects).
std::string jsonString(std::string_view s) {
    std::string out;
    appendJsonString(out, s, InvalidUtf8::Replace);
    return out;
}

// A JSON array of strings (roles, amr).
void appendStringArray(std::string& out, const std::vector<std::string>& items) {
    out.push_back('[');
    for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out.push_back(',');
        appendJsonString(out, items[i], InvalidUtf8::Replace);
    }
    out.push_back(']');
}

}  // namespace

TokenService::TokenService(TokenSettings settings, const KeyRing& keys, const verify::Clock& clock)
    : settings_(std::move(settings)),
      keys_(keys),
      clock_(clock),
      issuerJson_(jsonString(settings_.issuer)),
      audienceJson_(jsonString(settings_.audience)) {
    crypto::init();
}

// The claims in the order libjwt writes them (sorted keys, compact), so that tokens are
// byte for byte what jwt_encode_str would give (TokenServiceTest checks it).
std::string TokenService::issue(const std::string& sub, const std::string& sid,
                                const std::vector<std::string>& roles,
                                std::optional<bool> emailVerified,
                                const std::vector<std::string>& amr) const {
    const int64_t now = clock_.nowSeconds();
    const std::string jti = verify::base64UrlEncode(crypto::randomBytes(16));
    std::string claims;
    claims.reserve(160 + audienceJson_.size() + issuerJson_.size() + sub.size() + sid.size());
    claims.append("{");
    if (!amr.empty()) {
        claims.append("\"amr\":");
        appendStringArray(claims, amr);
        claims.push_back(',');
    }
    claims.append("\"aud\":").append(audienceJson_);
    if (emailVerified)
        claims.append(",\"email_verified\":").append(*emailVerified ? "true" : "false");
    claims.append(",\"exp\":").append(std::to_string(now + settings_.accessTtlMs / 1000));
    claims.append(",\"iat\":").append(std::to_string(now));
    claims.append(",\"iss\":").append(issuerJson_);
    claims.append(",\"jti\":");
    appendJsonString(claims, jti, InvalidUtf8::Replace);
    if (!roles.empty()) {
        claims.append(",\"roles\":");
        appendStringArray(claims, roles);
    }
    if (!sid.empty()) {
        claims.append(",\"sid\":");
        appendJsonString(claims, sid, InvalidUtf8::Replace);
    }
    claims.append(",\"sub\":");
    appendJsonString(claims, sub, InvalidUtf8::Replace);
    claims.append("}");

    const std::shared_ptr<const SigningKey> key = keys_.signingKey();
    // jwt.key_store: database before the first key is installed (serve() waits for it).
    if (!key) throw DatabaseUnavailable("no signing key yet");
    std::string token = key->encodedHeader();
    token.append(".").append(verify::base64UrlEncode(claims));
    const std::string signature = verify::base64UrlEncode(key->sign(token));
    token.append(".").append(signature);
    return token;
}

}  // namespace authsvc::models
