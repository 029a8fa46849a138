// One-time tokens for links in mails (password recovery, later email verification): 256
// bits from the CSPRNG as base64url (43 characters) in the link; only their SHA-256 (hex)
// is stored. Thread-safe.
#pragma once

#include <optional>
#include <string>

namespace authsvc::models {

struct MintedToken {
    std::string token;    // for the link; never stored, never logged
    std::string hashHex;  // for the database
};

MintedToken mintOneTimeToken();
// The stored hash of a presented token; nullopt when it cannot be one (not 43 base64url
// characters): refused without a database round trip.
std::optional<std::string> oneTimeTokenHash(const std::string& token);

inline constexpr size_t kOneTimeTokenLength = 43;

}  // namespace authsvc::models
