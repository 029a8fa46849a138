// JWS verification is written here on OpenSSL rather than through libjwt 1.10: libjwt
// parses the PEM again on every RS256/ES256 call (about 3k verifies/s against OpenSSL's
// tens of thousands with a parsed key), cannot bind a key to one algorithm, and its
// decoder accepts "alg":"none" with an empty key. Keys here are parsed once (KeySet).
#include "verify/Verifier.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "verify/Base64Url.h"
#include "verify/Bearer.h"
#include "verify/Sha256.h"
#include "verify/VerifiedTokenCache.h"

namespace authsvc::verify {
namespace {

constexpr size_t kMaxTokenBytes = 8192;

Verified refused(Reason reason) {
    Verified v;
    v.reason = reason;
    return v;
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

// The JSON object a base64url segment holds, into `out`; Malformed for anything else, and
// RepeatedMember for an object (at any depth) that names a member twice: RFC 7515 5.2 and
// RFC 7519 7.2 let a recipient either refuse those or take the last one, and two readers
// of one token that chose differently would see different claims.
std::optional<Reason> jsonObject(std::string_view b64, nlohmann::json& out) {
    auto bytes = base64UrlDecode(b64);
    if (!bytes) return Reason::Malformed;
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
    out = nlohmann::json::parse(*bytes, check, /*allow_exceptions=*/false);
    if (!out.is_object()) return Reason::Malformed;
    if (repeated) return Reason::RepeatedMember;
    return std::nullopt;
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
// verifies (SEQUENCE of two INTEGERs: minimal, non-negative); empty for any other length.
// Written out directly: BIGNUMs and i2d_ECDSA_SIG cost more than the rest of it.
std::string derFromJose(std::string_view sig) {
    if (sig.size() != 64) return {};
    const auto integer = [](std::string_view half, std::string& out) {
        size_t skip = 0;
        while (skip < half.size() - 1 && half[skip] == 0) ++skip;  // minimal: no leading zeros
        half.remove_prefix(skip);
        const bool pad = (static_cast<unsigned char>(half[0]) & 0x80) != 0;  // else negative
        out.push_back(0x02);
        out.push_back(char(half.size() + (pad ? 1 : 0)));
        if (pad) out.push_back(0);
        out.append(half);
    };
    std::string body;
    body.reserve(70);
    integer(sig.substr(0, 32), body);
    integer(sig.substr(32), body);
    std::string der;
    der.reserve(body.size() + 2);
    der.push_back(0x30);
    der.push_back(char(body.size()));  // at most 70: the short form
    der.append(body);
    return der;
}

// A verification context per key and thread, initialised once (EVP_PKEY_verify_init and
// the digest), for the signatures of tokens that miss the verified-token cache: setting
// one up per token (EVP_DigestVerifyInit) was as much work as the rest of the request
// around the signature. Each context holds a reference to its key, so a key cannot be
// freed (and its address reused) while a context for it is kept; a thread keeps the
// contexts of its last kContexts keys.
constexpr size_t kContexts = 8;
struct VerifyContexts {
    struct Entry {
        const EVP_PKEY* key = nullptr;
        EVP_PKEY_CTX* ctx = nullptr;
    };
    std::vector<Entry> entries;  // most recently used last
    ~VerifyContexts() {
        for (auto& e : entries) EVP_PKEY_CTX_free(e.ctx);
    }
    EVP_PKEY_CTX* forKey(EVP_PKEY* key, Algorithm alg) {
        for (auto& e : entries) {
            if (e.key == key) return e.ctx;
        }
        EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(key, nullptr);
        if (!ctx) return nullptr;
        if (EVP_PKEY_verify_init(ctx) != 1 ||
            EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()) != 1 ||
            (alg == Algorithm::RS256 &&
             EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) != 1)) {
            EVP_PKEY_CTX_free(ctx);
            return nullptr;
        }
        if (entries.size() == kContexts) {
            EVP_PKEY_CTX_free(entries.front().ctx);
            entries.erase(entries.begin());
        }
        entries.push_back({key, ctx});
        return ctx;
    }
};

bool signatureMatches(const AsymmetricKey& key, std::string_view input, std::string_view sig) {
    std::string der;
    if (key.alg == Algorithm::ES256) {
        der = derFromJose(sig);
        if (der.empty()) return false;
        sig = der;
    } else if (sig.size() != size_t(EVP_PKEY_get_size(key.pkey.get()))) {
        return false;
    }
    thread_local VerifyContexts contexts;
    EVP_PKEY_CTX* ctx = contexts.forKey(key.pkey.get(), key.alg);
    if (!ctx) return false;
    const std::string digest = sha256(input);
    return EVP_PKEY_verify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                           reinterpret_cast<const unsigned char*>(digest.data()),
                           digest.size()) == 1;
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
    if (!header) return refused(Reason::MissingToken);
    auto token = bearerCredentials(*header);
    if (!token) return refused(Reason::NotBearer);
    // One cache lookup per request. Cached tokens are in the JWS alphabet, which b64token
    // contains: a hit needs no scan.
    const uint64_t version = keys_->version();
    const bool sized = !token->empty() && token->size() <= kMaxTokenBytes;
    if (sized) {
        if (auto seen = cache_->find(*token, version)) return Verified{std::move(seen)};
    }
    if (!isB64Token(*token)) return refused(Reason::NotBearer);
    if (!sized) return refused(Reason::TooLarge);
    return verifyInFull(*token, version);
}

Verified Verifier::verifyToken(std::string_view token) const {
    if (token.empty() || token.size() > kMaxTokenBytes) return refused(Reason::TooLarge);
    const uint64_t version = keys_->version();
    if (auto seen = cache_->find(token, version)) return Verified{std::move(seen)};
    return verifyInFull(token, version);
}

struct Verifier::Jws {
    std::string_view signingInput;  // header.payload, as signed
    std::string_view payload;       // base64url
    std::string signature;          // decoded
    nlohmann::json header;          // an object, with a string alg
    const std::string* alg = nullptr;
    const std::string* kid = nullptr;  // null: the header has none
};

Verified Verifier::verifyInFull(std::string_view token, uint64_t keysVersion) const {
    Jws jws;
    AccessClaims claims;
    VerifiedTokenCache::Window window;
    std::optional<Reason> refusal = parse(token, jws);
    if (!refusal) refusal = checkSignature(jws, keysVersion);
    if (!refusal) refusal = readClaims(jws, claims, window);
    if (refusal) return refused(*refusal);
    window.keysVersion = keysVersion;
    cache_->insert(token, claims, window);
    return Verified{std::make_shared<const AccessClaims>(std::move(claims))};
}

std::optional<Reason> Verifier::parse(std::string_view token, Jws& jws) {
    if (!std::all_of(token.begin(), token.end(), isJwsCompactChar)) return Reason::Malformed;
    const size_t dot1 = token.find('.');
    const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
        return Reason::Malformed;
    }
    if (auto bad = jsonObject(token.substr(0, dot1), jws.header)) return bad;
    jws.alg = stringClaim(jws.header, "alg");
    if (!jws.alg) return Reason::Malformed;
    if (jws.header.contains("crit")) return Reason::Crit;
    if (auto typ = jws.header.find("typ"); typ != jws.header.end() && *typ != "JWT") {
        return Reason::Typ;
    }
    auto signature = base64UrlDecode(token.substr(dot2 + 1));
    if (!signature) return Reason::Malformed;
    jws.signature = std::move(*signature);
    if (auto kid = jws.header.find("kid"); kid != jws.header.end()) {
        if (!kid->is_string()) return Reason::Malformed;
        jws.kid = kid->get_ptr<const std::string*>();
    }
    jws.signingInput = token.substr(0, dot2);
    jws.payload = token.substr(dot1 + 1, dot2 - dot1 - 1);
    return std::nullopt;
}

std::optional<Reason> Verifier::checkSignature(const Jws& jws, uint64_t& keysVersion) const {
    std::shared_ptr<const KeySet> keys = keys_->keys();
    if (!jws.kid) {
        if (*jws.alg != "HS256") return Reason::AlgorithmNotKeys;
        if (keys->sharedSecret().empty()) return Reason::NoSharedSecret;
        if (!hmacMatches(keys->sharedSecret(), jws.signingInput, jws.signature)) {
            return Reason::BadSignature;
        }
        return std::nullopt;
    }
    const AsymmetricKey* key = keys->find(*jws.kid);
    if (!key) {
        if (auto fresher = keys_->keysForUnknownKid(*jws.kid)) {
            keys = std::move(fresher);
            keysVersion = 0;  // not cached: the set may have moved on since
            key = keys->find(*jws.kid);
        }
    }
    if (!key) return Reason::UnknownKid;
    if (*jws.alg != algorithmName(key->alg)) return Reason::AlgorithmNotKeys;
    if (!signatureMatches(*key, jws.signingInput, jws.signature)) return Reason::BadSignature;
    return std::nullopt;
}

std::optional<Reason> Verifier::readClaims(const Jws& jws, AccessClaims& claims,
                                           VerifiedTokenCache::Window& window) const {
    nlohmann::json payload;
    if (auto bad = jsonObject(jws.payload, payload)) return bad;
    const std::string* iss = stringClaim(payload, "iss");
    if (!iss || *iss != options_.issuer) return Reason::Issuer;
    if (!audienceMatches(payload, options_.audience)) return Reason::Audience;

    const int64_t now = clock_.nowMs();
    const int64_t leeway = options_.leeway.count();
    const IntClaim exp = intClaim(payload, "exp");
    if (!exp.present || exp.value <= 0) return Reason::MissingExp;
    if (now > toMs(exp.value) + leeway) return Reason::Expired;
    const IntClaim nbf = intClaim(payload, "nbf");
    if (nbf.present && (nbf.value <= 0 || toMs(nbf.value) > now + leeway)) {
        return Reason::NotYetValid;
    }
    const IntClaim iat = intClaim(payload, "iat");
    if (iat.present && (iat.value <= 0 || toMs(iat.value) > now + leeway)) {
        return Reason::IssuedInFuture;
    }
    const std::string* sub = stringClaim(payload, "sub");
    if (!sub || sub->empty()) return Reason::MissingSubject;
    if (!readRoles(payload, claims.roles)) return Reason::BadRoles;

    claims.sub = *sub;
    if (const std::string* sid = stringClaim(payload, "sid")) claims.sid = *sid;
    if (const std::string* jti = stringClaim(payload, "jti")) claims.jti = *jti;
    claims.iat = iat.present ? iat.value : 0;
    claims.exp = exp.value;
    window.expiresMs = toMs(exp.value);
    if (nbf.present) window.notBeforeMs = toMs(nbf.value);
    if (iat.present) window.notBeforeMs = std::max(window.notBeforeMs, toMs(iat.value));
    return std::nullopt;
}

}  // namespace authsvc::verify
