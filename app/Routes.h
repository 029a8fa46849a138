// The route table: every route the service serves, wired to its controller (the types,
// how a path parameter such as "/api/sessions/{id}" matches, and how a route requires a
// role, are in app/http/Route.h).
#pragma once

#include <vector>

#include "app/config/Config.h"
#include "app/http/Route.h"
#include "controllers/AccountController.h"
#include "controllers/AdminController.h"
#include "controllers/AuthController.h"
#include "controllers/KeysController.h"
#include "controllers/OpsController.h"
#include "controllers/PagesController.h"
#include "controllers/RecoveryController.h"
#include "controllers/UserController.h"

namespace authsvc::app {

std::vector<Route> routeTable(const RoutesConfig& paths, controllers::AuthController& auth,
                              controllers::UserController& users,
                              controllers::AccountController& accounts,
                              controllers::OpsController& ops, controllers::KeysController& keys,
                              controllers::AdminController& admin);

// The routes of links sent by mail (POST /api/password/forgot and /reset, /api/email,
// /api/email/verify and /api/email/verify/resend), served beside routeTable()'s.
std::vector<Route> recoveryRoutes(controllers::RecoveryController& recovery);
// The pages of links in mails (GET /account/reset, /account/verify, /account/pages.js).
std::vector<Route> pageRoutes(controllers::PagesController& pages);

}  // namespace authsvc::app
