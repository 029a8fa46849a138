// Application: the composition root. Builds everything from the Config by constructor
// (database -> repositories -> services -> controllers -> routes -> server), owns
// their lifetimes, and runs the commands of the CLI. No globals, no singletons.
// Used from the main thread only.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/Routes.h"
#include "app/config/Config.h"
#include "app/http/Route.h"
#include "app/observability/Logging.h"
#include "models/Database.h"
#include "models/Migrator.h"
#include "verify/Clock.h"

namespace authsvc::app {

// What a program built on authsvc adds to it (docs/EXTENDING.md, examples/extending/): its
// migrations, applied with authsvc's own (models::Migrator), and its routes, served after
// authsvc's. serve() calls `routes` once on its own (the main) thread, before it listens,
// with the database, the clock and the table's checks (a Bearer row's handler is
// app::bearerHandler(checks, ...), as in app/Routes.cpp; the body rules are put first on
// every row it returns); the handlers then run on the threads their rows name, so
// what they use must be thread-safe and live as long as they do (capture it by shared_ptr).
struct Extension {
    std::vector<models::EmbeddedMigration> migrations;
    std::function<std::vector<Route>(models::Database&, const verify::Clock&, const RouteChecks&)>
        routes;
};

class KeyPoller;

class Application {
  public:
    Application(Config config, bool server, Extension extension = {});
    ~Application();

    // Runs until SIGTERM or SIGINT (which the caller has blocked in every thread, with
    // SIGHUP), then stops accepting, finishes in-flight requests and returns 0. SIGHUP
    // reloads the signing keys from the config file (a failed reload keeps them).
    int serve(const sigset_t& signals);
    int migrate(bool statusOnly);
    // The `user` commands: 0 on success; 1 with one "authsvc: ..." line on stderr otherwise.
    int addUser(const std::string& email, const std::string& password);
    int revokeUser(const std::string& email);
    int deleteUser(const std::string& email);
    // Sets the password and revokes every session of the user.
    int setPassword(const std::string& email, const std::string& password);
    // One line a user, by id: "ID EMAIL CREATED_AT" (RFC 3339 UTC), space-separated; at
    // most `limit` lines (stderr says when there are more).
    int listUsers(int limit);
    // `user role add|remove`: 0 also when nothing changed (the user already had the role,
    // or did not); 1 for an unknown email, an invalid role name, or a database failure.
    // Tokens show the change from the user's next login or refresh on.
    int changeRole(const std::string& email, const std::string& role, bool grant);

    // `user reset-link EMAIL`: prints a fresh password reset link (older links voided).
    int resetLink(const std::string& email);
    // `user mfa reset EMAIL`: removes the user's TOTP and recovery codes (operator recovery
    // of a lost authenticator); 0 also when there was none.
    int mfaReset(const std::string& email);
    // `mail status`: "queued N", "dead N", "oldest RFC3339|-" lines, then one line per dead
    // message (newest first, at most 20): "dead ID KIND: ERROR".
    int mailStatus();
    // `mail retry`: every dead message queued again; prints how many.
    int mailRetry();

    // `keys list|rotate|import|jwks` with jwt.key_store: database (docs/API.md, "Keys").
    int keysList();
    int keysRotate();
    int keysImport(const std::string& dir, const std::string& signingKid);
    int keysJwks();

  private:
    void reloadKeys();
    // jwt.key_store: database: waits (stoppable by SIGTERM/SIGINT) until a current key is
    // installed; the first instance creates it. An exit code when serve() must end.
    std::optional<int> awaitSigningKey(const sigset_t& signals);
    std::unique_ptr<KeyPoller> keyPoller_;  // jwt.key_store: database, while serving
    struct Parts;
    Config config_;
    Extension extension_;
    Logging logging_;
    std::unique_ptr<Parts> parts_;
};

}  // namespace authsvc::app
