// Verifier: checks access tokens issued by authsvc (or any issuer following the same
// rules) without a database: a JWS compact token signed with one of the key source's
// keys, then its claims. The rules, each one a refusal with ErrorCode::InvalidToken:
// - a token with a `kid` is checked only against that key and only with that key's
//   algorithm; a token without `kid` only against the shared HS256 secret, if any;
//   unknown kid, an `alg` other than the key's (alg "none" among them), or a `crit`
//   header refuse it; `jku`, `x5u`, `jwk` and `x5c` are never followed;
// - `typ`, if present, is "JWT"; `iss` equals the issuer; `aud` (string or array)
//   contains the audience; `exp` is required; `exp`, `nbf` and `iat` hold against the
//   clock with the leeway; `sub` is a non-empty string; `roles`, if present, is an array
//   of strings.
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

namespace authsvc::verify {

class VerifiedTokenCache;

struct VerifierOptions {
    std::string issuer;    // required
    std::string audience;  // required
    std::chrono::milliseconds leeway{30'000};
    size_t cacheEntries = 4096;  // 0: every call verifies in full
};

// The outcome of a verification: the claims, or why the token was refused.
struct Verified {
    std::shared_ptr<const AccessClaims> claims;  // non-null when accepted
    Error error;                                 // when refused
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

    // An Authorization header value (nullopt: no header): MissingToken, InvalidRequest
    // for anything but "Bearer <b64token>", else as verifyToken().
    Verified verifyAuthorization(std::optional<std::string_view> header) const;
    // A bare token.
    Verified verifyToken(std::string_view token) const;

    const VerifierOptions& options() const { return options_; }

  private:
    Verified verifyInFull(std::string_view token, uint64_t keysVersion) const;

    VerifierOptions options_;
    std::shared_ptr<KeySource> keys_;
    std::unique_ptr<Clock> ownClock_;
    const Clock& clock_;
    std::unique_ptr<VerifiedTokenCache> cache_;
};

}  // namespace authsvc::verify
