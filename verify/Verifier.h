// Verifier: checks access tokens issued by authsvc (or any issuer following the same
// rules) without a database: a JWS compact token signed with one of the key source's
// keys, then its claims, in three steps: parse (the JWS shape and its header), signature
// (the key the header names), claims. The rules, each refusal with its Reason (Error.h):
// - a token with a `kid` is checked only against that key and only with that key's
//   algorithm; a token without `kid` only against the shared HS256 secret, if any
//   (NoSharedSecret when there is none);
//   unknown kid (UnknownKid), an `alg` other than the key's, alg "none" among them
//   (AlgorithmNotKeys), or a `crit` header (Crit) refuse it; `jku`, `x5u`, `jwk` and
//   `x5c` are never followed; a header or claims set naming a member twice is refused
//   (RepeatedMember);
// - `typ`, if present, is "JWT" (Typ); `iss` equals the issuer (Issuer); `aud` (string
//   or array) contains the audience (Audience); `exp` is required (MissingExp); `exp`,
//   `nbf` and `iat` hold against the clock with the leeway (Expired, NotYetValid,
//   IssuedInFuture); `sub` is a non-empty string (MissingSubject); `roles`, if present,
//   is an array of strings (BadRoles).
// Tokens that passed are remembered in a bounded cache (VerifiedTokenCache), so a token
// presented again costs a lookup; their times are checked again on every call, and a
// change of key set (a reload, a JWKS refresh) checks them again in full.
// Thread-safe: one Verifier serves every thread.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "verify/AccessClaims.h"
#include "verify/Clock.h"
#include "verify/Error.h"
#include "verify/KeySource.h"
#include "verify/VerifiedTokenCache.h"

namespace authsvc::verify {

struct VerifierOptions {
    std::string issuer;    // required
    std::string audience;  // required
    std::chrono::milliseconds leeway{30'000};
    size_t cacheEntries = 4096;  // 0: every call verifies in full
};

// The outcome of a verification: the claims, or why the token was refused
// (reasonText(reason) for the answer, challenge(reason, realm) for WWW-Authenticate).
struct Verified {
    std::shared_ptr<const AccessClaims> claims;  // non-null when accepted
    Reason reason = Reason::Malformed;           // when refused
    explicit operator bool() const { return claims != nullptr; }
};

class Verifier {
  public:
    // `clock` must outlive the verifier; without one, the system clock.
    Verifier(VerifierOptions options, std::shared_ptr<KeySource> keys, const Clock& clock);
    Verifier(VerifierOptions options, std::shared_ptr<KeySource> keys);
    ~Verifier();
    Verifier(const Verifier&) = delete;
    Verifier& operator=(const Verifier&) = delete;

    // An Authorization header value (nullopt: no header): MissingToken, NotBearer for
    // anything but "Bearer <b64token>", else as verifyToken().
    Verified verifyAuthorization(std::optional<std::string_view> header) const;
    // A bare token.
    Verified verifyToken(std::string_view token) const;

    const VerifierOptions& options() const { return options_; }

  private:
    struct Jws;  // a token split into its parts, its header read (Verifier.cpp)
    Verified verifyInFull(std::string_view token, uint64_t keysVersion) const;
    // The parse step: a JWS compact serialization is three base64url segments and two
    // dots (RFC 7515 7.1); its header a JSON object with a string alg, no crit, typ "JWT"
    // if any, a string kid if any.
    static std::optional<Reason> parse(std::string_view token, Jws& jws);
    // The signature step: the key the header names, its algorithm, the signature. May
    // refetch keys for an unknown kid; then keysVersion becomes 0 (not to be cached).
    std::optional<Reason> checkSignature(const Jws& jws, uint64_t& keysVersion) const;
    // The claims step: fills `claims` and the cache window of an accepted token.
    std::optional<Reason> readClaims(const Jws& jws, AccessClaims& claims,
                                     VerifiedTokenCache::Window& window) const;

    VerifierOptions options_;
    std::shared_ptr<KeySource> keys_;
    std::unique_ptr<Clock> ownClock_;
    const Clock& clock_;
    std::unique_ptr<VerifiedTokenCache> cache_;
};

}  // namespace authsvc::verify
