// OpsController: liveness, readiness (checks the database) and Prometheus metrics.
// Thread-safe.
#pragma once

#include <functional>
#include <string>

#include "middleware/Http.h"

namespace authsvc::controllers {

using middleware::HttpRequest;
using middleware::HttpResponse;

class OpsController {
  public:
    OpsController(std::function<bool()> databaseReady, std::function<std::string()> renderMetrics)
        : databaseReady_(std::move(databaseReady)), renderMetrics_(std::move(renderMetrics)) {}
    HttpResponse healthz(const HttpRequest& req);
    HttpResponse readyz(const HttpRequest& req);
    HttpResponse metrics(const HttpRequest& req);

  private:
    std::function<bool()> databaseReady_;
    std::function<std::string()> renderMetrics_;
};

}  // namespace authsvc::controllers
