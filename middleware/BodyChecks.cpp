#include "middleware/BodyChecks.h"

namespace authsvc::middleware {

std::optional<Refusal> checkBody(const HttpRequest& req, int64_t maxBodyBytes, bool anyMediaType) {
    using models::ErrorCode;
    if (int64_t(req.body.size()) > maxBodyBytes) {
        return controllers::HttpError{
            controllers::HttpErrorCode::PayloadTooLarge,
            "Request body exceeds " + std::to_string(maxBodyBytes) + " bytes"};
    }
    if (!anyMediaType && !req.body.empty() && !req.jsonContentType) {
        return models::makeError(ErrorCode::UnsupportedMediaType,
                                 "Request body must be sent as Content-Type: application/json");
    }
    return std::nullopt;
}

}  // namespace authsvc::middleware
