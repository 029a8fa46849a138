// TokenService: signs and verifies access tokens (JWT, HS256). Issuing signs with a
// pre-keyed HMAC (libsodium); verifying decodes with libjwt 1.10, which checks only format
// and signature; every claim rule of API.md is enforced here:
// pinned algorithm, typ, iss, aud, exp/nbf/iat with leeway, sub. Thread-safe;
// verification never touches the database. Tokens that verified are remembered in a
// bounded VerifiedTokenCache, so a token presented again skips the JWT decode (its
// exp/nbf/iat are still checked against the clock on every call).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "models/AccessClaims.h"
#include "models/Clock.h"
#include "models/Crypto.h"
#include "models/Error.h"

namespace authsvc::models {

class VerifiedTokenCache;

struct TokenSettings {
    std::string secret;  // at least 32 bytes
    std::string issuer;
    std::string audience;
    int64_t accessTtlMs = 15 * 60 * 1000;
    int64_t leewayMs = 30 * 1000;
    size_t verifiedCacheEntries = 4096;  // VerifiedTokenCache; 0 verifies every call in full
};

class TokenService {
  public:
    // Throws std::invalid_argument for a secret shorter than 32 bytes.
    TokenService(TokenSettings settings, const Clock& clock);
    ~TokenService();

    // A signed access token for user `sub` in refresh family `sid`.
    std::string issue(const std::string& sub, const std::string& sid) const;
    int64_t accessTtlSeconds() const { return settings_.accessTtlMs / 1000; }

    // The claims, or ErrorCode::InvalidToken whose message says why (for
    // WWW-Authenticate error_description; expired is "Access token has expired").
    Result<AccessClaims> verify(std::string_view token) const;
    // The claims of a token that verify() accepted before and whose exp/nbf/iat still
    // hold, without decoding it; nullptr otherwise (then call verify()). Only tokens in
    // the JWS base64url alphabet are ever accepted (RFC 7515 7.1).
    std::shared_ptr<const AccessClaims> verifiedBefore(std::string_view token) const;

  private:
    Result<AccessClaims> verifyInFull(std::string_view token) const;

    TokenSettings settings_;
    const Clock& clock_;
    crypto::HmacSha256 signer_;  // the secret's HMAC pads, computed once
    std::string encodedHeader_;  // base64url of {"alg":"HS256","typ":"JWT"}
    std::string issuerJson_;     // settings_.issuer as a JSON string
    std::string audienceJson_;
    std::unique_ptr<VerifiedTokenCache> cache_;
};

}  // namespace authsvc::models
