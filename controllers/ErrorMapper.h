// The one place that turns a typed Error (a service's models::Error or an HttpError)
// into status, JSON envelope and headers (RFC 6750 WWW-Authenticate, Retry-After). Pure functions;
// thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "common/Error.h"
#include "controllers/HttpTypes.h"

namespace authsvc::controllers {

int statusOf(models::ErrorCode code);
const char* errorCodeName(models::ErrorCode code);
HttpResponse errorResponse(const models::Error& error);
HttpResponse errorResponse(const HttpError& error);
HttpResponse errorResponse(const Refusal& refusal);
HttpResponse jsonResponse(int status, const nlohmann::json& body);
// The answer of an /oauth/* route (RFC 6749 5.2): {"error", "error_description", "message"}
// (the same text twice: the RFC's field and our envelope's), with Cache-Control: no-store and
// Pragma: no-cache. A malformed request (415 included) is 400 invalid_request; wrong
// credentials and a bad, used or revoked token are 400 invalid_grant; other codes keep
// their status, name and Retry-After.
HttpResponse oauthErrorResponse(const models::Error& error);
// The same envelope for an error the services do not have (unsupported_grant_type).
HttpResponse oauthErrorResponse(int status, const char* error, const std::string& description);
// The same envelope for a check's refusal (413 payload_too_large keeps its status and name).
HttpResponse oauthErrorResponse(const Refusal& refusal);

}  // namespace authsvc::controllers
