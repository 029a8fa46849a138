// Expected failures as values: every error the services can answer with has a code here
// (the errors only HTTP has are controllers::HttpError), and controllers/ErrorMapper turns
// a code into status, body and headers in one place.
// Types are plain values; safe to copy between threads.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

#include "verify/Error.h"

namespace authsvc::models {

enum class ErrorCode {
    InvalidRequest,        // 400 invalid_request
    MissingToken,          // 401 missing_token
    InvalidToken,          // 401 invalid_token
    InvalidCredentials,    // 401 invalid_credentials
    InvalidGrant,          // 401 invalid_grant
    InvalidOneTimeToken,   // 400 invalid_grant (a one-time token from a mail, in a body)
    RegistrationClosed,    // 403 registration_closed
    InsufficientScope,     // 403 insufficient_scope + WWW-Authenticate (a required role)
    EmailNotVerified,      // 403 email_not_verified
    MfaRequired,           // 403 mfa_required (+ mfa_token and expires_in: the second step)
    InvalidCode,           // 401 invalid_code (a wrong, replayed or used TOTP or recovery code)
    NotFound,              // 404 not_found
    EmailTaken,            // 409 email_taken
    UnsupportedMediaType,  // 415 unsupported_media_type
    TooManyRequests,       // 429 too_many_requests
    Internal,              // 500 internal_error
    Unavailable,           // 503 unavailable
};

struct Error {
    ErrorCode code;
    std::string message;
    int retryAfterSeconds = 0;  // for TooManyRequests and Unavailable
    // A token the verify library refused: why, as it said it (the WWW-Authenticate
    // challenge is written from it); empty for every other error.
    std::optional<verify::Reason> tokenRefused = std::nullopt;
    // MfaRequired: the token of the login's second step (POST /api/login/mfa), and its
    // lifetime in seconds; empty for every other error.
    std::string mfaToken = {};
    int mfaExpiresIn = 0;
};

inline Error makeError(ErrorCode code, std::string message, int retryAfterSeconds = 0) {
    return Error{code, std::move(message), retryAfterSeconds};
}

// A value or an Error.
template <typename T>
class Result {
  public:
    Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
    Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() { return std::get<0>(v_); }
    const T& value() const { return std::get<0>(v_); }
    T& operator*() { return value(); }
    const T& operator*() const { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    const Error& error() const { return std::get<1>(v_); }

  private:
    std::variant<T, Error> v_;
};

struct Unit {};

// Thrown by the database layer when the database cannot be reached, is locked past its
// timeout, or refuses writes: mapped to 503 by the error boundary.
class DatabaseUnavailable : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

}  // namespace authsvc::models
