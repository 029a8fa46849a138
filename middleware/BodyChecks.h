// BodyChecks: the general body rules of API.md, in their order: a body over
// server.max_body_bytes is 413 (checked first), a POST body that is not
// application/json is 415. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>

#include "middleware/Http.h"
#include "common/Error.h"

namespace authsvc::middleware {

std::optional<models::Error> checkBody(const middleware::HttpRequest& req, int64_t maxBodyBytes);

}  // namespace authsvc::middleware
