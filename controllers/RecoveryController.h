// RecoveryController: POST /api/password/forgot (202 {} always, for known and unknown
// addresses alike, throttled or not) and POST /api/password/reset (204, or 400
// invalid_grant for a bad token). Parses, calls RecoveryService, returns; no SQL, no crypto.
// Runs on worker threads (its calls block). Thread-safe.
#pragma once

#include "middleware/Http.h"
#include "services/RecoveryService.h"

namespace authsvc::controllers {

using middleware::HttpRequest;
using middleware::HttpResponse;

class RecoveryController {
  public:
    explicit RecoveryController(models::RecoveryService& recovery) : recovery_(recovery) {}

    HttpResponse forgot(const HttpRequest& req);
    HttpResponse reset(const HttpRequest& req);

  private:
    models::RecoveryService& recovery_;
};

}  // namespace authsvc::controllers
