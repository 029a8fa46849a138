// TokenService: signs and verifies access tokens (JWT, HS256 via libjwt). libjwt 1.10
// checks only format and signature; every claim rule of API.md is enforced here:
// pinned algorithm, typ, iss, aud, exp/nbf/iat with leeway, sub. Stateless and
// thread-safe: verification never touches the database.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "models/Clock.h"
#include "models/Error.h"

namespace authsvc::models {

struct AccessClaims {
    std::string sub;
    std::string sid;  // refresh family id; empty when the token has none
    std::string jti;
    int64_t iat = 0;
    int64_t exp = 0;
};

struct TokenSettings {
    std::string secret;  // at least 32 bytes
    std::string issuer;
    std::string audience;
    int64_t accessTtlMs = 15 * 60 * 1000;
    int64_t leewayMs = 30 * 1000;
};

class TokenService {
  public:
    // Throws std::invalid_argument for a secret shorter than 32 bytes.
    TokenService(TokenSettings settings, const Clock& clock);

    // A signed access token for user `sub` in refresh family `sid`.
    std::string issue(const std::string& sub, const std::string& sid) const;
    int64_t accessTtlSeconds() const { return settings_.accessTtlMs / 1000; }

    // The claims, or ErrorCode::InvalidToken whose message says why (for
    // WWW-Authenticate error_description; expired is "Access token has expired").
    Result<AccessClaims> verify(std::string_view token) const;

  private:
    TokenSettings settings_;
    const Clock& clock_;
};

}  // namespace authsvc::models
