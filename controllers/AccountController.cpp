#include "controllers/AccountController.h"

#include "controllers/ErrorMapper.h"
#include "controllers/JsonBody.h"
#include "common/JsonText.h"

namespace authsvc::controllers {

namespace {

HttpResponse noContent() {
    HttpResponse r;
    r.status = 204;
    return r;
}

nlohmann::json nullable(const std::optional<std::string>& s) {
    return s ? nlohmann::json(*s) : nlohmann::json(nullptr);
}

nlohmann::json sessionJson(const models::Session& s) {
    const auto& r = s.record;
    return {{"id", r.familyId},
            {"created_at", models::rfc3339Utc(r.createdMs / 1000)},
            {"last_used_at", models::rfc3339Utc(r.lastUsedMs / 1000)},
            {"expires_at", models::rfc3339Utc(r.expiresMs / 1000)},
            {"user_agent", nullable(r.userAgent)},
            {"ip", nullable(r.ip)},
            {"current", s.current}};
}

}  // namespace

HttpResponse AccountController::throttled(
    const HttpRequest& req, const models::User& user,
    const std::function<models::Result<models::Unit>()>& check) {
    if (auto wait = throttle_.retryAfter(req.clientIp, user.email)) {
        onThrottled_();
        return errorResponse(models::tooManyFailedLogins(*wait));
    }
    auto done = check();
    if (!done) {
        if (done.error().code == models::ErrorCode::InvalidCredentials) {
            throttle_.recordFailure(req.clientIp, user.email);
        }
        return errorResponse(done.error());
    }
    return noContent();
}

HttpResponse AccountController::changePassword(const HttpRequest& req, const AuthContext& ctx) {
    auto body = parseObject(req.body);
    if (!body) return errorResponse(body.error());
    auto current = requiredString(*body, {"current_password"});
    if (!current) return errorResponse(current.error());
    auto next = requiredString(*body, {"new_password"});
    if (!next) return errorResponse(next.error());
    auto user = auth_.userForSubject(ctx.claims().sub);
    if (!user) return errorResponse(user.error());
    return throttled(req, *user, [&] {
        return accounts_.changePassword(user->id, ctx.claims().sid, *current, *next);
    });
}

HttpResponse AccountController::deleteAccount(const HttpRequest& req, const AuthContext& ctx) {
    auto body = parseObject(req.body);
    if (!body) return errorResponse(body.error());
    auto password = requiredString(*body, {"password"});
    if (!password) return errorResponse(password.error());
    auto user = auth_.userForSubject(ctx.claims().sub);
    if (!user) return errorResponse(user.error());
    return throttled(req, *user, [&] { return accounts_.deleteAccount(user->id, *password); });
}

HttpResponse AccountController::sessions(const HttpRequest& /*req*/, const AuthContext& ctx) {
    auto user = auth_.userForSubject(ctx.claims().sub);
    if (!user) return errorResponse(user.error());
    auto items = nlohmann::json::array();
    for (const auto& s : accounts_.sessions(user->id, ctx.claims().sid)) {
        items.push_back(sessionJson(s));
    }
    HttpResponse r;
    // A User-Agent stored before it was sanitised is shown with U+FFFD, never a 500.
    r.body = nlohmann::json{{"sessions", std::move(items)}}.dump(
        -1, ' ', false, nlohmann::json::error_handler_t::replace);
    return r;
}

HttpResponse AccountController::revokeSession(const HttpRequest& req, const AuthContext& ctx) {
    auto user = auth_.userForSubject(ctx.claims().sub);
    if (!user) return errorResponse(user.error());
    auto done = accounts_.revokeSession(user->id, req.pathParam);
    if (!done) return errorResponse(done.error());
    return noContent();
}

}  // namespace authsvc::controllers
