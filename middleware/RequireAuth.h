// RequireAuth: the Bearer check of RFC 6750 in front of protected routes, through the
// verify library's Verifier (the same path other services link). No header:
// 401 missing_token; not "Bearer <b64token>": 400 invalid_request; a token that fails
// verification: 401 invalid_token; then a route's required role (missingRole):
// 403 insufficient_scope. Never touches the database. Thread-safe.
#pragma once

#include <optional>
#include <string>

#include "common/Error.h"
#include "controllers/HttpTypes.h"
#include "verify/Verifier.h"

namespace authsvc::middleware {

using controllers::AuthContext;

class RequireAuth {
  public:
    explicit RequireAuth(const verify::Verifier& verifier) : verifier_(verifier) {}
    models::Result<middleware::AuthContext> authenticate(
        const std::optional<std::string>& authorization) const;

  private:
    const verify::Verifier& verifier_;
};

// The role check of a Bearer route, after authenticate(): nullopt when `role` is empty or
// the token's roles list it, else InsufficientScope (403 with error="insufficient_scope").
std::optional<models::Error> missingRole(const middleware::AuthContext& ctx,
                                         const std::string& role);

}  // namespace authsvc::middleware
