#include "verify/Error.h"

#include <array>

namespace authsvc::verify {
namespace {

struct ReasonRow {
    Reason reason;
    const char* name;
    ErrorCode code;
    const char* text;
};

// The one table of refusals. The texts are what the Bearer answers have always said: an
// answer does not change when a reason gets a name of its own.
constexpr std::array<ReasonRow, kReasonCount> kReasons = {{
    {Reason::MissingToken, "missing_token", ErrorCode::MissingToken, "Missing access token"},
    {Reason::NotBearer, "not_bearer", ErrorCode::InvalidRequest,
     "The Authorization header must be 'Bearer <token>'"},
    {Reason::TooLarge, "too_large", ErrorCode::InvalidToken, "Malformed token"},
    {Reason::Malformed, "malformed", ErrorCode::InvalidToken, "Malformed token"},
    {Reason::RepeatedMember, "repeated_member", ErrorCode::InvalidToken, "Malformed token"},
    {Reason::Crit, "crit", ErrorCode::InvalidToken, "Unsupported critical header parameter"},
    {Reason::Typ, "typ", ErrorCode::InvalidToken, "Unexpected token type"},
    {Reason::UnknownKid, "unknown_kid", ErrorCode::InvalidToken, "Unknown signing key"},
    {Reason::AlgorithmNotKeys, "alg_not_key", ErrorCode::InvalidToken, "Unexpected algorithm"},
    {Reason::NoSharedSecret, "no_shared_secret", ErrorCode::InvalidToken, "Unexpected algorithm"},
    {Reason::BadSignature, "bad_signature", ErrorCode::InvalidToken, "Bad signature"},
    {Reason::Issuer, "issuer", ErrorCode::InvalidToken, "Unexpected issuer"},
    {Reason::Audience, "audience", ErrorCode::InvalidToken, "Unexpected audience"},
    {Reason::MissingExp, "missing_exp", ErrorCode::InvalidToken, "Missing or malformed exp"},
    {Reason::Expired, "expired", ErrorCode::InvalidToken, "Access token has expired"},
    {Reason::NotYetValid, "not_yet_valid", ErrorCode::InvalidToken, "Token is not yet valid"},
    {Reason::IssuedInFuture, "iat_in_future", ErrorCode::InvalidToken, "Token is not yet valid"},
    {Reason::MissingSubject, "missing_sub", ErrorCode::InvalidToken, "Missing subject"},
    {Reason::BadRoles, "bad_roles", ErrorCode::InvalidToken, "Malformed roles claim"},
}};

constexpr bool rowsInEnumOrder() {
    for (size_t i = 0; i < kReasons.size(); ++i) {
        if (size_t(kReasons[i].reason) != i) return false;
    }
    return true;
}
static_assert(rowsInEnumOrder(), "kReasons lists every Reason once, in the enum's order");

const ReasonRow* rowOf(Reason reason) {
    const auto i = size_t(reason);
    return i < kReasons.size() ? &kReasons[i] : nullptr;
}

std::string quotedSafe(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') out += c;
    }
    return out;
}

}  // namespace

const char* reasonName(Reason reason) {
    const ReasonRow* row = rowOf(reason);
    return row ? row->name : "unknown";
}

const char* reasonText(Reason reason) {
    const ReasonRow* row = rowOf(reason);
    return row ? row->text : "Invalid token";
}

ErrorCode errorCodeOf(Reason reason) {
    const ReasonRow* row = rowOf(reason);
    return row ? row->code : ErrorCode::InvalidToken;
}

int httpStatus(Reason reason) {
    return httpStatus(errorCodeOf(reason));
}

std::string challenge(Reason reason, const std::string& realm) {
    const ErrorCode code = errorCodeOf(reason);
    // Only invalid_token says why: the 400's text is for the body of the answer.
    return challenge(Error{code, code == ErrorCode::InvalidToken ? reasonText(reason) : ""}, realm);
}

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
