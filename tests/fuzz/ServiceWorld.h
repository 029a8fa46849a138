// The model layer and controllers as the service wires them, for fuzz targets: a real
// AuthService over SQLite in a temporary directory (removed at exit), cheap argon2id, a
// manual clock, one registered account (kEmail, kPassword), a login throttle with the
// given limits bounded to kThrottleBytes per dimension, registrations unlimited, and the
// verifier protected routes use. Built once per process.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "../unit/support/ManualClock.h"
#include "controllers/AccountController.h"
#include "controllers/AuthController.h"
#include "controllers/OpsController.h"
#include "controllers/UserController.h"
#include "models/Database.h"
#include "models/Migrator.h"
#include "services/AccountService.h"
#include "services/AuthService.h"
#include "services/KeyRing.h"
#include "services/LoginThrottle.h"
#include "services/RegistrationLimit.h"
#include "verify/Clock.h"
#include "verify/Verifier.h"

namespace authsvc::fuzz {

inline const std::string kSecret = "fuzz-secret-0123456789abcdef0123456789abcdef";
inline const std::string kEmail = "fuzz@example.com";
inline const std::string kPassword = "correct horse battery";
// The clock's start: the Bearer seeds of corpus/http were signed by a TokenService with
// kSecret at this time (as those of corpus/bearer, see fuzz_bearer.cpp).
constexpr int64_t kStartMs = 1'800'000'000'000;

struct ServiceWorld {
    std::filesystem::path dir;
    verify::ManualClock clock{kStartMs};
    std::unique_ptr<models::Database> db;
    models::UserRepository users;
    models::RefreshTokenRepository tokens;
    models::PasswordHasher hasher{models::Argon2Params{1, 8}};
    models::KeyRing keys{models::KeyConfig{kSecret, "", ""}};
    models::TokenService tokenService{models::TokenSettings{"authsvc", "authsvc-clients", 900'000},
                                      keys, clock};
    verify::Verifier verifier{verify::VerifierOptions{"authsvc", "authsvc-clients"}, keys.source(),
                              clock};
    models::AuthObserver observer;
    static constexpr size_t kThrottleBytes = 256 * 1024;
    models::LoginThrottle throttle;
    models::RegistrationLimit registrations{0, clock};
    std::unique_ptr<models::AuthService> auth;
    std::unique_ptr<controllers::AuthController> authController;
    std::unique_ptr<controllers::UserController> userController;
    std::unique_ptr<models::AccountService> accounts;
    std::unique_ptr<controllers::AccountController> accountController;

    ServiceWorld(int perIpPerMinute, int perAccountPerMinute)
        : throttle(perIpPerMinute, perAccountPerMinute, clock, kThrottleBytes) {
        std::string tmpl =
            (std::filesystem::temp_directory_path() / "authsvc-fuzz-XXXXXX").string();
        if (!mkdtemp(tmpl.data())) std::abort();
        dir = tmpl;
        models::DatabaseSettings ds;
        ds.sqlitePath = (dir / "fuzz.db").string();
        ds.poolSize = 2;
        db = std::make_unique<models::Database>(ds);
        models::Migrator(*db, clock).migrate();
        models::AuthSettings s;
        s.successorKey = kSecret;
        auth = std::make_unique<models::AuthService>(*db, users, tokens, hasher, tokenService,
                                                     clock, s, observer);
        authController = std::make_unique<controllers::AuthController>(
            *auth, throttle, registrations, [](controllers::Throttled) {});
        userController = std::make_unique<controllers::UserController>(*auth);
        accounts = std::make_unique<models::AccountService>(*db, users, tokens, hasher, clock,
                                                            s.passwordMinLength, observer);
        accountController =
            std::make_unique<controllers::AccountController>(*auth, *accounts, throttle, [] {});
        if (!auth->registerUser(kEmail, kPassword)) std::abort();
    }
    ~ServiceWorld() {
        accountController.reset();
        accounts.reset();
        userController.reset();
        authController.reset();
        auth.reset();
        db.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
};

}  // namespace authsvc::fuzz
