// A route: method, paths, the thread its handler runs on, and its handler with its
// admission, the checks (middleware/Admission.h: body rules, Bearer, role, live session,
// or a developer's own) that run in order before the handler; the first that refuses
// answers. A path may end in one parameter segment, "/api/sessions/{id}": it matches any
// one non-empty segment there (HttpRequest::pathParam), and only when no fixed path
// matched. A Bearer route's handler takes an AuthContext, and a GuardedHandler holds one
// only behind the Bearer check, which gives it: a protected handler cannot be wired
// without authentication, and the compiler checks it. The transport's view of the route
// table (app/Routes.h builds the table).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "controllers/HttpTypes.h"
#include "middleware/Admission.h"
#include "middleware/AuthChecks.h"

namespace authsvc::app {

using controllers::AuthContext;
using controllers::HttpRequest;
using controllers::HttpResponse;

using PublicHandler = std::function<HttpResponse(const HttpRequest&)>;
using BearerHandler = std::function<HttpResponse(const HttpRequest&, const AuthContext&)>;
// A public handler that answers through `respond`, possibly after it returned and from
// another thread (a refresh joining SQLite's group commit: Database::writeTogetherLater).
// On a worker pool only.
using LaterHandler = std::function<void(const HttpRequest&, controllers::Respond respond)>;

// Where a handler runs: on the reactor (fast, no database), or on one of the two
// worker pools (database round trips; argon2id hashing). HashingPoolDeferred: on the
// hashing pool behind its other jobs (WorkerPool::Order::Deferred), so that a flood of
// registrations does not queue ahead of logins.
enum class RunsOn { Reactor, DatabasePool, HashingPool, HashingPoolDeferred };

// A role a Bearer route requires, e.g. Role{"admin"}.
struct Role {
    std::string name;
};

// A handler and the checks that guard it.
class GuardedHandler {
  public:
    using Handler = std::variant<PublicHandler, BearerHandler, LaterHandler>;

    // A public handler; `checks` run before it.
    GuardedHandler(PublicHandler handler, middleware::AdmissionList checks = {})
        : handler_(std::move(handler)), admission_(std::move(checks)) {}
    // A public handler that answers later; `checks` run before it.
    GuardedHandler(LaterHandler handler, middleware::AdmissionList checks = {})
        : handler_(std::move(handler)), admission_(std::move(checks)) {}
    // A Bearer handler: `bearer` runs first and gives it its AuthContext; then `checks`.
    GuardedHandler(BearerHandler handler, std::shared_ptr<const middleware::RequireBearer> bearer,
                   middleware::AdmissionList checks = {})
        : handler_(std::move(handler)), admission_(std::move(checks)) {
        admission_.insert(admission_.begin(), std::move(bearer));
    }

    const Handler& handler() const { return handler_; }
    const middleware::AdmissionList& admission() const { return admission_; }
    // Puts `check` before the others (the route table: the body rules, on every route).
    void admitFirst(std::shared_ptr<const middleware::Admission> check) {
        admission_.insert(admission_.begin(), std::move(check));
    }

  private:
    Handler handler_;
    middleware::AdmissionList admission_;
};

struct Route {
    std::string name;  // for metrics and logs
    std::string method;
    std::vector<std::string> paths;
    RunsOn runsOn;
    GuardedHandler handler;
    // Set for the routes whose handler reads HttpRequest::userAgent (a header lookup the
    // other routes do not pay for).
    bool readsUserAgent = false;
    // Set for the /oauth/* routes: their checks' refusals and the failures (database down:
    // 503) are answered in the RFC 6749 5.2 envelope (controllers::oauthErrorResponse).
    bool oauthErrors = false;
};

}  // namespace authsvc::app
