// AdminController: the routes for holders of the `admin` role (the route table requires
// it): GET /api/admin/users lists users a page at a time. Parses the query, calls
// UserAdminService, returns JSON; runs on a worker thread (database). Thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include "controllers/HttpTypes.h"
#include "services/UserAdminService.h"

namespace authsvc::controllers {

class AdminController {
  public:
    explicit AdminController(models::UserAdminService& admin) : admin_(admin) {}
    // ?limit=N (1-500, default 100) &after=ID (default 0) ->
    // {"users": [{"id", "email", "created_at", "roles"}], "next": ID or null}
    HttpResponse users(const HttpRequest& req, const AuthContext& ctx);

  private:
    models::UserAdminService& admin_;
};

}  // namespace authsvc::controllers
