#include "controllers/ErrorMapper.h"

#include "verify/Error.h"

namespace authsvc::controllers {

using models::ErrorCode;

namespace {
constexpr const char* kRealm = "authsvc";

// The RFC 6750 challenge, written by the verify library as for any service that links it:
// from the library's reason when it refused the token; otherwise (a service's refusal: a
// user gone, a role missing) from the code.
std::optional<std::string> bearerChallenge(const models::Error& error) {
    if (error.tokenRefused) return verify::challenge(*error.tokenRefused, kRealm);
    switch (error.code) {
        case ErrorCode::MissingToken:
            return verify::challenge(verify::Reason::MissingToken, kRealm);
        case ErrorCode::InvalidToken:
            return verify::challenge(verify::Error{verify::ErrorCode::InvalidToken, error.message},
                                     kRealm);
        case ErrorCode::InsufficientScope:
            return verify::challenge(verify::Error{verify::ErrorCode::InsufficientScope, ""},
                                     kRealm);
        default:
            return std::nullopt;
    }
}
}  // namespace

int statusOf(ErrorCode code) {
    switch (code) {
        case ErrorCode::InvalidRequest:
        case ErrorCode::InvalidOneTimeToken:
            return 400;
        case ErrorCode::MissingToken:
        case ErrorCode::InvalidToken:
        case ErrorCode::InvalidCredentials:
        case ErrorCode::InvalidGrant:
        case ErrorCode::InvalidCode:
            return 401;
        case ErrorCode::RegistrationClosed:
        case ErrorCode::InsufficientScope:
        case ErrorCode::EmailNotVerified:
        case ErrorCode::MfaRequired:
            return 403;
        case ErrorCode::NotFound:
            return 404;
        case ErrorCode::EmailTaken:
            return 409;
        case ErrorCode::UnsupportedMediaType:
            return 415;
        case ErrorCode::TooManyRequests:
            return 429;
        case ErrorCode::Internal:
            return 500;
        case ErrorCode::Unavailable:
            return 503;
    }
    return 500;
}

const char* errorCodeName(ErrorCode code) {
    switch (code) {
        case ErrorCode::InvalidRequest:
            return "invalid_request";
        case ErrorCode::MissingToken:
            return "missing_token";
        case ErrorCode::InvalidToken:
            return "invalid_token";
        case ErrorCode::InvalidCredentials:
            return "invalid_credentials";
        case ErrorCode::InvalidGrant:
        case ErrorCode::InvalidOneTimeToken:
            return "invalid_grant";
        case ErrorCode::RegistrationClosed:
            return "registration_closed";
        case ErrorCode::InsufficientScope:
            return "insufficient_scope";
        case ErrorCode::EmailNotVerified:
            return "email_not_verified";
        case ErrorCode::MfaRequired:
            return "mfa_required";
        case ErrorCode::InvalidCode:
            return "invalid_code";
        case ErrorCode::NotFound:
            return "not_found";
        case ErrorCode::EmailTaken:
            return "email_taken";
        case ErrorCode::UnsupportedMediaType:
            return "unsupported_media_type";
        case ErrorCode::TooManyRequests:
            return "too_many_requests";
        case ErrorCode::Internal:
            return "internal_error";
        case ErrorCode::Unavailable:
            return "unavailable";
    }
    return "internal_error";
}

HttpResponse jsonResponse(int status, const nlohmann::json& body) {
    HttpResponse r;
    r.status = status;
    r.body = body.dump();
    return r;
}

HttpResponse errorResponse(const models::Error& error) {
    nlohmann::json body{{"error", errorCodeName(error.code)}, {"message", error.message}};
    if (error.code == ErrorCode::MfaRequired) {
        body["mfa_token"] = error.mfaToken;
        body["expires_in"] = error.mfaExpiresIn;
    }
    HttpResponse r = jsonResponse(statusOf(error.code), body);
    if (error.code == ErrorCode::MfaRequired) r.header("Cache-Control", "no-store");
    if (auto challenge = bearerChallenge(error)) r.header("WWW-Authenticate", *challenge);
    switch (error.code) {
        case ErrorCode::TooManyRequests:
        case ErrorCode::Unavailable:
            r.header("Retry-After", std::to_string(std::max(1, error.retryAfterSeconds)));
            break;
        default:
            break;
    }
    return r;
}

namespace {
struct HttpErrorName {
    int status;
    const char* name;
};
HttpErrorName httpErrorNameOf(HttpErrorCode code) {
    switch (code) {
        case HttpErrorCode::MethodNotAllowed:
            return {405, "method_not_allowed"};
        case HttpErrorCode::PayloadTooLarge:
            break;
    }
    return {413, "payload_too_large"};
}
}  // namespace

HttpResponse errorResponse(const HttpError& error) {
    const HttpErrorName n = httpErrorNameOf(error.code);
    return jsonResponse(n.status, {{"error", n.name}, {"message", error.message}});
}

HttpResponse errorResponse(const Refusal& refusal) {
    return std::visit([](const auto& error) { return errorResponse(error); }, refusal);
}

HttpResponse oauthErrorResponse(int status, const char* error, const std::string& description) {
    HttpResponse r = jsonResponse(
        status, {{"error", error}, {"error_description", description}, {"message", description}});
    r.header("Cache-Control", "no-store").header("Pragma", "no-cache");
    return r;
}

HttpResponse oauthErrorResponse(const Refusal& refusal) {
    if (const auto* error = std::get_if<models::Error>(&refusal)) return oauthErrorResponse(*error);
    const HttpError& error = std::get<HttpError>(refusal);
    const HttpErrorName n = httpErrorNameOf(error.code);
    return oauthErrorResponse(n.status, n.name, error.message);
}

HttpResponse oauthErrorResponse(const models::Error& error) {
    switch (error.code) {
        case ErrorCode::InvalidRequest:
        case ErrorCode::UnsupportedMediaType:
            return oauthErrorResponse(400, "invalid_request", error.message);
        case ErrorCode::InvalidCredentials:
        case ErrorCode::InvalidGrant:
        case ErrorCode::InvalidToken:
        case ErrorCode::InvalidOneTimeToken:
            return oauthErrorResponse(400, "invalid_grant", error.message);
        default:
            break;
    }
    if (error.code == ErrorCode::MfaRequired) {  // finished at POST /api/login/mfa
        HttpResponse r = jsonResponse(403, {{"error", errorCodeName(error.code)},
                                            {"error_description", error.message},
                                            {"message", error.message},
                                            {"mfa_token", error.mfaToken},
                                            {"expires_in", error.mfaExpiresIn}});
        r.header("Cache-Control", "no-store").header("Pragma", "no-cache");
        return r;
    }
    HttpResponse r =
        oauthErrorResponse(statusOf(error.code), errorCodeName(error.code), error.message);
    if (error.code == ErrorCode::TooManyRequests || error.code == ErrorCode::Unavailable) {
        r.header("Retry-After", std::to_string(std::max(1, error.retryAfterSeconds)));
    }
    return r;
}

}  // namespace authsvc::controllers
