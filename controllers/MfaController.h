// MfaController: the second factor's routes. Bearer: POST /api/mfa/totp {"password"} (200
// {"secret", "otpauth_uri"}), POST /api/mfa/totp/confirm {"code"} (200 {"recovery_codes"}),
// DELETE /api/mfa/totp {"password", "code"} (204), POST /api/mfa/recovery-codes {"code"}
// (200 {"recovery_codes"}); public: POST /api/login/mfa {"mfa_token", "code" or
// "recovery_code"} (the login answer). Wrong passwords and wrong codes count in the login
// throttle of the account, which refuses them with 429 like a login. Parses, calls
// MfaService, returns; no SQL, no crypto. Runs on worker threads. Thread-safe.
#pragma once

#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "controllers/HttpTypes.h"
#include "services/AuthService.h"
#include "services/LoginThrottle.h"
#include "services/MfaService.h"

namespace authsvc::controllers {

class MfaController {
  public:
    // onThrottled: called for each request the login throttle refuses (for the metrics).
    MfaController(models::MfaService& mfa, models::AuthService& auth,
                  models::LoginThrottle& throttle, std::function<void()> onThrottled)
        : mfa_(mfa), auth_(auth), throttle_(throttle), onThrottled_(std::move(onThrottled)) {}

    HttpResponse enrol(const HttpRequest& req, const AuthContext& ctx);
    HttpResponse confirm(const HttpRequest& req, const AuthContext& ctx);
    HttpResponse disable(const HttpRequest& req, const AuthContext& ctx);
    HttpResponse recoveryCodes(const HttpRequest& req, const AuthContext& ctx);
    HttpResponse loginSecondStep(const HttpRequest& req);

  private:
    struct SignedIn {
        models::User user;
        std::vector<std::string> fields;  // the body's string fields, in the order asked for
    };
    // The body's string fields `names` and the signed-in user, unless refused: a bad body,
    // a user gone, or the login throttle of the account (429).
    models::Result<SignedIn> signedIn(const HttpRequest& req, const AuthContext& ctx,
                                      std::initializer_list<const char*> names);
    // The answer to a failed call; a wrong password or code counts in the login throttle.
    HttpResponse failed(const HttpRequest& req, const std::string& email, const models::Error& e);

    models::MfaService& mfa_;
    models::AuthService& auth_;
    models::LoginThrottle& throttle_;
    std::function<void()> onThrottled_;
};

}  // namespace authsvc::controllers
