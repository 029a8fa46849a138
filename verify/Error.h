// Why a presented access token was refused, in RFC 6750 terms: any HTTP framework turns
// it into a status (httpStatus) and a WWW-Authenticate challenge (challenge). Plain
// values; safe to copy between threads.
#pragma once

#include <string>

namespace authsvc::verify {

enum class ErrorCode {
    MissingToken,    // no Authorization header: 401, challenge without an error code (§3.1)
    InvalidRequest,  // not "Bearer <b64token>": 400 invalid_request
    InvalidToken,    // malformed, bad signature, unknown key, expired, wrong iss/aud: 401
    // A valid token without what the resource requires (a role): 403 (§3.1). Verifier
    // never returns it; a service's authorization check does.
    InsufficientScope,
};

struct Error {
    ErrorCode code = ErrorCode::InvalidToken;
    std::string description;  // for error_description; never contains token material
};

// 400 for InvalidRequest, 403 for InsufficientScope, 401 otherwise.
int httpStatus(ErrorCode code);
// "invalid_request", "invalid_token", "insufficient_scope", or "" for MissingToken.
const char* rfc6750Code(ErrorCode code);
// The WWW-Authenticate value, e.g. Bearer realm="api", error="invalid_token",
// error_description="Access token has expired" (description reduced to printable ASCII
// without quotes and backslashes).
std::string challenge(const Error& error, const std::string& realm);

}  // namespace authsvc::verify
