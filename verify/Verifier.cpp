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
#include <array>
#include <nlohmann/json.hpp>
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

// One JSON object's top-level members that a JWS header or claims set is read for, by
// nlohmann's SAX parser: the grammar, strings and numbers of json::parse, without building
// its DOM (a std::map node, a key string and a value per member, a std::function and a
// std::set per object: most of the work around an ES256 signature). Also refuses an object
// (at any depth) that names a member twice: RFC 7515 5.2 and RFC 7519 7.2 let a recipient
// either refuse those or take the last one, and two readers of one token that chose
// differently would see different claims. Each object's names are sorted once at its end:
// n log n in its members whatever the (unverified) bytes hold.
struct JsonMember {
    enum class Kind : uint8_t { Absent, String, Unsigned, Negative, Array, Other };
    Kind kind = Kind::Absent;
    std::string text;                // String
    uint64_t number = 0;             // Unsigned (nlohmann: a non-negative integer)
    std::vector<std::string> items;  // Array: its string elements
    bool onlyStrings = true;         // Array: no element of another type
};

template <size_t N>
class MemberReader {
  public:
    using Json = nlohmann::json;
    using Kind = JsonMember::Kind;
    explicit MemberReader(const std::array<std::string_view, N>& names) : names_(names) {}

    std::array<JsonMember, N> members;
    bool repeated = false;

    bool null() { return scalar(Kind::Other); }
    bool boolean(bool) { return scalar(Kind::Other); }
    bool number_integer(Json::number_integer_t) { return scalar(Kind::Negative); }
    bool number_unsigned(Json::number_unsigned_t v) {
        if (JsonMember* m = member()) m->number = v;
        return scalar(Kind::Unsigned);
    }
    bool number_float(Json::number_float_t, const std::string&) { return scalar(Kind::Other); }
    bool binary(Json::binary_t&) { return scalar(Kind::Other); }
    bool string(std::string& value) {
        if (JsonMember* m = member()) {
            m->text = std::move(value);
        } else if (JsonMember* a = array()) {
            a->items.push_back(std::move(value));
            return true;
        }
        return scalar(Kind::String);
    }
    bool start_object(size_t) {
        if (depth_ == 0) {
            if (started_) return false;
            started_ = true;
        } else {
            container(Kind::Other);
        }
        if (names_open_ == keys_.size()) keys_.emplace_back();
        keys_[names_open_++].clear();
        ++depth_;
        return true;
    }
    bool key(std::string& name) {
        if (depth_ == 1) {
            current_ = N;
            for (size_t i = 0; i < N; ++i) {
                if (name == names_[i]) current_ = i;
            }
        }
        keys_[names_open_ - 1].push_back(std::move(name));
        return true;
    }
    bool end_object() {
        auto& names = keys_[--names_open_];
        std::sort(names.begin(), names.end());
        if (std::adjacent_find(names.begin(), names.end()) != names.end()) repeated = true;
        --depth_;
        return true;
    }
    bool start_array(size_t) {
        if (depth_ == 0) return false;  // the top level is not an object
        if (JsonMember* m = member()) {
            m->items.clear();
            m->onlyStrings = true;
        }
        container(Kind::Array);
        ++depth_;
        return true;
    }
    bool end_array() {
        --depth_;
        return true;
    }
    bool parse_error(size_t, const std::string&, const nlohmann::detail::exception&) {
        return false;
    }

  private:
    // The member whose value is at this point (a top-level member we read), if any.
    JsonMember* member() { return depth_ == 1 && current_ < N ? &members[current_] : nullptr; }
    // The member whose array holds the element at this point, if any.
    JsonMember* array() {
        return depth_ == 2 && current_ < N && members[current_].kind == Kind::Array
                   ? &members[current_]
                   : nullptr;
    }
    bool scalar(Kind kind) {
        if (depth_ == 0) return false;  // the top level is not an object
        if (JsonMember* m = member()) {
            m->kind = kind;
        } else if (JsonMember* a = array()) {
            a->onlyStrings = false;
        }
        return true;
    }
    void container(Kind kind) {
        if (JsonMember* m = member()) {
            m->kind = kind;
        } else if (JsonMember* a = array()) {
            a->onlyStrings = false;
        }
    }

    const std::array<std::string_view, N>& names_;
    size_t depth_ = 0;    // open objects and arrays
    size_t current_ = N;  // the top-level member being read (N: one we do not read)
    bool started_ = false;
    std::vector<std::vector<std::string>> keys_;  // the names of each open object
    size_t names_open_ = 0;
};

// A base64url segment's JSON object, read into `reader`: Malformed for anything but one
// object, RepeatedMember for an object (at any depth) that names a member twice.
template <size_t N>
std::optional<Reason> readObject(std::string_view b64, MemberReader<N>& reader) {
    auto bytes = base64UrlDecode(b64);
    if (!bytes) return Reason::Malformed;
    if (!nlohmann::json::sax_parse(bytes->begin(), bytes->end(), &reader)) return Reason::Malformed;
    if (reader.repeated) return Reason::RepeatedMember;
    return std::nullopt;
}

const std::string* stringMember(const JsonMember& m) {
    return m.kind == JsonMember::Kind::String ? &m.text : nullptr;
}

// An integer claim: absent, or its value; a claim that is not a positive integer reads
// as 0 (refused by every rule that reads it).
struct IntClaim {
    bool present = false;
    int64_t value = 0;
};
IntClaim intClaim(const JsonMember& m) {
    switch (m.kind) {
        case JsonMember::Kind::Absent:
            return {};
        case JsonMember::Kind::Unsigned:
            return {true, m.number > uint64_t(INT64_MAX) ? INT64_MAX : int64_t(m.number)};
        default:
            return {true, 0};
    }
}

bool audienceMatches(const JsonMember& aud, const std::string& audience) {
    if (aud.kind == JsonMember::Kind::String) return aud.text == audience;
    if (aud.kind != JsonMember::Kind::Array) return false;
    return std::find(aud.items.begin(), aud.items.end(), audience) != aud.items.end();
}

enum HeaderMember : size_t { kAlg, kKid, kTyp, kCrit, kHeaderMembers };
constexpr std::array<std::string_view, kHeaderMembers> kHeaderNames{"alg", "kid", "typ", "crit"};
enum ClaimMember : size_t { kIss, kAud, kExp, kNbf, kIat, kSub, kRoles, kSid, kJti, kClaimMembers };
constexpr std::array<std::string_view, kClaimMembers> kClaimNames{
    "iss", "aud", "exp", "nbf", "iat", "sub", "roles", "sid", "jti"};

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
    std::string_view signingInput;   // header.payload, as signed
    std::string_view payload;        // base64url
    std::string signature;           // decoded
    std::string alg;                 // the header's
    std::optional<std::string> kid;  // the header's, if any
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
    auto shared = std::make_shared<const AccessClaims>(std::move(claims));
    cache_->insert(token, shared, window);
    return Verified{std::move(shared)};
}

std::optional<Reason> Verifier::parse(std::string_view token, Jws& jws) {
    if (!std::all_of(token.begin(), token.end(), isJwsCompactChar)) return Reason::Malformed;
    const size_t dot1 = token.find('.');
    const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
        return Reason::Malformed;
    }
    // One issuer's tokens carry the same header, byte for byte: each thread keeps the last
    // accepted header it read with what it says (a function of those bytes alone).
    struct LastHeader {
        bool accepted = false;  // b64 holds a header that passed; nothing matches before
        std::string b64;
        std::string alg;
        std::optional<std::string> kid;
    };
    thread_local LastHeader last;
    const std::string_view headerB64 = token.substr(0, dot1);
    if (!last.accepted || headerB64 != last.b64) {
        MemberReader<kHeaderMembers> header(kHeaderNames);
        if (auto bad = readObject(headerB64, header)) return bad;
        auto& m = header.members;
        if (!stringMember(m[kAlg])) return Reason::Malformed;
        if (m[kCrit].kind != JsonMember::Kind::Absent) return Reason::Crit;
        if (m[kTyp].kind != JsonMember::Kind::Absent &&
            (!stringMember(m[kTyp]) || m[kTyp].text != "JWT")) {
            return Reason::Typ;
        }
        if (m[kKid].kind != JsonMember::Kind::Absent && !stringMember(m[kKid])) {
            return Reason::Malformed;
        }
        last.accepted = true;
        last.b64.assign(headerB64);
        last.alg = std::move(m[kAlg].text);
        last.kid.reset();
        if (m[kKid].kind != JsonMember::Kind::Absent) last.kid = std::move(m[kKid].text);
    }
    jws.alg = last.alg;
    jws.kid = last.kid;
    auto signature = base64UrlDecode(token.substr(dot2 + 1));
    if (!signature) return Reason::Malformed;
    jws.signature = std::move(*signature);
    jws.signingInput = token.substr(0, dot2);
    jws.payload = token.substr(dot1 + 1, dot2 - dot1 - 1);
    return std::nullopt;
}

std::optional<Reason> Verifier::checkSignature(const Jws& jws, uint64_t& keysVersion) const {
    std::shared_ptr<const KeySet> keys = keys_->keys();
    if (!jws.kid) {
        if (jws.alg != "HS256") return Reason::AlgorithmNotKeys;
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
    if (jws.alg != algorithmName(key->alg)) return Reason::AlgorithmNotKeys;
    if (!signatureMatches(*key, jws.signingInput, jws.signature)) return Reason::BadSignature;
    return std::nullopt;
}

std::optional<Reason> Verifier::readClaims(const Jws& jws, AccessClaims& claims,
                                           VerifiedTokenCache::Window& window) const {
    MemberReader<kClaimMembers> payload(kClaimNames);
    if (auto bad = readObject(jws.payload, payload)) return bad;
    auto& m = payload.members;
    const std::string* iss = stringMember(m[kIss]);
    if (!iss || *iss != options_.issuer) return Reason::Issuer;
    if (!audienceMatches(m[kAud], options_.audience)) return Reason::Audience;

    const int64_t now = clock_.nowMs();
    const int64_t leeway = options_.leeway.count();
    const IntClaim exp = intClaim(m[kExp]);
    if (!exp.present || exp.value <= 0) return Reason::MissingExp;
    if (now > toMs(exp.value) + leeway) return Reason::Expired;
    const IntClaim nbf = intClaim(m[kNbf]);
    if (nbf.present && (nbf.value <= 0 || toMs(nbf.value) > now + leeway)) {
        return Reason::NotYetValid;
    }
    const IntClaim iat = intClaim(m[kIat]);
    if (iat.present && (iat.value <= 0 || toMs(iat.value) > now + leeway)) {
        return Reason::IssuedInFuture;
    }
    const std::string* sub = stringMember(m[kSub]);
    if (!sub || sub->empty()) return Reason::MissingSubject;
    // The `roles` claim: absent is no roles; anything but an array of strings is refused.
    if (m[kRoles].kind != JsonMember::Kind::Absent) {
        if (m[kRoles].kind != JsonMember::Kind::Array || !m[kRoles].onlyStrings) {
            return Reason::BadRoles;
        }
        claims.roles = std::move(m[kRoles].items);
    }

    claims.sub = std::move(m[kSub].text);
    if (stringMember(m[kSid])) claims.sid = std::move(m[kSid].text);
    if (stringMember(m[kJti])) claims.jti = std::move(m[kJti].text);
    claims.iat = iat.present ? iat.value : 0;
    claims.exp = exp.value;
    window.expiresMs = toMs(exp.value);
    if (nbf.present) window.notBeforeMs = toMs(nbf.value);
    if (iat.present) window.notBeforeMs = std::max(window.notBeforeMs, toMs(iat.value));
    return std::nullopt;
}

}  // namespace authsvc::verify
