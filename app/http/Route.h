// A route: method, paths, handler, the thread it runs on, and whether it needs a Bearer
// token. A path may end in one parameter segment, "/api/sessions/{id}": it matches any one
// non-empty segment there (HttpRequest::pathParam), and only when no fixed path matched.
// A Bearer route's handler takes an AuthContext, so a protected handler cannot be
// wired without authentication: the compiler checks it; only a Bearer route can require
// a role. The transport's view of the route
// table (app/Routes.h builds the table).
#pragma once

#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "middleware/Http.h"

namespace authsvc::app {

using middleware::AuthContext;
using middleware::HttpRequest;
using middleware::HttpResponse;

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
    // Set for the routes whose handler reads HttpRequest::userAgent (a header lookup the
    // other routes do not pay for).
    bool readsUserAgent = false;
};

}  // namespace authsvc::app
