// OpsController: liveness, readiness (checks the database), Prometheus metrics and the
// OpenAPI document (JSON text given at construction, served as is, cacheable). Thread-safe.
#pragma once

#include <functional>
#include <string>

#include "controllers/HttpTypes.h"

namespace authsvc::controllers {

class OpsController {
  public:
    OpsController(std::function<bool()> databaseReady, std::function<std::string()> renderMetrics,
                  std::string openApiJson)
        : databaseReady_(std::move(databaseReady)),
          renderMetrics_(std::move(renderMetrics)),
          openApiJson_(std::move(openApiJson)) {}
    HttpResponse healthz(const HttpRequest& req);
    HttpResponse readyz(const HttpRequest& req);
    HttpResponse metrics(const HttpRequest& req);
    HttpResponse openapi(const HttpRequest& req);

  private:
    std::function<bool()> databaseReady_;
    std::function<std::string()> renderMetrics_;
    std::string openApiJson_;
};

}  // namespace authsvc::controllers
