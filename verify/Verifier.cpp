// JWS verification is written here on OpenSSL rather than through libjwt 1.10: libjwt
// parses the PEM again on every RS256/ES256 call (about 3k verifies/s against OpenSSL's
// tens of thousands with a parsed key), cannot bind a key to one algorithm, and its
// decoder accepts "alg":"none" with an empty key. Keys here are parsed once (KeySet).
#include "verify/Verifier.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "verify/Base64Url.h"
#include "verify/Bearer.h"
#include "verify/VerifiedTokenCache.h"

namespace authsvc::verify {
namespace {

constexpr size_t kMaxTokenBytes = 8192;

Verified refused(ErrorCode code, std::string why) {
    Verified v;
    v.error = Error{code, std::move(why)};
    return v;
}
Verified invalid(std::string why) {
    return refused(ErrorCode::InvalidToken, std::move(why));
}

bool isJwsCompactChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
}

// Epoch seconds to milliseconds without overflow: anything past the year 30000 is
// treated as that far (still in the future, and safe to add a leeway to).
int64_t toMs(int64_t seconds) {
    constexpr int64_t kMaxSeconds = 900'000'000'000LL;
    return std::min(seconds, kMaxSeconds) * 1000;
}

// An integer claim: absent, or its value; a claim that is not a positive integer reads
// as 0 (refused by every rule that reads it).
struct IntClaim {
    bool present = false;
    int64_t value = 0;
};
IntClaim intClaim(const nlohmann::json& payload, const char* name) {
    auto it = payload.find(name);
    if (it == payload.end()) return {};
    if (it->is_number_unsigned()) {
        const auto v = it->get<uint64_t>();
        return {true, v > uint64_t(INT64_MAX) ? INT64_MAX : int64_t(v)};
    }
    if (it->is_number_integer()) return {true, std::max<int64_t>(0, it->get<int64_t>())};
    return {true, 0};
}

const std::string* stringClaim(const nlohmann::json& obj, const char* name) {
    auto it = obj.find(name);
    if (it == obj.end() || !it->is_string()) return nullptr;
    return it->get_ptr<const std::string*>();
}

// The `roles` claim: absent is no roles; anything but an array of strings is refused.
bool readRoles(const nlohmann::json& payload, std::vector<std::string>& out) {
    auto it = payload.find("roles");
    if (it == payload.end()) return true;
    if (!it->is_array()) return false;
    out.reserve(it->size());
    for (const auto& role : *it) {
        if (!role.is_string()) return false;
        out.push_back(role.get<std::string>());
    }
    return true;
}

bool audienceMatches(const nlohmann::json& payload, const std::string& audience) {
    auto it = payload.find("aud");
    if (it == payload.end()) return false;
    if (it->is_string()) return *it == audience;
    if (!it->is_array()) return false;
    return std::any_of(it->begin(), it->end(),
                       [&](const nlohmann::json& a) { return a.is_string() && a == audience; });
}

// The JSON object a base64url segment holds; nullopt for anything else, and for an object
// (at any depth) that names a member twice: RFC 7515 5.2 and RFC 7519 7.2 let a recipient
// either refuse those or take the last one, and two readers of one token that chose
// differently would see different claims.
std::optional<nlohmann::json> jsonObject(std::string_view b64) {
    auto bytes = base64UrlDecode(b64);
    if (!bytes) return std::nullopt;
    std::vector<std::set<std::string, std::less<>>> names;  // per open object
    bool repeated = false;
    const nlohmann::json::parser_callback_t check = [&](int, nlohmann::json::parse_event_t event,
                                                        nlohmann::json& parsed) {
        using Event = nlohmann::json::parse_event_t;
        if (event == Event::object_start) {
            names.emplace_back();
        } else if (event == Event::object_end) {
            if (!names.empty()) names.pop_back();
        } else if (event == Event::key && !names.empty() && parsed.is_string()) {
            if (!names.back().insert(parsed.get_ref<const std::string&>()).second) repeated = true;
        }
        return true;
    };
    auto parsed = nlohmann::json::parse(*bytes, check, /*allow_exceptions=*/false);
    if (repeated || !parsed.is_object()) return std::nullopt;
    return parsed;
}

bool hmacMatches(const std::string& secret, std::string_view input, std::string_view sig) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), secret.data(), int(secret.size()),
              reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len)) {
        return false;
    }
    return sig.size() == len && CRYPTO_memcmp(mac, sig.data(), len) == 0;
}

// A JOSE ES256 signature (R || S, 32 bytes each; RFC 7518 §3.4) as the DER that OpenSSL
// verifies; empty for any other length.
std::string derFromJose(std::string_view sig) {
    if (sig.size() != 64) return {};
    ECDSA_SIG* s = ECDSA_SIG_new();
    if (!s) return {};
    BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()), 32, nullptr);
    BIGNUM* ss = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data() + 32), 32, nullptr);
    std::string der;
    if (r && ss && ECDSA_SIG_set0(s, r, ss)) {
        unsigned char* out = nullptr;
        const int len = i2d_ECDSA_SIG(s, &out);
        if (len > 0) der.assign(reinterpret_cast<char*>(out), size_t(len));
        OPENSSL_free(out);
    } else {
        BN_free(r);
        BN_free(ss);
    }
    ECDSA_SIG_free(s);
    return der;
}

bool signatureMatches(const AsymmetricKey& key, std::string_view input, std::string_view sig) {
    std::string der;
    if (key.alg == Algorithm::ES256) {
        der = derFromJose(sig);
        if (der.empty()) return false;
        sig = der;
    } else if (sig.size() != size_t(EVP_PKEY_get_size(key.pkey.get()))) {
        return false;
    }
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    return ctx &&
           EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.pkey.get()) == 1 &&
           EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()),
                            sig.size(), reinterpret_cast<const unsigned char*>(input.data()),
                            input.size()) == 1;
}

}  // namespace

Verifier::Verifier(VerifierOptions options, std::shared_ptr<KeySource> keys, const Clock& clock)
    : options_(std::move(options)),
      keys_(std::move(keys)),
      clock_(clock),
      cache_(std::make_unique<VerifiedTokenCache>(options_.cacheEntries, options_.leeway.count(),
                                                  clock_)) {}

Verifier::Verifier(VerifierOptions options, std::shared_ptr<KeySource> keys)
    : options_(std::move(options)),
      keys_(std::move(keys)),
      ownClock_(std::make_unique<SystemClock>()),
      clock_(*ownClock_),
      cache_(std::make_unique<VerifiedTokenCache>(options_.cacheEntries, options_.leeway.count(),
                                                  clock_)) {}

Verifier::~Verifier() = default;

Verified Verifier::verifyAuthorization(std::optional<std::string_view> header) const {
    if (!header) return refused(ErrorCode::MissingToken, "Missing access token");
    auto notBearer = [] {
        return refused(ErrorCode::InvalidRequest,
                       "The Authorization header must be 'Bearer <token>'");
    };
    auto token = bearerCredentials(*header);
    if (!token) return notBearer();
    // One cache lookup per request. Cached tokens are in the JWS alphabet, which b64token
    // contains: a hit needs no scan.
    const uint64_t version = keys_->version();
    const bool sized = !token->empty() && token->size() <= kMaxTokenBytes;
    if (sized) {
        if (auto seen = cache_->find(*token, version)) return Verified{std::move(seen), {}};
    }
    if (!isB64Token(*token)) return notBearer();
    if (!sized) return invalid("Malformed token");
    return verifyInFull(*token, version);
}

Verified Verifier::verifyToken(std::string_view token) const {
    if (token.empty() || token.size() > kMaxTokenBytes) return invalid("Malformed token");
    const uint64_t version = keys_->version();
    if (auto seen = cache_->find(token, version)) return Verified{std::move(seen), {}};
    return verifyInFull(token, version);
}

Verified Verifier::verifyInFull(std::string_view token, uint64_t keysVersion) const {
    // A JWS compact serialization is three base64url segments and two dots (RFC 7515 7.1).
    if (!std::all_of(token.begin(), token.end(), isJwsCompactChar))
        return invalid("Malformed token");
    const size_t dot1 = token.find('.');
    const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
        return invalid("Malformed token");
    }
    auto header = jsonObject(token.substr(0, dot1));
    if (!header) return invalid("Malformed token");
    const std::string* alg = stringClaim(*header, "alg");
    if (!alg) return invalid("Malformed token");
    if (header->contains("crit")) return invalid("Unsupported critical header parameter");
    if (auto typ = header->find("typ"); typ != header->end() && *typ != "JWT") {
        return invalid("Unexpected token type");
    }
    const std::string_view signingInput = token.substr(0, dot2);
    auto signature = base64UrlDecode(token.substr(dot2 + 1));
    if (!signature) return invalid("Malformed token");

    std::shared_ptr<const KeySet> keys = keys_->keys();
    if (auto kidIt = header->find("kid"); kidIt != header->end()) {
        if (!kidIt->is_string()) return invalid("Malformed token");
        const auto& kid = kidIt->get_ref<const std::string&>();
        const AsymmetricKey* key = keys->find(kid);
        if (!key) {
            if (auto fresher = keys_->keysForUnknownKid(kid)) {
                keys = std::move(fresher);
                keysVersion = 0;  // not cached: the set may have moved on since
                key = keys->find(kid);
            }
        }
        if (!key) return invalid("Unknown signing key");
        if (*alg != algorithmName(key->alg)) return invalid("Unexpected algorithm");
        if (!signatureMatches(*key, signingInput, *signature)) return invalid("Bad signature");
    } else {
        if (*alg != "HS256" || keys->sharedSecret().empty()) return invalid("Unexpected algorithm");
        if (!hmacMatches(keys->sharedSecret(), signingInput, *signature)) {
            return invalid("Bad signature");
        }
    }

    auto payload = jsonObject(token.substr(dot1 + 1, dot2 - dot1 - 1));
    if (!payload) return invalid("Malformed token");
    const std::string* iss = stringClaim(*payload, "iss");
    if (!iss || *iss != options_.issuer) return invalid("Unexpected issuer");
    if (!audienceMatches(*payload, options_.audience)) return invalid("Unexpected audience");

    const int64_t now = clock_.nowMs();
    const int64_t leeway = options_.leeway.count();
    const IntClaim exp = intClaim(*payload, "exp");
    if (!exp.present || exp.value <= 0) return invalid("Missing or malformed exp");
    if (now > toMs(exp.value) + leeway) return invalid("Access token has expired");
    const IntClaim nbf = intClaim(*payload, "nbf");
    if (nbf.present && (nbf.value <= 0 || toMs(nbf.value) > now + leeway)) {
        return invalid("Token is not yet valid");
    }
    const IntClaim iat = intClaim(*payload, "iat");
    if (iat.present && (iat.value <= 0 || toMs(iat.value) > now + leeway)) {
        return invalid("Token is not yet valid");
    }
    const std::string* sub = stringClaim(*payload, "sub");
    if (!sub || sub->empty()) return invalid("Missing subject");

    AccessClaims claims;
    if (!readRoles(*payload, claims.roles)) return invalid("Malformed roles claim");
    claims.sub = *sub;
    if (const std::string* sid = stringClaim(*payload, "sid")) claims.sid = *sid;
    if (const std::string* jti = stringClaim(*payload, "jti")) claims.jti = *jti;
    claims.iat = iat.present ? iat.value : 0;
    claims.exp = exp.value;
    VerifiedTokenCache::Window window;
    window.expiresMs = toMs(exp.value);
    if (nbf.present) window.notBeforeMs = toMs(nbf.value);
    if (iat.present) window.notBeforeMs = std::max(window.notBeforeMs, toMs(iat.value));
    window.keysVersion = keysVersion;
    cache_->insert(token, claims, window);
    return Verified{std::make_shared<const AccessClaims>(std::move(claims)), {}};
}

}  // namespace authsvc::verify
