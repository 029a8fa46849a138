#include "app/Routes.h"

#include "middleware/BodyChecks.h"

namespace authsvc::app {

namespace {
// A public route; `more`: checks of its own (after the body rules).
template <typename C>
GuardedHandler pub(HttpResponse (C::*fn)(const HttpRequest&), C& c,
                   middleware::AdmissionList more = {}) {
    return {[fn, &c](const HttpRequest& r) { return (c.*fn)(r); }, std::move(more)};
}
// A public route whose method answers later (LaterHandler).
template <typename C>
GuardedHandler later(void (C::*fn)(const HttpRequest&, controllers::Respond), C& c) {
    return GuardedHandler(
        LaterHandler([fn, &c](const HttpRequest& r, controllers::Respond respond) {
            (c.*fn)(r, std::move(respond));
        }));
}
// A Bearer route of a controller's method (see bearerHandler).
template <typename C>
GuardedHandler bearer(const RouteChecks& checks,
                      HttpResponse (C::*fn)(const HttpRequest&, const AuthContext&), C& c,
                      Role role = {}) {
    return bearerHandler(
        checks, [fn, &c](const HttpRequest& r, const AuthContext& a) { return (c.*fn)(r, a); },
        std::move(role));
}

// The body rules first on every row (413, 415).
std::vector<Route> withBodyRules(const RouteChecks& checks, std::vector<Route> rows) {
    for (auto& route : rows) route.handler.admitFirst(checks.body);
    return rows;
}
}  // namespace

GuardedHandler bearerHandler(const RouteChecks& checks, BearerHandler handler, Role role,
                             middleware::AdmissionList more) {
    middleware::AdmissionList guards;
    if (!role.name.empty()) {
        guards.push_back(std::make_shared<middleware::RequireRole>(role.name));
        guards.push_back(std::make_shared<middleware::LiveSession>(checks.sessions, role.name));
    }
    guards.insert(guards.end(), more.begin(), more.end());
    return GuardedHandler(std::move(handler), checks.bearer, std::move(guards));
}

std::vector<Route> routeTable(const RoutesConfig& paths, const RouteChecks& checks,
                              controllers::AuthController& auth, controllers::UserController& users,
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
    std::vector<Route> table = {
        // name        method  paths                  runs on       handler (bearer = needs a token, with a role if named)
        {"register",   "POST", {FixedPaths::kRegister},     HashingPoolDeferred, pub(&AuthController::registerUser, auth)},
        {"login",      "POST", paths.login,           HashingPool,  pub(&AuthController::login, auth), kUserAgent},
        {"refresh",    "POST", paths.refresh,         DatabasePool, later(&AuthController::refreshLater, auth)},
        {"logout",     "POST", {FixedPaths::kLogout},     DatabasePool, pub(&AuthController::logout, auth)},
        {"logout_all", "POST", {FixedPaths::kLogoutAll},   DatabasePool, bearer(checks, &AuthController::logoutAll, auth)},
        {"protected",  "GET",  paths.protectedPaths,  Reactor,      bearer(checks, &UserController::protectedResource, users)},
        {"me",         "GET",  {FixedPaths::kMe},     DatabasePool, bearer(checks, &UserController::me, users)},
        {"delete_me",  "DELETE", {FixedPaths::kMe},   HashingPool,  bearer(checks, &AccountController::deleteAccount, accounts)},
        {"password",   "POST", {FixedPaths::kPassword}, HashingPool, bearer(checks, &AccountController::changePassword, accounts)},
        {"sessions",   "GET",  {FixedPaths::kSessions}, DatabasePool, bearer(checks, &AccountController::sessions, accounts)},
        {"session_revoke", "DELETE", {FixedPaths::kSession}, DatabasePool, bearer(checks, &AccountController::revokeSession, accounts)},
        {"healthz",    "GET",  {FixedPaths::kHealthz},     Reactor,      pub(&OpsController::healthz, ops)},
        {"readyz",     "GET",  {FixedPaths::kReadyz},     DatabasePool, pub(&OpsController::readyz, ops)},
        {"metrics",    "GET",  {FixedPaths::kMetrics},     Reactor,      pub(&OpsController::metrics, ops)},
        {"jwks",       "GET",  {FixedPaths::kJwks},        Reactor,      pub(&KeysController::jwks, keys)},
        {"admin_users", "GET", {FixedPaths::kAdminUsers},  DatabasePool, bearer(checks, &AdminController::users, admin, Role{"admin"})},
        {"openapi",    "GET",  {FixedPaths::kOpenApi},     Reactor,      pub(&OpsController::openapi, ops)},
    };
    // clang-format on
    return withBodyRules(checks, std::move(table));
}

std::vector<Route> recoveryRoutes(const RouteChecks& checks,
                                  controllers::RecoveryController& recovery) {
    using controllers::RecoveryController;
    using enum RunsOn;
    // clang-format off
    return withBodyRules(checks, {
        {"password_forgot", "POST", {FixedPaths::kPasswordForgot}, DatabasePool, pub(&RecoveryController::forgot, recovery)},
        {"password_reset",  "POST", {FixedPaths::kPasswordReset},  HashingPool,  pub(&RecoveryController::reset, recovery)},
        {"email_verify",    "POST", {FixedPaths::kEmailVerify},    DatabasePool, pub(&RecoveryController::verifyEmail, recovery)},
        {"email_verify_resend", "POST", {FixedPaths::kEmailVerifyResend}, DatabasePool, pub(&RecoveryController::resendVerification, recovery)},
        {"email_change",    "POST", {FixedPaths::kEmail},          HashingPool,  bearer(checks, &RecoveryController::changeEmail, recovery)},
    });
    // clang-format on
}

std::vector<Route> pageRoutes(const RouteChecks& checks, controllers::PagesController& pages) {
    using controllers::PagesController;
    using enum RunsOn;
    // clang-format off
    return withBodyRules(checks, {
        {"page_reset",  "GET", {FixedPaths::kPageReset},  Reactor, pub(&PagesController::resetPage, pages)},
        {"page_verify", "GET", {FixedPaths::kPageVerify}, Reactor, pub(&PagesController::verifyPage, pages)},
        {"page_script", "GET", {FixedPaths::kPageScript}, Reactor, pub(&PagesController::script, pages)},
    });
    // clang-format on
}

std::vector<Route> mfaRoutes(const RouteChecks& checks, controllers::MfaController& mfa) {
    using controllers::MfaController;
    using enum RunsOn;
    constexpr bool kUserAgent = true;
    // clang-format off
    return withBodyRules(checks, {
        {"mfa_totp_enrol",   "POST",   {FixedPaths::kMfaTotp},          HashingPool,  bearer(checks, &MfaController::enrol, mfa)},
        {"mfa_totp_confirm", "POST",   {FixedPaths::kMfaTotpConfirm},   DatabasePool, bearer(checks, &MfaController::confirm, mfa)},
        {"mfa_totp_disable", "DELETE", {FixedPaths::kMfaTotp},          HashingPool,  bearer(checks, &MfaController::disable, mfa)},
        {"mfa_recovery_codes", "POST", {FixedPaths::kMfaRecoveryCodes}, DatabasePool, bearer(checks, &MfaController::recoveryCodes, mfa)},
        {"login_mfa",        "POST",   {FixedPaths::kLoginMfa},         DatabasePool, pub(&MfaController::loginSecondStep, mfa), kUserAgent},
    });
    // clang-format on
}

std::vector<Route> oauthRoutes(int64_t maxBodyBytes, controllers::OAuthController& oauth) {
    using controllers::OAuthController;
    using enum RunsOn;
    constexpr bool kUserAgent = true;
    constexpr bool kAnyMediaType = true;
    // clang-format off
    std::vector<Route> rows = {
        {"oauth_token", "POST", {FixedPaths::kOAuthToken}, HashingPool, pub(&OAuthController::token, oauth), kUserAgent},
        {"oauth_revoke", "POST", {FixedPaths::kOAuthRevoke}, DatabasePool, pub(&OAuthController::revoke, oauth)},
        {"oauth_introspect", "POST", {FixedPaths::kOAuthIntrospect}, DatabasePool, pub(&OAuthController::introspect, oauth)},
    };
    // clang-format on
    for (auto& route : rows) {
        route.handler.admitFirst(
            std::make_shared<middleware::BodyRules>(maxBodyBytes, kAnyMediaType));
        route.oauthErrors = true;
    }
    return rows;
}

std::vector<Route> discoveryRoutes(const RouteChecks& checks,
                                   controllers::DiscoveryController& discovery) {
    using controllers::DiscoveryController;
    using enum RunsOn;
    // clang-format off
    return withBodyRules(checks, {
        {"oauth_metadata", "GET", {FixedPaths::kOAuthMetadata, FixedPaths::kOpenIdConfiguration}, Reactor, pub(&DiscoveryController::metadata, discovery)},
    });
    // clang-format on
}

}  // namespace authsvc::app
