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
            break;
    }
    return makeError(ErrorCode::InvalidToken, std::move(v.error.description));
}

}  // namespace authsvc::middleware
