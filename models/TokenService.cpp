#include "models/TokenService.h"

#include <jwt.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "models/Crypto.h"
#include "models/JsonText.h"
#include "models/VerifiedTokenCache.h"

namespace authsvc::models {
namespace {

constexpr size_t kMaxTokenBytes = 8192;

struct JwtFree {
    void operator()(jwt_t* j) const { jwt_free(j); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtFree>;

Error invalid(std::string why) {
    return makeError(ErrorCode::InvalidToken, std::move(why));
}

// Integer claim: nullopt-like (present=false) when absent; libjwt returns 0 with errno 0
// for a claim that is not an integer, so 0 and below count as malformed.
struct IntClaim {
    bool present;
    long value;
};
IntClaim intClaim(jwt_t* j, const char* name) {
    errno = 0;
    long v = jwt_get_grant_int(j, name);
    if (errno == ENOENT) return {false, 0};
    return {true, v};
}

// Epoch seconds to milliseconds without overflow: anything past the year 30000 is
// treated as that far (still in the future, and safe to add a leeway to).
int64_t toMs(long seconds) {
    constexpr long kMaxSeconds = 900'000'000'000L;
    return int64_t(std::min(seconds, kMaxSeconds)) * 1000;
}

bool audienceMatches(jwt_t* j, const std::string& audience) {
    if (const char* aud = jwt_get_grant(j, "aud")) return audience == aud;
    char* raw = jwt_get_grants_json(j, "aud");
    if (!raw) return false;
    std::unique_ptr<char, decltype(&std::free)> guard(raw, &std::free);
    auto parsed = nlohmann::json::parse(raw, nullptr, false);
    if (!parsed.is_array()) return false;
    for (const auto& a : parsed) {
        if (a.is_string() && a.get<std::string>() == audience) return true;
    }
    return false;
}

// A JSON string literal for s; bytes that are not UTF-8 become U+FFFD rather than an
// exception (configured issuer and audience, subjects).
std::string jsonString(std::string_view s) {
    std::string out;
    appendJsonString(out, s, InvalidUtf8::Replace);
    return out;
}

bool isJwsCompactChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
}

}  // namespace

TokenService::TokenService(TokenSettings settings, const Clock& clock)
    : settings_(std::move(settings)),
      clock_(clock),
      signer_((crypto::init(), settings_.secret)),
      encodedHeader_(crypto::base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})")),
      issuerJson_(jsonString(settings_.issuer)),
      audienceJson_(jsonString(settings_.audience)) {
    if (settings_.secret.size() < 32) {
        throw std::invalid_argument("the HS256 secret must be at least 32 bytes");
    }
    cache_ = std::make_unique<VerifiedTokenCache>(settings_.verifiedCacheEntries,
                                                  settings_.leewayMs, clock_);
}

TokenService::~TokenService() = default;

// Issuing does not go through libjwt: jwt_encode_str builds the claims as a jansson object,
// serialises it and sets the HMAC key up again for every token, which was 11% of a refresh
// (rotation) in the profile. The token is the same: the header libjwt writes, the claims
// in the order it writes them (sorted keys, compact), HMAC-SHA256 under the pre-keyed
// libsodium state (crypto::HmacSha256). Verification still goes through libjwt
// (TokenServiceTest checks the bytes against jwt_encode_str).
std::string TokenService::issue(const std::string& sub, const std::string& sid) const {
    const int64_t now = clock_.nowSeconds();
    const std::string jti = crypto::base64UrlEncode(crypto::randomBytes(16));
    std::string claims;
    claims.reserve(160 + audienceJson_.size() + issuerJson_.size() + sub.size() + sid.size());
    claims.append("{\"aud\":").append(audienceJson_);
    claims.append(",\"exp\":").append(std::to_string(now + settings_.accessTtlMs / 1000));
    claims.append(",\"iat\":").append(std::to_string(now));
    claims.append(",\"iss\":").append(issuerJson_);
    claims.append(",\"jti\":");
    appendJsonString(claims, jti, InvalidUtf8::Replace);
    if (!sid.empty()) {
        claims.append(",\"sid\":");
        appendJsonString(claims, sid, InvalidUtf8::Replace);
    }
    claims.append(",\"sub\":");
    appendJsonString(claims, sub, InvalidUtf8::Replace);
    claims.append("}");

    std::string token = encodedHeader_;
    token.append(".").append(crypto::base64UrlEncode(claims));
    const std::string signature = crypto::base64UrlEncode(signer_.mac(token));
    token.append(".").append(signature);
    return token;
}

Result<AccessClaims> TokenService::verify(std::string_view token) const {
    if (token.empty() || token.size() > kMaxTokenBytes) return invalid("Malformed token");
    if (auto hit = cache_->find(token)) return *hit;
    return verifyInFull(token);
}

std::shared_ptr<const AccessClaims> TokenService::verifiedBefore(std::string_view token) const {
    if (token.empty() || token.size() > kMaxTokenBytes) return nullptr;
    return cache_->find(token);
}

Result<AccessClaims> TokenService::verifyInFull(std::string_view token) const {
    // A JWS compact serialization is base64url segments and dots (RFC 7515 7.1), nothing
    // else: no padding, no '+' or '/', no spaces, whatever libjwt's decoder would skip.
    if (!std::all_of(token.begin(), token.end(), isJwsCompactChar)) {
        return invalid("Malformed token");
    }
    const std::string text(token);  // libjwt wants a NUL-terminated string
    jwt_t* raw = nullptr;
    // The key is never empty (checked in the constructor): with an empty key libjwt
    // would accept alg "none".
    if (jwt_decode(&raw, text.c_str(),
                   reinterpret_cast<const unsigned char*>(settings_.secret.data()),
                   int(settings_.secret.size())) != 0 ||
        raw == nullptr) {
        return invalid("Malformed token or bad signature");
    }
    JwtPtr j(raw);
    // libjwt maps the alg name case-insensitively; RFC 7515 4.1.1 makes it case-sensitive.
    const char* alg = jwt_get_header(j.get(), "alg");
    if (jwt_get_alg(j.get()) != JWT_ALG_HS256 || !alg || std::strcmp(alg, "HS256") != 0) {
        return invalid("Unexpected algorithm");
    }
    if (const char* typ = jwt_get_header(j.get(), "typ"); typ && std::strcmp(typ, "JWT") != 0) {
        return invalid("Unexpected token type");
    }
    const char* iss = jwt_get_grant(j.get(), "iss");
    if (!iss || settings_.issuer != iss) return invalid("Unexpected issuer");
    if (!audienceMatches(j.get(), settings_.audience)) return invalid("Unexpected audience");

    const int64_t now = clock_.nowMs();
    const int64_t leeway = settings_.leewayMs;
    IntClaim exp = intClaim(j.get(), "exp");
    if (!exp.present || exp.value <= 0) return invalid("Missing or malformed exp");
    if (now > toMs(exp.value) + leeway) return invalid("Access token has expired");
    IntClaim nbf = intClaim(j.get(), "nbf");
    if (nbf.present && (nbf.value <= 0 || toMs(nbf.value) > now + leeway)) {
        return invalid("Token is not yet valid");
    }
    IntClaim iat = intClaim(j.get(), "iat");
    if (iat.present && (iat.value <= 0 || toMs(iat.value) > now + leeway)) {
        return invalid("Token is not yet valid");
    }
    const char* sub = jwt_get_grant(j.get(), "sub");
    if (!sub || !*sub) return invalid("Missing subject");

    AccessClaims claims;
    claims.sub = sub;
    if (const char* sid = jwt_get_grant(j.get(), "sid")) claims.sid = sid;
    if (const char* jti = jwt_get_grant(j.get(), "jti")) claims.jti = jti;
    claims.iat = iat.present ? iat.value : 0;
    claims.exp = exp.value;
    VerifiedTokenCache::Window window;
    window.expiresMs = toMs(exp.value);
    if (nbf.present) window.notBeforeMs = toMs(nbf.value);
    if (iat.present) window.notBeforeMs = std::max(window.notBeforeMs, toMs(iat.value));
    cache_->insert(token, claims, window);
    return claims;
}

}  // namespace authsvc::models
