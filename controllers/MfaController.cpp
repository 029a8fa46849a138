#include "controllers/MfaController.h"

#include "controllers/AuthController.h"
#include "controllers/ErrorMapper.h"
#include "controllers/JsonBody.h"

namespace authsvc::controllers {

namespace {
HttpResponse recoveryCodesResponse(const std::vector<std::string>& codes) {
    HttpResponse r = jsonResponse(200, {{"recovery_codes", codes}});
    r.header("Cache-Control", "no-store");
    return r;
}
}  // namespace

models::Result<MfaController::SignedIn> MfaController::signedIn(
    const HttpRequest& req, const AuthContext& ctx, std::initializer_list<const char*> names) {
    auto body = parseObject(req.body);
    if (!body) return body.error();
    SignedIn in;
    for (const char* name : names) {
        auto value = requiredString(*body, {name});
        if (!value) return value.error();
        in.fields.push_back(std::move(*value));
    }
    auto user = auth_.userForSubject(ctx.claims().sub);
    if (!user) return user.error();
    if (auto wait = throttle_.retryAfter(req.clientIp, user->email)) {
        onThrottled_();
        return models::tooManyFailedLogins(*wait);
    }
    in.user = std::move(*user);
    return in;
}

HttpResponse MfaController::failed(const HttpRequest& req, const std::string& email,
                                   const models::Error& e) {
    if (e.code == models::ErrorCode::InvalidCredentials ||
        e.code == models::ErrorCode::InvalidCode) {
        throttle_.recordFailure(req.clientIp, email);
    }
    return errorResponse(e);
}

HttpResponse MfaController::enrol(const HttpRequest& req, const AuthContext& ctx) {
    auto in = signedIn(req, ctx, {"password"});
    if (!in) return errorResponse(in.error());
    auto enrolment = mfa_.enrol(in->user.id, in->fields[0]);
    if (!enrolment) return failed(req, in->user.email, enrolment.error());
    HttpResponse r =
        jsonResponse(200, {{"secret", enrolment->secret}, {"otpauth_uri", enrolment->otpauthUri}});
    r.header("Cache-Control", "no-store");
    return r;
}

HttpResponse MfaController::confirm(const HttpRequest& req, const AuthContext& ctx) {
    auto in = signedIn(req, ctx, {"code"});
    if (!in) return errorResponse(in.error());
    auto codes = mfa_.confirm(in->user.id, in->fields[0]);
    if (!codes) return failed(req, in->user.email, codes.error());
    return recoveryCodesResponse(*codes);
}

HttpResponse MfaController::disable(const HttpRequest& req, const AuthContext& ctx) {
    auto in = signedIn(req, ctx, {"password", "code"});
    if (!in) return errorResponse(in.error());
    auto done = mfa_.disable(in->user.id, in->fields[0], in->fields[1]);
    if (!done) return failed(req, in->user.email, done.error());
    HttpResponse r;
    r.status = 204;
    return r;
}

HttpResponse MfaController::recoveryCodes(const HttpRequest& req, const AuthContext& ctx) {
    auto in = signedIn(req, ctx, {"code"});
    if (!in) return errorResponse(in.error());
    auto codes = mfa_.newRecoveryCodes(in->user.id, in->fields[0]);
    if (!codes) return failed(req, in->user.email, codes.error());
    return recoveryCodesResponse(*codes);
}

HttpResponse MfaController::loginSecondStep(const HttpRequest& req) {
    auto body = parseObject(req.body);
    if (!body) return errorResponse(body.error());
    auto token = requiredString(*body, {"mfa_token"});
    if (!token) return errorResponse(token.error());
    const bool recovery = body->contains("recovery_code") && !body->contains("code");
    auto code = requiredString(*body, {recovery ? "recovery_code" : "code"});
    if (!code) return errorResponse(code.error());
    auto pending = mfa_.pending(*token);
    if (!pending) return errorResponse(pending.error());
    if (auto wait = throttle_.retryAfter(req.clientIp, pending->email)) {
        onThrottled_();
        return errorResponse(models::tooManyFailedLogins(*wait));
    }
    auto pair = mfa_.completeLogin(*token, {*code, recovery}, {req.userAgent, req.clientIp});
    if (!pair) return failed(req, pending->email, pair.error());
    return tokenResponse(*pair);
}

}  // namespace authsvc::controllers
