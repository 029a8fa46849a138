#include "controllers/ErrorMapper.h"

#include "verify/Error.h"

namespace authsvc::controllers {

using models::ErrorCode;

namespace {
// The RFC 6750 challenge, written by the verify library as for any service that links it.
std::string bearerChallenge(verify::ErrorCode code, const std::string& description = "") {
    return verify::challenge(verify::Error{code, description}, "authsvc");
}
}  // namespace

int statusOf(ErrorCode code) {
    switch (code) {
        case ErrorCode::InvalidRequest:
        case ErrorCode::BearerMalformed:
        case ErrorCode::InvalidOneTimeToken:
            return 400;
        case ErrorCode::MissingToken:
        case ErrorCode::InvalidToken:
        case ErrorCode::InvalidCredentials:
        case ErrorCode::InvalidGrant:
            return 401;
        case ErrorCode::RegistrationClosed:
        case ErrorCode::InsufficientScope:
        case ErrorCode::EmailNotVerified:
            return 403;
        case ErrorCode::NotFound:
            return 404;
        case ErrorCode::MethodNotAllowed:
            return 405;
        case ErrorCode::EmailTaken:
            return 409;
        case ErrorCode::PayloadTooLarge:
            return 413;
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
        case ErrorCode::BearerMalformed:
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
        case ErrorCode::NotFound:
            return "not_found";
        case ErrorCode::MethodNotAllowed:
            return "method_not_allowed";
        case ErrorCode::EmailTaken:
            return "email_taken";
        case ErrorCode::PayloadTooLarge:
            return "payload_too_large";
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
    HttpResponse r = jsonResponse(
        statusOf(error.code), {{"error", errorCodeName(error.code)}, {"message", error.message}});
    switch (error.code) {
        case ErrorCode::MissingToken:
            r.header("WWW-Authenticate", bearerChallenge(verify::ErrorCode::MissingToken));
            break;
        case ErrorCode::BearerMalformed:
            r.header("WWW-Authenticate", bearerChallenge(verify::ErrorCode::InvalidRequest));
            break;
        case ErrorCode::InvalidToken:
            r.header("WWW-Authenticate",
                     bearerChallenge(verify::ErrorCode::InvalidToken, error.message));
            break;
        case ErrorCode::InsufficientScope:
            r.header("WWW-Authenticate", bearerChallenge(verify::ErrorCode::InsufficientScope));
            break;
        case ErrorCode::TooManyRequests:
        case ErrorCode::Unavailable:
            r.header("Retry-After", std::to_string(std::max(1, error.retryAfterSeconds)));
            break;
        default:
            break;
    }
    return r;
}

}  // namespace authsvc::controllers
