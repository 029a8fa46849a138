// AccessClaims: what a verified access token says (TokenService, VerifiedTokenCache).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace authsvc::verify {

struct AccessClaims {
    std::string sub;
    std::string sid;  // refresh family id; empty when the token has none
    std::string jti;
    int64_t iat = 0;
    int64_t exp = 0;
    // The `roles` claim (a JSON array of strings; absent means none), as the token lists
    // them. They are the user's roles when the token was issued (login or refresh).
    std::vector<std::string> roles;

    bool hasRole(std::string_view role) const {
        return std::find(roles.begin(), roles.end(), role) != roles.end();
    }
};

}  // namespace authsvc::verify
