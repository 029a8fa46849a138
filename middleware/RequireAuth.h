// RequireAuth: the Bearer check of RFC 6750 in front of protected routes, through the
// verify library's Verifier (the same path other services link). No header:
// 401 missing_token; not "Bearer <b64token>": 400 invalid_request; a token that fails
// verification: 401 invalid_token; then a route's required role (missingRole):
// 403 insufficient_scope. A refusal keeps the verify library's Reason (Error::tokenRefused),
// which the answer's challenge is written from. Never touches the database. Thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "common/Error.h"
#include "controllers/HttpTypes.h"
#include "verify/Verifier.h"

namespace authsvc::middleware {

using controllers::AuthContext;

class RequireAuth {
  public:
    // `onRefused` (may be empty) is told the reason of every refusal, on the calling
    // thread (e.g. to count it); it must not throw.
    explicit RequireAuth(const verify::Verifier& verifier,
                         std::function<void(verify::Reason)> onRefused = {})
        : verifier_(verifier), onRefused_(std::move(onRefused)) {}
    models::Result<middleware::AuthContext> authenticate(
        const std::optional<std::string>& authorization) const;

  private:
    const verify::Verifier& verifier_;
    std::function<void(verify::Reason)> onRefused_;
};

// The role check of a Bearer route, after authenticate(): nullopt when `role` is empty or
// the token's roles list it, else InsufficientScope (403 with error="insufficient_scope").
std::optional<models::Error> missingRole(const middleware::AuthContext& ctx,
                                         const std::string& role);

}  // namespace authsvc::middleware
