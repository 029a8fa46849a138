// Why a presented access token was refused. Every refusal of the Verifier has a Reason:
// one enum whose name (for metrics and logs), RFC 6750 class and text (the answer's
// error_description) live in one table (Error.cpp). Any HTTP framework turns a Reason
// into a status (httpStatus) and a WWW-Authenticate challenge (challenge). Plain values
// and pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace authsvc::verify {

// The RFC 6750 class of a refusal.
enum class ErrorCode {
    MissingToken,    // no Authorization header: 401, challenge without an error code (§3.1)
    InvalidRequest,  // not "Bearer <b64token>": 400 invalid_request
    InvalidToken,    // malformed, bad signature, unknown key, expired, wrong iss/aud: 401
    // A valid token without what the resource requires (a role): 403 (§3.1). Verifier
    // never returns it; a service's authorization check does.
    InsufficientScope,
};

// Why the Verifier refused a token, in the order its checks run. Reasons that share a
// text (e.g. the "Malformed token" ones) differ only in name: the answer says as little
// as before, the name tells an operator which rule refused.
enum class Reason : uint8_t {
    MissingToken,      // missing_token: no Authorization header
    NotBearer,         // not_bearer: the header is not "Bearer <b64token>" (400)
    TooLarge,          // too_large: an empty token or one over 8 KiB
    Malformed,         // malformed: not three base64url segments of JSON objects, no alg,
                       //   a kid that is not a string, a signature that is not base64url
    RepeatedMember,    // repeated_member: an object of the header or claims names a member twice
    Crit,              // crit: a crit header (no extension is understood)
    Typ,               // typ: a typ other than "JWT"
    UnknownKid,        // unknown_kid: no key has the token's kid (after a JWKS refetch, if any)
    AlgorithmNotKeys,  // alg_not_key: alg is not the algorithm of the key (none among them)
    NoSharedSecret,    // no_shared_secret: an HS256 token without kid, and no secret configured
    BadSignature,      // bad_signature
    Issuer,            // issuer: iss missing, not a string, or another issuer
    Audience,          // audience: aud does not contain the audience
    MissingExp,        // missing_exp: exp missing or not a positive integer
    Expired,           // expired: exp + leeway has passed
    NotYetValid,       // not_yet_valid: nbf - leeway still ahead, or nbf malformed
    IssuedInFuture,    // iat_in_future: iat - leeway still ahead, or iat malformed
    MissingSubject,    // missing_sub: sub missing, not a string, or empty
    BadRoles,          // bad_roles: roles present but not an array of strings
};
inline constexpr size_t kReasonCount = size_t(Reason::BadRoles) + 1;

// The stable snake_case name above (a metric label); "unknown" for a value out of range.
const char* reasonName(Reason reason);
// The text an answer carries (error_description, the message of an error body), e.g.
// "Access token has expired". Never contains token material.
const char* reasonText(Reason reason);
// MissingToken, InvalidRequest (NotBearer) or InvalidToken (every other reason).
ErrorCode errorCodeOf(Reason reason);
// 400 for NotBearer, 401 otherwise.
int httpStatus(Reason reason);
// The WWW-Authenticate value for a refused token: Bearer realm="api" for MissingToken,
// + error="invalid_request" for NotBearer, + error="invalid_token",
// error_description="<reasonText>" for the others.
std::string challenge(Reason reason, const std::string& realm);

// A refusal that is not the Verifier's (e.g. a service's role check: InsufficientScope),
// in RFC 6750 terms.
struct Error {
    ErrorCode code = ErrorCode::InvalidToken;
    std::string description;  // for error_description; never contains token material
};

// 400 for InvalidRequest, 403 for InsufficientScope, 401 otherwise.
int httpStatus(ErrorCode code);
// "invalid_request", "invalid_token", "insufficient_scope", or "" for MissingToken.
const char* rfc6750Code(ErrorCode code);
// The WWW-Authenticate value, e.g. Bearer realm="api", error="insufficient_scope"
// (description, if any, reduced to printable ASCII without quotes and backslashes).
std::string challenge(const Error& error, const std::string& realm);

}  // namespace authsvc::verify
