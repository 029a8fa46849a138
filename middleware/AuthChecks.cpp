#include "middleware/AuthChecks.h"

namespace authsvc::middleware {

namespace {
// A check after RequireBearer that finds no AuthContext: the route table is wrong.
models::Error withoutBearer() {
    return models::makeError(models::ErrorCode::Internal, "A role check without a Bearer check");
}
}  // namespace

std::optional<Refusal> RequireBearer::admit(const HttpRequest& req, Admitted& admitted) const {
    auto ctx = auth_.authenticate(req.authorization);
    if (!ctx) return ctx.error();
    admitted.auth = std::move(ctx.value());
    return std::nullopt;
}

std::optional<Refusal> RequireRole::admit(const HttpRequest& /*req*/, Admitted& admitted) const {
    if (!admitted.auth) return withoutBearer();
    return missingRole(*admitted.auth, role_);
}

std::optional<Refusal> LiveSession::admit(const HttpRequest& /*req*/, Admitted& admitted) const {
    if (!admitted.auth) return withoutBearer();
    auto roles = sessions_.liveSessionRoles(admitted.auth->claims());
    if (!roles) return roles.error();
    // The role rule of the token check, over the roles as they are now.
    verify::AccessClaims now = admitted.auth->claims();
    now.roles = std::move(*roles);
    return missingRole(AuthContext(std::move(now)), role_);
}

}  // namespace authsvc::middleware
