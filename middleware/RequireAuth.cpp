#include "middleware/RequireAuth.h"

namespace authsvc::middleware {

using models::ErrorCode;
using models::makeError;

models::Result<middleware::AuthContext> RequireAuth::authenticate(
    const std::optional<std::string>& authorization) const {
    verify::Verified v = verifier_.verifyAuthorization(
        authorization ? std::optional<std::string_view>(*authorization) : std::nullopt);
    if (v) return middleware::AuthContext{std::move(v.claims)};
    switch (v.error.code) {
        case verify::ErrorCode::MissingToken:
            return makeError(ErrorCode::MissingToken, std::move(v.error.description));
        case verify::ErrorCode::InvalidRequest:
            return makeError(ErrorCode::BearerMalformed, std::move(v.error.description));
        case verify::ErrorCode::InvalidToken:
        case verify::ErrorCode::InsufficientScope:  // not a verification outcome
            break;
    }
    return makeError(ErrorCode::InvalidToken, std::move(v.error.description));
}

std::optional<models::Error> missingRole(const middleware::AuthContext& ctx,
                                         const std::string& role) {
    if (role.empty() || ctx.claims().hasRole(role)) return std::nullopt;
    return makeError(ErrorCode::InsufficientScope,
                     "This resource requires the role '" + role + "'");
}

}  // namespace authsvc::middleware
