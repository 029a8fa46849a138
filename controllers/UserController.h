// UserController: the resources behind a Bearer token. protectedResource() answers
// from the verified claims alone (no database, runs on the reactor); me() reads the
// user (worker thread). Thread-safe.
#pragma once

#include "controllers/HttpTypes.h"
#include "services/AuthService.h"

namespace authsvc::controllers {

class UserController {
  public:
    explicit UserController(models::AuthService& auth) : auth_(auth) {}
    HttpResponse protectedResource(const HttpRequest& req, const AuthContext& ctx);
    HttpResponse me(const HttpRequest& req, const AuthContext& ctx);

  private:
    models::AuthService& auth_;
};

}  // namespace authsvc::controllers
