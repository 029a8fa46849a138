// The one place that turns a typed Error into status, JSON envelope and headers
// (RFC 6750 WWW-Authenticate, Retry-After). Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "middleware/Http.h"
#include "common/Error.h"

namespace authsvc::controllers {

using middleware::HttpResponse;

int statusOf(models::ErrorCode code);
const char* errorCodeName(models::ErrorCode code);
HttpResponse errorResponse(const models::Error& error);
HttpResponse jsonResponse(int status, const nlohmann::json& body);

}  // namespace authsvc::controllers
