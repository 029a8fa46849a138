#include "app/Routes.h"

namespace authsvc::app {

namespace {
template <typename C>
PublicHandler pub(HttpResponse (C::*fn)(const HttpRequest&), C& c) {
    return [fn, &c](const HttpRequest& r) { return (c.*fn)(r); };
}
template <typename C>
BearerHandler bearer(HttpResponse (C::*fn)(const HttpRequest&, const AuthContext&), C& c) {
    return [fn, &c](const HttpRequest& r, const AuthContext& a) { return (c.*fn)(r, a); };
}
}  // namespace

std::vector<Route> routeTable(const RoutesConfig& paths, controllers::AuthController& auth,
                              controllers::UserController& users, controllers::OpsController& ops,
                              controllers::KeysController& keys) {
    using controllers::AuthController;
    using controllers::KeysController;
    using controllers::OpsController;
    using controllers::UserController;
    using enum RunsOn;
    // clang-format off
    return {
        // name        method  paths                  runs on       handler (bearer = needs a token)
        {"register",   "POST", {FixedPaths::kRegister},     HashingPoolDeferred, pub(&AuthController::registerUser, auth)},
        {"login",      "POST", paths.login,           HashingPool,  pub(&AuthController::login, auth)},
        {"refresh",    "POST", paths.refresh,         DatabasePool, pub(&AuthController::refresh, auth)},
        {"logout",     "POST", {FixedPaths::kLogout},     DatabasePool, pub(&AuthController::logout, auth)},
        {"logout_all", "POST", {FixedPaths::kLogoutAll},   DatabasePool, bearer(&AuthController::logoutAll, auth)},
        {"protected",  "GET",  paths.protectedPaths,  Reactor,      bearer(&UserController::protectedResource, users)},
        {"me",         "GET",  {FixedPaths::kMe},     DatabasePool, bearer(&UserController::me, users)},
        {"healthz",    "GET",  {FixedPaths::kHealthz},     Reactor,      pub(&OpsController::healthz, ops)},
        {"readyz",     "GET",  {FixedPaths::kReadyz},     DatabasePool, pub(&OpsController::readyz, ops)},
        {"metrics",    "GET",  {FixedPaths::kMetrics},     Reactor,      pub(&OpsController::metrics, ops)},
        {"jwks",       "GET",  {FixedPaths::kJwks},        Reactor,      pub(&KeysController::jwks, keys)},
        {"openapi",    "GET",  {FixedPaths::kOpenApi},     Reactor,      pub(&OpsController::openapi, ops)},
    };
    // clang-format on
}

}  // namespace authsvc::app
