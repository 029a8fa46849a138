#include "controllers/RecoveryController.h"

#include "controllers/ErrorMapper.h"
#include "controllers/JsonBody.h"

namespace authsvc::controllers {

HttpResponse RecoveryController::forgot(const HttpRequest& req) {
    auto body = parseObject(req.body);
    if (!body) return errorResponse(body.error());
    auto email = requiredString(*body, {"email"});
    if (!email) return errorResponse(email.error());
    (void)recovery_.requestReset(*email, req.clientIp);
    HttpResponse r;
    r.status = 202;
    r.body = "{}";
    return r;
}

HttpResponse RecoveryController::reset(const HttpRequest& req) {
    auto body = parseObject(req.body);
    if (!body) return errorResponse(body.error());
    auto token = requiredString(*body, {"token"});
    if (!token) return errorResponse(token.error());
    auto password = requiredString(*body, {"new_password"});
    if (!password) return errorResponse(password.error());
    auto done = recovery_.reset(*token, *password);
    if (!done) return errorResponse(done.error());
    HttpResponse r;
    r.status = 204;
    return r;
}

}  // namespace authsvc::controllers
