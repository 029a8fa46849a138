#include "controllers/AuthController.h"

#include "common/JsonText.h"
#include "common/Validation.h"
#include "controllers/ErrorMapper.h"
#include "controllers/JsonBody.h"

namespace authsvc::controllers {

namespace {
// RFC 6749 5.1: token responses must not be cached.
HttpResponse& noStore(HttpResponse& r) {
    return r.header("Cache-Control", "no-store").header("Pragma", "no-cache");
}
}  // namespace

nlohmann::json userJson(const models::User& user) {
    return {
        {"id", user.id}, {"email", user.email}, {"created_at", models::rfc3339Utc(user.createdAt)}};
}

// Written directly, in the bytes (and key order) nlohmann would dump for the same object,
// without building a json object for every login and refresh.
HttpResponse tokenResponse(const models::TokenPair& pair) {
    HttpResponse r;
    r.body.reserve(2 * pair.accessToken.size() + pair.refreshToken.size() + 128);
    r.body.append(R"({"access_token":)");
    models::appendJsonString(r.body, pair.accessToken);
    r.body.append(R"(,"expires_in":)").append(std::to_string(pair.expiresIn));
    if (!pair.refreshToken.empty()) {
        r.body.append(R"(,"refresh_expires_in":)").append(std::to_string(pair.refreshExpiresIn));
        r.body.append(R"(,"refresh_token":)");
        models::appendJsonString(r.body, pair.refreshToken);
    }
    // The seed's clients read the access token as "token".
    r.body.append(R"(,"token":)");
    models::appendJsonString(r.body, pair.accessToken);
    r.body.append(R"(,"token_type":"Bearer"})");
    return noStore(r);
}

HttpResponse AuthController::registerUser(const HttpRequest& req) {
    auto body = parseObject(req.body);
    if (!body) return errorResponse(body.error());
    auto email = requiredString(*body, {"email"});
    if (!email) return errorResponse(email.error());
    auto password = requiredString(*body, {"password"});
    if (!password) return errorResponse(password.error());
    // Before any hashing: a flood of registrations must not take the hashing pool.
    if (auto wait = registrations_.acquire(req.clientIp)) {
        onThrottled_(Throttled::Registration);
        return errorResponse(models::makeError(models::ErrorCode::TooManyRequests,
                                               "Too many registrations from this address; try "
                                               "again later",
                                               *wait));
    }
    auto user = auth_.registerUser(*email, *password);
    if (!user) return errorResponse(user.error());
    return jsonResponse(201, userJson(*user));
}

HttpResponse AuthController::login(const HttpRequest& req) {
    auto body = parseObject(req.body);
    if (!body) return errorResponse(body.error());
    auto email = requiredString(*body, {"email", "username"});
    if (!email) return errorResponse(email.error());
    auto password = requiredString(*body, {"password"});
    if (!password) return errorResponse(password.error());
    auto pair = passwordLogin(req, *email, *password);
    if (!pair) return errorResponse(pair.error());
    return tokenResponse(*pair);
}

models::Result<models::TokenPair> AuthController::passwordLogin(const HttpRequest& req,
                                                                const std::string& email,
                                                                const std::string& password) {
    const std::string account = models::normalizeEmail(email);
    // No account has a longer email (registration refuses it): refused before it becomes a
    // throttle key, so that keys stay small.
    if (auto why = models::emailLengthProblem(account)) {
        return models::makeError(models::ErrorCode::InvalidRequest,
                                 "Invalid field 'email': " + *why);
    }
    if (auto wait = throttle_.retryAfter(req.clientIp, account)) {
        onThrottled_(Throttled::Login);
        return models::tooManyFailedLogins(*wait);
    }
    auto pair = auth_.login(email, password, {req.userAgent, req.clientIp});
    if (!pair && pair.error().code == models::ErrorCode::InvalidCredentials) {
        throttle_.recordFailure(req.clientIp, account);
    }
    return pair;
}

namespace {
HttpResponse refreshResponse(const models::Result<models::TokenPair>& pair) {
    if (!pair) {
        HttpResponse r = errorResponse(pair.error());
        return noStore(r);
    }
    return tokenResponse(*pair);
}
}  // namespace

HttpResponse AuthController::refresh(const HttpRequest& req) {
    auto body = parseObject(req.body);
    if (!body) return errorResponse(body.error());
    auto token = requiredString(*body, {"refresh_token", "token"});
    if (!token) return errorResponse(token.error());
    return refreshResponse(auth_.refresh(*token));
}

void AuthController::refreshLater(const HttpRequest& req, Respond respond) {
    auto body = parseObject(req.body);
    if (!body) return respond(nullptr, errorResponse(body.error()));
    auto token = requiredString(*body, {"refresh_token", "token"});
    if (!token) return respond(nullptr, errorResponse(token.error()));
    auth_.refreshLater(*token, [respond = std::move(respond)](
                                   std::exception_ptr error,
                                   std::optional<models::Result<models::TokenPair>> pair) {
        if (error) return respond(error, {});
        HttpResponse r;
        try {
            r = refreshResponse(*pair);
        } catch (...) {
            return respond(std::current_exception(), {});
        }
        respond(nullptr, std::move(r));
    });
}

HttpResponse AuthController::logout(const HttpRequest& req) {
    auto body = parseObject(req.body);
    if (!body) return errorResponse(body.error());
    auto token = requiredString(*body, {"refresh_token", "token"});
    if (!token) return errorResponse(token.error());
    auth_.logout(*token);
    HttpResponse r;
    r.status = 204;
    return r;
}

HttpResponse AuthController::logoutAll(const HttpRequest& /*req*/, const AuthContext& ctx) {
    auto user = auth_.userForSubject(ctx.claims().sub);
    if (!user) return errorResponse(user.error());
    auth_.logoutAll(user->id);
    HttpResponse r;
    r.status = 204;
    return r;
}

}  // namespace authsvc::controllers
