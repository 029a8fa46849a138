// AccessClaims: what a verified access token says (TokenService, VerifiedTokenCache).
#pragma once

#include <cstdint>
#include <string>

namespace authsvc::verify {

struct AccessClaims {
    std::string sub;
    std::string sid;  // refresh family id; empty when the token has none
    std::string jti;
    int64_t iat = 0;
    int64_t exp = 0;
};

}  // namespace authsvc::verify
