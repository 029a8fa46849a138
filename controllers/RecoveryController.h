// RecoveryController: the routes of links sent by mail. POST /api/password/forgot and
// POST /api/email/verify/resend (202 {} always, for known and unknown addresses alike,
// throttled or not), POST /api/password/reset (204) and POST /api/email/verify (200
// {"email_verified": true}); a bad token is 400 invalid_grant. Parses, calls
// RecoveryService or EmailVerificationService, returns; no SQL, no crypto.
// Runs on worker threads (its calls block). Thread-safe.
#pragma once

#include "middleware/Http.h"
#include "services/EmailVerificationService.h"
#include "services/RecoveryService.h"

namespace authsvc::controllers {

using middleware::HttpRequest;
using middleware::HttpResponse;

class RecoveryController {
  public:
    RecoveryController(models::RecoveryService& recovery,
                       models::EmailVerificationService& verification)
        : recovery_(recovery), verification_(verification) {}

    HttpResponse forgot(const HttpRequest& req);
    HttpResponse reset(const HttpRequest& req);
    HttpResponse verifyEmail(const HttpRequest& req);
    HttpResponse resendVerification(const HttpRequest& req);

  private:
    models::RecoveryService& recovery_;
    models::EmailVerificationService& verification_;
};

}  // namespace authsvc::controllers
