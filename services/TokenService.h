// TokenService: issues access tokens (JWT) signed with the KeyRing's signing key in force:
// HS256 under the shared secret (no kid), or ES256/RS256 under a private key whose kid
// the header carries. Verification is verify::Verifier's. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "services/KeyRing.h"
#include "verify/Clock.h"

namespace authsvc::models {

struct TokenSettings {
    std::string issuer;
    std::string audience;
    int64_t accessTtlMs = 15 * 60 * 1000;
};

class TokenService {
  public:
    // `keys` and `clock` must outlive the service.
    TokenService(TokenSettings settings, const KeyRing& keys, const verify::Clock& clock);

    // A signed access token for user `sub` in refresh family `sid` with a `roles` claim
    // listing `roles` (absent when there are none) and an `email_verified` claim when one
    // is given (auth.email_verification not off), and an `amr` claim (RFC 8176: how the
    // session's user authenticated, e.g. ["pwd", "otp"]) when `amr` is not empty.
    std::string issue(const std::string& sub, const std::string& sid,
                      const std::vector<std::string>& roles = {},
                      std::optional<bool> emailVerified = std::nullopt,
                      const std::vector<std::string>& amr = {}) const;
    int64_t accessTtlSeconds() const { return settings_.accessTtlMs / 1000; }

  private:
    TokenSettings settings_;
    const KeyRing& keys_;
    const verify::Clock& clock_;
    std::string issuerJson_;  // settings_.issuer as a JSON string
    std::string audienceJson_;
};

}  // namespace authsvc::models
