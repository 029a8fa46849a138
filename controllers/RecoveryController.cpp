#include "controllers/RecoveryController.h"

#include "controllers/ErrorMapper.h"
#include "controllers/JsonBody.h"

namespace authsvc::controllers {

namespace {

// A request naming an address: 202 {} whatever happens to it (a malformed body aside).
template <typename Queue>
HttpResponse addressedRequest(const HttpRequest& req, Queue&& queue) {
    auto body = parseObject(req.body);
    if (!body) return errorResponse(body.error());
    auto email = requiredString(*body, {"email"});
    if (!email) return errorResponse(email.error());
    (void)queue(*email, req.clientIp);
    HttpResponse r;
    r.status = 202;
    r.body = "{}";
    return r;
}

}  // namespace

HttpResponse RecoveryController::forgot(const HttpRequest& req) {
    return addressedRequest(req, [this](const std::string& email, const std::string& ip) {
        return recovery_.requestReset(email, ip);
    });
}

HttpResponse RecoveryController::resendVerification(const HttpRequest& req) {
    return addressedRequest(req, [this](const std::string& email, const std::string& ip) {
        return verification_.resend(email, ip);
    });
}

HttpResponse RecoveryController::verifyEmail(const HttpRequest& req) {
    auto body = parseObject(req.body);
    if (!body) return errorResponse(body.error());
    auto token = requiredString(*body, {"token"});
    if (!token) return errorResponse(token.error());
    auto done = verification_.verify(*token);
    if (!done) return errorResponse(done.error());
    return jsonResponse(200, {{"email_verified", true}});
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

HttpResponse RecoveryController::changeEmail(const HttpRequest& req, const AuthContext& ctx) {
    auto body = parseObject(req.body);
    if (!body) return errorResponse(body.error());
    auto email = requiredString(*body, {"new_email"});
    if (!email) return errorResponse(email.error());
    auto password = requiredString(*body, {"password"});
    if (!password) return errorResponse(password.error());
    auto user = auth_.userForSubject(ctx.claims().sub);
    if (!user) return errorResponse(user.error());
    if (auto wait = throttle_.retryAfter(req.clientIp, user->email)) {
        onThrottled_();
        return errorResponse(models::tooManyFailedLogins(*wait));
    }
    auto done = verification_.requestChange(user->id, *email, *password);
    if (!done) {
        if (done.error().code == models::ErrorCode::InvalidCredentials) {
            throttle_.recordFailure(req.clientIp, user->email);
        }
        return errorResponse(done.error());
    }
    HttpResponse r;
    r.status = 202;
    r.body = "{}";
    return r;
}

}  // namespace authsvc::controllers
