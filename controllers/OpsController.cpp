#include "controllers/OpsController.h"

#include "controllers/ErrorMapper.h"

namespace authsvc::controllers {

HttpResponse OpsController::healthz(const HttpRequest& /*req*/) {
    return jsonResponse(200, {{"status", "ok"}});
}

HttpResponse OpsController::readyz(const HttpRequest& /*req*/) {
    if (!databaseReady_()) {
        return errorResponse(
            models::makeError(models::ErrorCode::Unavailable, "The database is unreachable", 1));
    }
    return jsonResponse(200, {{"status", "ready"}});
}

HttpResponse OpsController::metrics(const HttpRequest& /*req*/) {
    HttpResponse r;
    r.contentType = "text/plain; version=0.0.4";
    r.body = renderMetrics_();
    return r;
}

HttpResponse OpsController::openapi(const HttpRequest& /*req*/) {
    HttpResponse r;
    r.body = openApiJson_;
    // The document changes only with the binary.
    r.header("Cache-Control", "public, max-age=3600");
    return r;
}

}  // namespace authsvc::controllers
