#include "controllers/UserController.h"

#include "controllers/AuthController.h"
#include "controllers/ErrorMapper.h"

namespace authsvc::controllers {

HttpResponse UserController::protectedResource(const HttpRequest& /*req*/, const AuthContext& ctx) {
    return jsonResponse(200, {{"data", "This is a protected resource."}, {"sub", ctx.claims.sub}});
}

HttpResponse UserController::me(const HttpRequest& /*req*/, const AuthContext& ctx) {
    auto user = auth_.userForSubject(ctx.claims.sub);
    if (!user) return errorResponse(user.error());
    return jsonResponse(200, userJson(*user));
}

}  // namespace authsvc::controllers
