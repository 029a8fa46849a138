// AccountController: a signed-in user's own account and sessions: POST /api/password,
// DELETE /api/me, GET /api/sessions, DELETE /api/sessions/{id}. Parses the request, calls
// AccountService, returns a response; no SQL, no crypto. The password checks count in the
// login throttle under the same keys as a login (client address, the account's email).
// Runs on worker threads (its calls block). Thread-safe.
#pragma once

#include <functional>

#include "controllers/HttpTypes.h"
#include "services/AccountService.h"
#include "services/AuthService.h"
#include "services/LoginThrottle.h"

namespace authsvc::controllers {

class AccountController {
  public:
    // onThrottled: called for each request the login throttle refuses (for the metrics).
    AccountController(models::AuthService& auth, models::AccountService& accounts,
                      models::LoginThrottle& throttle, std::function<void()> onThrottled)
        : auth_(auth),
          accounts_(accounts),
          throttle_(throttle),
          onThrottled_(std::move(onThrottled)) {}

    HttpResponse changePassword(const HttpRequest& req, const AuthContext& ctx);
    HttpResponse deleteAccount(const HttpRequest& req, const AuthContext& ctx);
    HttpResponse sessions(const HttpRequest& req, const AuthContext& ctx);
    HttpResponse revokeSession(const HttpRequest& req, const AuthContext& ctx);

  private:
    // Runs `check` (a password check of the user) unless the login throttle refuses the
    // user's email from this address first; a wrong password counts as a failed login.
    HttpResponse throttled(const HttpRequest& req, const models::User& user,
                           const std::function<models::Result<models::Unit>()>& check);

    models::AuthService& auth_;
    models::AccountService& accounts_;
    models::LoginThrottle& throttle_;
    std::function<void()> onThrottled_;
};

}  // namespace authsvc::controllers
