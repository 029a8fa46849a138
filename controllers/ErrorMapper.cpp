#include "controllers/ErrorMapper.h"

namespace authsvc::controllers {

using models::ErrorCode;

namespace {
constexpr const char* kRealm = "Bearer realm=\"authsvc\"";

// error_description is a quoted-string: keep it to printable ASCII without " and \.
std::string quotedSafe(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') out += c;
    }
    return out;
}
}  // namespace

int statusOf(ErrorCode code) {
    switch (code) {
        case ErrorCode::InvalidRequest:
        case ErrorCode::BearerMalformed:
            return 400;
        case ErrorCode::MissingToken:
        case ErrorCode::InvalidToken:
        case ErrorCode::InvalidCredentials:
        case ErrorCode::InvalidGrant:
            return 401;
        case ErrorCode::RegistrationClosed:
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
            return "invalid_grant";
        case ErrorCode::RegistrationClosed:
            return "registration_closed";
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
            r.header("WWW-Authenticate", kRealm);
            break;
        case ErrorCode::BearerMalformed:
            r.header("WWW-Authenticate", std::string(kRealm) + ", error=\"invalid_request\"");
            break;
        case ErrorCode::InvalidToken:
            r.header("WWW-Authenticate", std::string(kRealm) +
                                             ", error=\"invalid_token\", error_description=\"" +
                                             quotedSafe(error.message) + "\"");
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
