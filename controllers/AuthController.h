// AuthController: register, login, refresh, logout, logout_all. Parses the request
// DTO, calls AuthService, returns a response; no SQL, no crypto. Runs on worker
// threads (its calls block). Thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "controllers/HttpTypes.h"
#include "services/AuthService.h"
#include "services/LoginThrottle.h"
#include "services/RegistrationLimit.h"

namespace authsvc::controllers {

// Which limit refused a request (for the metrics).
enum class Throttled { Login, Registration };

class AuthController {
  public:
    AuthController(models::AuthService& auth, models::LoginThrottle& throttle,
                   models::RegistrationLimit& registrations,
                   std::function<void(Throttled)> onThrottled)
        : auth_(auth),
          throttle_(throttle),
          registrations_(registrations),
          onThrottled_(std::move(onThrottled)) {}

    HttpResponse registerUser(const HttpRequest& req);
    HttpResponse login(const HttpRequest& req);
    HttpResponse refresh(const HttpRequest& req);
    // refresh() answering through `respond` once the rotation committed, without this thread
    // waiting for it (AuthService::refreshLater).
    void refreshLater(const HttpRequest& req, Respond respond);
    HttpResponse logout(const HttpRequest& req);
    HttpResponse logoutAll(const HttpRequest& req, const AuthContext& ctx);
    // login()'s rules after parsing (also POST /oauth/token's password grant): the email's
    // length, the throttle, AuthService::login, a failure counted.
    models::Result<models::TokenPair> passwordLogin(const HttpRequest& req,
                                                    const std::string& email,
                                                    const std::string& password);

  private:
    models::AuthService& auth_;
    models::LoginThrottle& throttle_;
    models::RegistrationLimit& registrations_;
    std::function<void(Throttled)> onThrottled_;
};

// The body of login and refresh responses: access_token (also as "token"), expires_in,
// token_type, and refresh_token with refresh_expires_in unless the pair has none.
HttpResponse tokenResponse(const models::TokenPair& pair);
// {"id", "email", "created_at"} with created_at as RFC 3339 UTC.
nlohmann::json userJson(const models::User& user);

}  // namespace authsvc::controllers
