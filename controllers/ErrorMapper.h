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

}  // namespace authsvc::controllers
