// The route table: every method, path, handler, the thread it runs on, and whether it
// needs a Bearer token, and which role that token must carry. A Bearer route's handler
// takes an AuthContext, so a protected handler cannot be wired without authentication:
// the compiler checks it; only a Bearer route can require a role.
#pragma once

#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "app/Config.h"
#include "controllers/AdminController.h"
#include "controllers/AuthController.h"
#include "controllers/Http.h"
#include "controllers/KeysController.h"
#include "controllers/OpsController.h"
#include "controllers/UserController.h"

namespace authsvc::app {

using controllers::AuthContext;
using controllers::HttpRequest;
using controllers::HttpResponse;

using PublicHandler = std::function<HttpResponse(const HttpRequest&)>;
using BearerHandler = std::function<HttpResponse(const HttpRequest&, const AuthContext&)>;

// Where a handler runs: on the reactor (fast, no database), or on one of the two
// worker pools (database round trips; argon2id hashing). HashingPoolDeferred: on the
// hashing pool behind its other jobs (WorkerPool::Order::Deferred), so that a flood of
// registrations does not queue ahead of logins.
enum class RunsOn { Reactor, DatabasePool, HashingPool, HashingPoolDeferred };

// A role a Bearer route requires, e.g. Role{"admin"}.
struct Role {
    std::string name;
};

// A Bearer route's handler and the role its token's `roles` claim must list (empty name:
// any valid token). The dispatcher checks both before the handler runs: no token or a bad
// one is 401 (400 for a malformed header), a valid token without the role
// 403 insufficient_scope.
struct BearerRoute {
    BearerHandler handler;
    Role requiredRole;
};

struct Route {
    std::string name;  // for metrics and logs
    std::string method;
    std::vector<std::string> paths;
    RunsOn runsOn;
    std::variant<PublicHandler, BearerRoute> handler;

    bool needsBearer() const { return std::holds_alternative<BearerRoute>(handler); }
};

std::vector<Route> routeTable(const RoutesConfig& paths, controllers::AuthController& auth,
                              controllers::UserController& users, controllers::OpsController& ops,
                              controllers::KeysController& keys,
                              controllers::AdminController& admin);

}  // namespace authsvc::app
