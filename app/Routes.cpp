#include "app/Routes.h"

namespace authsvc::app {

namespace {
template <typename C>
PublicHandler pub(HttpResponse (C::*fn)(const HttpRequest&), C& c) {
    return [fn, &c](const HttpRequest& r) { return (c.*fn)(r); };
}
// A Bearer route; with a role, only tokens listing it reach the handler.
template <typename C>
BearerRoute bearer(HttpResponse (C::*fn)(const HttpRequest&, const AuthContext&), C& c,
                   Role role = {}) {
    return {[fn, &c](const HttpRequest& r, const AuthContext& a) { return (c.*fn)(r, a); },
            std::move(role)};
}
}  // namespace

std::vector<Route> routeTable(const RoutesConfig& paths, controllers::AuthController& auth,
                              controllers::UserController& users,
                              controllers::AccountController& accounts,
                              controllers::OpsController& ops, controllers::KeysController& keys,
                              controllers::AdminController& admin) {
    using controllers::AccountController;
    using controllers::AdminController;
    using controllers::AuthController;
    using controllers::KeysController;
    using controllers::OpsController;
    using controllers::UserController;
    using enum RunsOn;
    constexpr bool kUserAgent = true;
    // clang-format off
    return {
        // name        method  paths                  runs on       handler (bearer = needs a token, with a role if named)
        {"register",   "POST", {FixedPaths::kRegister},     HashingPoolDeferred, pub(&AuthController::registerUser, auth)},
        {"login",      "POST", paths.login,           HashingPool,  pub(&AuthController::login, auth), kUserAgent},
        {"refresh",    "POST", paths.refresh,         DatabasePool, pub(&AuthController::refresh, auth)},
        {"logout",     "POST", {FixedPaths::kLogout},     DatabasePool, pub(&AuthController::logout, auth)},
        {"logout_all", "POST", {FixedPaths::kLogoutAll},   DatabasePool, bearer(&AuthController::logoutAll, auth)},
        {"protected",  "GET",  paths.protectedPaths,  Reactor,      bearer(&UserController::protectedResource, users)},
        {"me",         "GET",  {FixedPaths::kMe},     DatabasePool, bearer(&UserController::me, users)},
        {"delete_me",  "DELETE", {FixedPaths::kMe},   HashingPool,  bearer(&AccountController::deleteAccount, accounts)},
        {"password",   "POST", {FixedPaths::kPassword}, HashingPool, bearer(&AccountController::changePassword, accounts)},
        {"sessions",   "GET",  {FixedPaths::kSessions}, DatabasePool, bearer(&AccountController::sessions, accounts)},
        {"session_revoke", "DELETE", {FixedPaths::kSession}, DatabasePool, bearer(&AccountController::revokeSession, accounts)},
        {"healthz",    "GET",  {FixedPaths::kHealthz},     Reactor,      pub(&OpsController::healthz, ops)},
        {"readyz",     "GET",  {FixedPaths::kReadyz},     DatabasePool, pub(&OpsController::readyz, ops)},
        {"metrics",    "GET",  {FixedPaths::kMetrics},     Reactor,      pub(&OpsController::metrics, ops)},
        {"jwks",       "GET",  {FixedPaths::kJwks},        Reactor,      pub(&KeysController::jwks, keys)},
        {"admin_users", "GET", {FixedPaths::kAdminUsers},  DatabasePool, bearer(&AdminController::users, admin, Role{"admin"})},
        {"openapi",    "GET",  {FixedPaths::kOpenApi},     Reactor,      pub(&OpsController::openapi, ops)},
    };
    // clang-format on
}

std::vector<Route> recoveryRoutes(controllers::RecoveryController& recovery) {
    using controllers::RecoveryController;
    using enum RunsOn;
    // clang-format off
    return {
        {"password_forgot", "POST", {FixedPaths::kPasswordForgot}, DatabasePool, pub(&RecoveryController::forgot, recovery)},
        {"password_reset",  "POST", {FixedPaths::kPasswordReset},  HashingPool,  pub(&RecoveryController::reset, recovery)},
        {"email_verify",    "POST", {FixedPaths::kEmailVerify},    DatabasePool, pub(&RecoveryController::verifyEmail, recovery)},
        {"email_verify_resend", "POST", {FixedPaths::kEmailVerifyResend}, DatabasePool, pub(&RecoveryController::resendVerification, recovery)},
        {"email_change",    "POST", {FixedPaths::kEmail},          HashingPool,  bearer(&RecoveryController::changeEmail, recovery)},
    };
    // clang-format on
}

std::vector<Route> pageRoutes(controllers::PagesController& pages) {
    using controllers::PagesController;
    using enum RunsOn;
    // clang-format off
    return {
        {"page_reset",  "GET", {FixedPaths::kPageReset},  Reactor, pub(&PagesController::resetPage, pages)},
        {"page_verify", "GET", {FixedPaths::kPageVerify}, Reactor, pub(&PagesController::verifyPage, pages)},
        {"page_script", "GET", {FixedPaths::kPageScript}, Reactor, pub(&PagesController::script, pages)},
    };
    // clang-format on
}

}  // namespace authsvc::app
