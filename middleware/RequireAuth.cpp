#include "middleware/RequireAuth.h"

namespace authsvc::middleware {

using models::ErrorCode;
using models::makeError;

namespace {
// A refusal of the verify library as the service's Error: its reason is kept (the
// challenge and the metric come from it), its RFC 6750 class gives the code.
models::Error refusal(verify::Reason reason) {
    ErrorCode code = ErrorCode::InvalidToken;
    switch (verify::errorCodeOf(reason)) {
        case verify::ErrorCode::MissingToken:
            code = ErrorCode::MissingToken;
            break;
        case verify::ErrorCode::InvalidRequest:
            code = ErrorCode::InvalidRequest;  // the challenge comes from the reason
            break;
        case verify::ErrorCode::InvalidToken:
        case verify::ErrorCode::InsufficientScope:  // not a verification outcome
            break;
    }
    models::Error error = makeError(code, verify::reasonText(reason));
    error.tokenRefused = reason;
    return error;
}
}  // namespace

models::Result<middleware::AuthContext> RequireAuth::authenticate(
    const std::optional<std::string>& authorization) const {
    verify::Verified v = verifier_.verifyAuthorization(
        authorization ? std::optional<std::string_view>(*authorization) : std::nullopt);
    if (v) return middleware::AuthContext{std::move(v.claims)};
    if (onRefused_) onRefused_(v.reason);
    return refusal(v.reason);
}

std::optional<models::Error> missingRole(const middleware::AuthContext& ctx,
                                         const std::string& role) {
    if (role.empty() || ctx.claims().hasRole(role)) return std::nullopt;
    return makeError(ErrorCode::InsufficientScope,
                     "This resource requires the role '" + role + "'");
}

}  // namespace authsvc::middleware
