#include "verify/Error.h"

namespace authsvc::verify {

int httpStatus(ErrorCode code) {
    switch (code) {
        case ErrorCode::InvalidRequest:
            return 400;
        case ErrorCode::InsufficientScope:
            return 403;
        case ErrorCode::MissingToken:
        case ErrorCode::InvalidToken:
            break;
    }
    return 401;
}

const char* rfc6750Code(ErrorCode code) {
    switch (code) {
        case ErrorCode::MissingToken:
            return "";
        case ErrorCode::InvalidRequest:
            return "invalid_request";
        case ErrorCode::InvalidToken:
            return "invalid_token";
        case ErrorCode::InsufficientScope:
            return "insufficient_scope";
    }
    return "invalid_token";
}

std::string challenge(const Error& error, const std::string& realm) {
    auto quotedSafe = [](const std::string& s) {
        std::string out;
        for (char c : s) {
            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') out += c;
        }
        return out;
    };
    std::string out = "Bearer realm=\"" + quotedSafe(realm) + "\"";
    if (error.code == ErrorCode::MissingToken) return out;
    out += ", error=\"";
    out += rfc6750Code(error.code);
    out += "\"";
    if (!error.description.empty()) {
        out += ", error_description=\"" + quotedSafe(error.description) + "\"";
    }
    return out;
}

}  // namespace authsvc::verify
