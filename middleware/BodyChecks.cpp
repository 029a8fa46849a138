#include "middleware/BodyChecks.h"

namespace authsvc::middleware {

std::optional<models::Error> checkBody(const middleware::HttpRequest& req, int64_t maxBodyBytes) {
    using models::ErrorCode;
    if (int64_t(req.body.size()) > maxBodyBytes) {
        return models::makeError(ErrorCode::PayloadTooLarge,
                                 "Request body exceeds " + std::to_string(maxBodyBytes) + " bytes");
    }
    if (!req.body.empty() && !req.jsonContentType) {
        return models::makeError(ErrorCode::UnsupportedMediaType,
                                 "Request body must be sent as Content-Type: application/json");
    }
    return std::nullopt;
}

}  // namespace authsvc::middleware
