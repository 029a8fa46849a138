// RecoveryController: the routes of links sent by mail. POST /api/password/forgot and
// POST /api/email/verify/resend (202 {} always, for known and unknown addresses alike,
// throttled or not), POST /api/password/reset (204) and POST /api/email/verify (200
// {"email_verified": true}); a bad token is 400 invalid_grant; and, for a signed-in user,
// POST /api/email (202: a link to the new address), whose password check counts in the
// login throttle like AccountController's. Parses, calls RecoveryService or
// EmailVerificationService, returns; no SQL, no crypto.
// Runs on worker threads (its calls block). Thread-safe.
#pragma once

#include <functional>

#include "controllers/HttpTypes.h"
#include "services/AuthService.h"
#include "services/EmailVerificationService.h"
#include "services/LoginThrottle.h"
#include "services/RecoveryService.h"

namespace authsvc::controllers {


class RecoveryController {
  public:
    // onThrottled: called for each request the login throttle refuses (for the metrics).
    RecoveryController(models::RecoveryService& recovery,
                       models::EmailVerificationService& verification, models::AuthService& auth,
                       models::LoginThrottle& throttle, std::function<void()> onThrottled)
        : recovery_(recovery),
          verification_(verification),
          auth_(auth),
          throttle_(throttle),
          onThrottled_(std::move(onThrottled)) {}

    HttpResponse forgot(const HttpRequest& req);
    HttpResponse reset(const HttpRequest& req);
    HttpResponse verifyEmail(const HttpRequest& req);
    HttpResponse resendVerification(const HttpRequest& req);
    HttpResponse changeEmail(const HttpRequest& req, const AuthContext& ctx);

  private:
    models::RecoveryService& recovery_;
    models::EmailVerificationService& verification_;
    models::AuthService& auth_;
    models::LoginThrottle& throttle_;
    std::function<void()> onThrottled_;
};

}  // namespace authsvc::controllers
