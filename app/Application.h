// Application: the composition root. Builds everything from the Config by constructor
// (database -> repositories -> services -> controllers -> routes -> server), owns
// their lifetimes, and runs the commands of the CLI. No globals, no singletons.
// Used from the main thread only.
#pragma once

#include <memory>
#include <string>

#include "app/Config.h"
#include "app/Logging.h"

namespace authsvc::app {

class Application {
  public:
    Application(Config config, bool server);
    ~Application();

    // Runs until SIGTERM or SIGINT (which the caller has blocked in every thread, with
    // SIGHUP), then stops accepting, finishes in-flight requests and returns 0. SIGHUP
    // reloads the signing keys from the config file (a failed reload keeps them).
    int serve(const sigset_t& signals);
    int migrate(bool statusOnly);
    int addUser(const std::string& email, const std::string& password);
    int revokeUser(const std::string& email);
    // `user role add|remove`: 0 also when nothing changed (the user already had the role,
    // or did not); 1 for an unknown email, an invalid role name, or a database failure.
    // Tokens show the change from the user's next login or refresh on.
    int changeRole(const std::string& email, const std::string& role, bool grant);

  private:
    void reloadKeys();
    struct Parts;
    Config config_;
    Logging logging_;
    std::unique_ptr<Parts> parts_;
};

}  // namespace authsvc::app
