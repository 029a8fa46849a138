#include "controllers/UserController.h"

#include "controllers/AuthController.h"
#include "controllers/ErrorMapper.h"
#include "common/JsonText.h"

namespace authsvc::controllers {

// The hottest route: the body is written directly (byte for byte what nlohmann's dump of
// {"data": ..., "sub": ...} gives) instead of building a JSON object, a std::map, per call.
HttpResponse UserController::protectedResource(const HttpRequest& /*req*/, const AuthContext& ctx) {
    HttpResponse r;
    r.body.reserve(64 + ctx.claims().sub.size());
    r.body.append(R"({"data":"This is a protected resource.","sub":)");
    models::appendJsonString(r.body, ctx.claims().sub);
    r.body.push_back('}');
    return r;
}

HttpResponse UserController::me(const HttpRequest& /*req*/, const AuthContext& ctx) {
    auto user = auth_.userForSubject(ctx.claims().sub);
    if (!user) return errorResponse(user.error());
    nlohmann::json body = userJson(*user);
    body["email_verified"] = user->emailVerified;
    return jsonResponse(200, body);
}

}  // namespace authsvc::controllers
