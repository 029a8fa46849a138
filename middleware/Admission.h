// Admission: the checks a route's row lists (app/http/Route.h), which the Dispatcher runs
// in order before the route's handler, as Drogon attaches filters per route. A check is a
// small type with one method, admit(): nullopt lets the request go on, a Refusal (a
// models::Error or a controllers::HttpError) answers it (controllers/ErrorMapper makes the
// HTTP answer) and no later check or handler runs.
// Adding a check to a route is a line in the route table; the Dispatcher does not change.
//
// Where a check runs: on the reactor thread that read the request (the default: no
// blocking, no database), or, for Runs::OnWorker, on the worker pool of the route, just
// before its handler (database round trips). A route's list holds its reactor checks
// first; a check on a worker only on a route that runs on a worker pool (the Dispatcher
// refuses any other table at construction).
//
// Checks are shared by routes and called from many threads at once: admit() is const and
// must be thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controllers/HttpTypes.h"

namespace authsvc::middleware {

// The checks before a handler see the request as the controllers do.
using controllers::AuthContext;
using controllers::HttpRequest;
using controllers::HttpResponse;
using controllers::Refusal;

// What the checks of one request found, for the checks after them and the handler.
struct Admitted {
    // Set by the Bearer check (RequireBearer, first on every Bearer route): the handler of
    // a Bearer route gets it.
    std::optional<AuthContext> auth;
};

class Admission {
  public:
    enum class Runs { OnReactor, OnWorker };

    explicit Admission(Runs runs = Runs::OnReactor) : runs_(runs) {}
    virtual ~Admission() = default;
    Admission(const Admission&) = delete;
    Admission& operator=(const Admission&) = delete;

    // nullopt: admitted (the check may record what it found in `admitted`); else why the
    // request is refused (a models::Error converts to it).
    virtual std::optional<Refusal> admit(const HttpRequest& req, Admitted& admitted) const = 0;

    Runs runs() const { return runs_; }

  private:
    Runs runs_;
};

using AdmissionList = std::vector<std::shared_ptr<const Admission>>;

// Runs the checks of `list` that run `where`, in their order, until one refuses; returns
// its refusal, or nullopt when all admitted the request. Exceptions pass through.
std::optional<Refusal> admit(const AdmissionList& list, Admission::Runs where,
                             const HttpRequest& req, Admitted& admitted);

// Why `list` cannot be a route's (a reactor check after a worker one, a null check, or a
// worker check on a route that runs on the reactor: `onWorker` false); nullopt when it can.
std::optional<std::string> admissionProblem(const AdmissionList& list, bool onWorker);

}  // namespace authsvc::middleware
