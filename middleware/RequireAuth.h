// RequireAuth: the Bearer check of RFC 6750 in front of protected routes. No header:
// 401 missing_token; not "Bearer <b64token>": 400 invalid_request; a token that fails
// verification: 401 invalid_token. Never touches the database. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "controllers/Http.h"
#include "models/Error.h"
#include "models/TokenService.h"

namespace authsvc::middleware {

// The token of "Bearer <token>" (scheme case-insensitive, RFC 6750 b64token syntax),
// or nullopt when the header has another shape. The view points into `header`.
std::optional<std::string_view> bearerToken(std::string_view header);
// The two halves of bearerToken(): what follows "Bearer " (non-empty), and the b64token
// syntax check.
std::optional<std::string_view> bearerCredentials(std::string_view header);
bool isB64Token(std::string_view token);

class RequireAuth {
  public:
    explicit RequireAuth(const models::TokenService& tokens) : tokens_(tokens) {}
    models::Result<controllers::AuthContext> authenticate(
        const std::optional<std::string>& authorization) const;

  private:
    const models::TokenService& tokens_;
};

}  // namespace authsvc::middleware
