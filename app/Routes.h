// The route table: every route the service serves, wired to its controller and guarded
// by its admission checks (the types, how a path parameter such as "/api/sessions/{id}"
// matches, and how checks guard a handler, are in app/http/Route.h; the checks in
// middleware/).
#pragma once

#include <memory>
#include <vector>

#include "app/config/Config.h"
#include "app/http/Route.h"
#include "controllers/AccountController.h"
#include "controllers/AdminController.h"
#include "controllers/AuthController.h"
#include "controllers/DiscoveryController.h"
#include "controllers/KeysController.h"
#include "controllers/MfaController.h"
#include "controllers/OAuthController.h"
#include "controllers/OpsController.h"
#include "controllers/PagesController.h"
#include "controllers/RecoveryController.h"
#include "controllers/UserController.h"
#include "middleware/AuthChecks.h"
#include "services/AuthService.h"

namespace authsvc::app {

// The checks the table puts on its rows: `body` first on every route, `bearer` first
// after it on every Bearer route; a Bearer route with a role checks the role in the token
// (RequireRole) and, on its worker, the live session and the role as it is now
// (LiveSession over `sessions`).
struct RouteChecks {
    std::shared_ptr<const middleware::Admission> body;
    std::shared_ptr<const middleware::RequireBearer> bearer;
    models::AuthService& sessions;
};

// A Bearer route's handler: `checks.bearer` first; with a role, only a token listing it, of a
// live session whose user holds the role now, reaches the handler; then `more`. The route
// table's rows use it, and so do an Extension's (app/Application.h).
GuardedHandler bearerHandler(const RouteChecks& checks, BearerHandler handler, Role role = {},
                             middleware::AdmissionList more = {});

std::vector<Route> routeTable(const RoutesConfig& paths, const RouteChecks& checks,
                              controllers::AuthController& auth, controllers::UserController& users,
                              controllers::AccountController& accounts,
                              controllers::OpsController& ops, controllers::KeysController& keys,
                              controllers::AdminController& admin);

// The routes of links sent by mail (POST /api/password/forgot and /reset, /api/email,
// /api/email/verify and /api/email/verify/resend), served beside routeTable()'s.
std::vector<Route> recoveryRoutes(const RouteChecks& checks,
                                  controllers::RecoveryController& recovery);
// The OAuth 2.0 routes (POST /oauth/token): form bodies, so their body rule is the size
// limit only (`maxBodyBytes`); the controller answers any other body with 400.
std::vector<Route> oauthRoutes(int64_t maxBodyBytes, controllers::OAuthController& oauth);
// The RFC 8414 metadata at /.well-known/oauth-authorization-server and
// /.well-known/openid-configuration (only when discoveryUnavailable() says nothing).
std::vector<Route> discoveryRoutes(const RouteChecks& checks,
                                   controllers::DiscoveryController& discovery);
// The pages of links in mails (GET /account/reset, /account/verify, /account/pages.js).
std::vector<Route> pageRoutes(const RouteChecks& checks, controllers::PagesController& pages);
// The second factor's routes (only while auth.mfa.enabled).
std::vector<Route> mfaRoutes(const RouteChecks& checks, controllers::MfaController& mfa);

}  // namespace authsvc::app
