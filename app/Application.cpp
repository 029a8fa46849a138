#include "app/Application.h"

#include <signal.h>

#include <algorithm>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <thread>

#include "app/HttpServer.h"
#include "app/KeysCommand.h"
#include "app/Metrics.h"
#include "app/OpenApiDocument.h"
#include "app/Routes.h"
#include "app/WorkerPool.h"
#include "controllers/AuthController.h"
#include "controllers/KeysController.h"
#include "controllers/OpsController.h"
#include "controllers/UserController.h"
#include "middleware/ClientAddress.h"
#include "middleware/LoginThrottle.h"
#include "middleware/RegistrationLimit.h"
#include "middleware/RequireAuth.h"
#include "models/AuthService.h"
#include "models/Database.h"
#include "models/KeyRing.h"
#include "models/Migrator.h"
#include "verify/Verifier.h"

namespace authsvc::app {

namespace {

models::DatabaseSettings databaseSettings(const DatabaseConfig& c) {
    models::DatabaseSettings s;
    s.dialect = c.backend == "postgresql" ? models::Dialect::Postgresql : models::Dialect::Sqlite;
    s.sqlitePath = c.sqlitePath;
    s.postgresqlDsn = c.postgresqlDsn;
    s.poolSize = c.poolSize;
    s.timeout = c.timeout;
    return s;
}

models::AuthSettings authSettings(const Config& c) {
    models::AuthSettings s;
    s.registrationOpen = c.auth.registrationOpen;
    s.passwordMinLength = c.auth.passwordMinLength;
    s.refreshTtlMs = c.refresh.ttl.count();
    s.reuseGraceMs = c.refresh.reuseGrace.count();
    s.sliding = c.refresh.sliding;
    s.successorKey = c.refresh.secret;
    return s;
}

// Security events become metrics and log lines (never with token material).
class ObservingMetrics : public models::AuthObserver {
  public:
    ObservingMetrics(Metrics& m, spdlog::logger& log) : m_(m), log_(log) {}
    void onLogin(bool success) override { m_.login(success); }
    void onRefresh(models::RefreshOutcome o) override { m_.refresh(o); }
    void onReuseDetected(const std::string& familyId, int64_t userId) override {
        log_.warn("refresh token reuse detected: family {} of user {} revoked", familyId, userId);
    }
    void onFamiliesRevoked(int64_t n, const std::string& reason) override {
        m_.familiesRevoked(reason, n);
    }

  private:
    Metrics& m_;
    spdlog::logger& log_;
};

// Background upkeep on its own thread: applies pending migrations once the database is
// reachable (when auto_migrate could not at start-up), then deletes expired and
// long-revoked refresh families every purge interval, in bounded batches, and (SQLite)
// checkpoints the write-ahead log every 100 ms, off the request threads.
class Maintenance {
  public:
    Maintenance(models::Migrator& migrator, bool migrate, models::Database& db,
                models::AuthService& auth, Metrics& metrics, spdlog::logger& log,
                Millis purgeInterval)
        : migrator_(migrator),
          db_(db),
          auth_(auth),
          metrics_(metrics),
          log_(log),
          purgeInterval_(purgeInterval),
          migrated_(!migrate) {
        thread_ = std::thread([this] { run(); });
    }
    ~Maintenance() {
        {
            std::lock_guard<std::mutex> lock(mu_);
            stop_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }
    // False until the schema is known to be up to date.
    bool migrated() const { return migrated_; }

  private:
    static constexpr int64_t kBatch = 500;
    static constexpr int kMaxBatchesPerTick = 20;
    static constexpr Millis kMigrateRetry{1000};
    // Rotations write ~30k log frames per second at full speed: checkpointing every 100 ms
    // keeps each checkpoint short and the log far below its bound
    // (Database::kWalAutoCheckpointPages), past which a commit would checkpoint by itself.
    // The writers are stopped to complete the log only once it holds
    // Database::kCompleteLogAt frames (every ~0.3 s at full speed): that step's fsyncs
    // left the core idle 20% of the time when it ran on every tick.
    static constexpr Millis kCheckpointInterval{100};

    void migrateOnce() {
        try {
            int n = migrator_.migrate();
            if (n > 0) log_.info("applied {} migration(s)", n);
            migrated_ = true;
        } catch (const std::exception& e) {
            log_.warn("database not ready, migrations pending: {}", e.what());
        }
    }

    void purge() {
        try {
            for (int i = 0; i < kMaxBatchesPerTick; ++i) {
                int64_t n = auth_.purgeBatch(kBatch);
                metrics_.purged(n);
                if (n < kBatch) break;
            }
        } catch (const std::exception& e) {
            log_.warn("purge of expired refresh families failed: {}", e.what());
        }
    }

    void checkpoint() {
        try {
            db_.checkpoint(models::Database::kCompleteLogAt);
        } catch (const std::exception& e) {
            log_.warn("checkpoint of the write-ahead log failed: {}", e.what());
        }
    }

    void run() {
        std::unique_lock<std::mutex> lock(mu_);
        if (!migrated_) {
            lock.unlock();
            migrateOnce();
            lock.lock();
        }
        const bool sqlite = db_.dialect() == models::Dialect::Sqlite;
        auto nextPurge = std::chrono::steady_clock::now() + purgeInterval_;
        auto nextCheckpoint = std::chrono::steady_clock::now() + kCheckpointInterval;
        while (!stop_) {
            auto wakeAt = migrated_ ? nextPurge : std::chrono::steady_clock::now() + kMigrateRetry;
            if (sqlite) wakeAt = std::min(wakeAt, nextCheckpoint);
            if (cv_.wait_until(lock, wakeAt, [this] { return stop_; })) break;
            lock.unlock();
            const auto now = std::chrono::steady_clock::now();
            if (sqlite && now >= nextCheckpoint) {
                checkpoint();
                nextCheckpoint = std::chrono::steady_clock::now() + kCheckpointInterval;
            }
            if (!migrated_) {
                migrateOnce();
            } else if (now >= nextPurge) {
                purge();
                nextPurge = std::chrono::steady_clock::now() + purgeInterval_;
            }
            lock.lock();
        }
    }

    models::Migrator& migrator_;
    models::Database& db_;
    models::AuthService& auth_;
    Metrics& metrics_;
    spdlog::logger& log_;
    Millis purgeInterval_;
    std::atomic<bool> migrated_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace

// Everything the commands need, in construction order (destroyed in reverse).
struct Application::Parts {
    explicit Parts(const Config& c, std::shared_ptr<spdlog::logger> log)
        : db(databaseSettings(c.database)),
          migrator(db, clock),
          hasher({static_cast<unsigned long long>(c.auth.argon2id.iterations),
                  size_t(c.auth.argon2id.memoryKib)}),
          keys(keyConfig(c.jwt)),
          tokens({c.jwt.issuer, c.jwt.audience, c.jwt.accessTtl.count()}, keys, clock),
          verifier({c.jwt.issuer, c.jwt.audience, c.jwt.leeway}, keys.source(), clock),
          observer(metrics, *log),
          auth(db, userRepo, refreshRepo, hasher, tokens, clock, authSettings(c), observer) {}

    verify::SystemClock clock;
    models::Database db;
    models::Migrator migrator;
    models::UserRepository userRepo;
    models::RefreshTokenRepository refreshRepo;
    models::PasswordHasher hasher;
    models::KeyRing keys;
    models::TokenService tokens;
    verify::Verifier verifier;
    Metrics metrics;
    ObservingMetrics observer;
    models::AuthService auth;
};

Application::Application(Config config, bool server)
    : config_(std::move(config)), logging_(makeLogging(config_.log, server)) {
    if (config_.jwt.secretGenerated && server) {
        logging_.logger->warn(
            "jwt.secret is empty: using a random secret for this run only. Tokens will not "
            "survive a restart and no other instance or service can verify them. Set "
            "AUTHSVC_JWT_SECRET (at least 32 bytes) in production.");
    }
    if (config_.refresh.secretGenerated && !config_.jwt.secretGenerated && server) {
        logging_.logger->warn(
            "refresh.secret is empty and there is no jwt.secret: refresh successors use a "
            "random key for this run only, so a retried refresh fails across restarts and "
            "instances. Set AUTHSVC_REFRESH_SECRET (at least 32 bytes) in production.");
    }
    try {
        parts_ = std::make_unique<Parts>(config_, logging_.logger);
    } catch (const verify::KeyError& e) {
        throw ConfigError(config_.source + ": jwt: " + e.what());
    }
    if (server) {
        for (const auto& w : parts_->keys.warnings()) logging_.logger->warn("{}", w);
        for (const auto& path : parts_->db.filesReadableByOthers()) {
            logging_.logger->warn(
                "{} is readable by other users of this machine (it holds password hashes and "
                "refresh token hashes): chmod 600 it and its -wal and -shm files",
                path);
        }
    }
}

void Application::reloadKeys() {
    auto& log = *logging_.logger;
    auto& p = *parts_;
    try {
        Config fresh = loadConfig(config_.source == "defaults" ? "" : config_.source);
        // A secret generated at start stays: reloading must not end this run's tokens.
        if (fresh.jwt.secretGenerated) fresh.jwt.secret = config_.jwt.secret;
        p.keys.reload(keyConfig(fresh.jwt));
        config_.jwt.keysDir = fresh.jwt.keysDir;
        config_.jwt.signingKid = fresh.jwt.signingKid;
        config_.jwt.secret = fresh.jwt.secret;
        for (const auto& w : p.keys.warnings()) log.warn("{}", w);
        p.metrics.keyReload(true);
        log.info("signing keys reloaded: {}", describeKeys(p.keys));
    } catch (const std::exception& e) {
        p.metrics.keyReload(false);
        log.error("signing keys not reloaded, the current keys stay in force: {}", e.what());
    }
}

Application::~Application() {
    parts_.reset();
    // The last owner of the logger: destroying it writes every line logged before.
    logging_.logger.reset();
}

int Application::serve(const sigset_t& signals) {
    auto& log = *logging_.logger;
    auto& p = *parts_;
    // Migrations are applied before the server listens. If the database cannot be reached,
    // the service starts anyway, reports not ready, and the maintenance thread retries
    // every second.
    bool migrationsPending = config_.database.autoMigrate;
    if (migrationsPending) {
        try {
            int n = p.migrator.migrate();
            if (n > 0) log.info("applied {} migration(s)", n);
            migrationsPending = false;
        } catch (const std::exception& e) {
            log.warn("database not ready at start-up, migrations pending: {}", e.what());
        }
    }
    Maintenance maintenance(p.migrator, migrationsPending, p.db, p.auth, p.metrics, log,
                            config_.refresh.purgeInterval);
    middleware::LoginThrottle throttle(config_.auth.loginRateLimit.perIpPerMinute,
                                       config_.auth.loginRateLimit.perAccountPerMinute, p.clock);
    middleware::RegistrationLimit registrations(config_.auth.registerRateLimit.perIpPerHour,
                                                p.clock);
    middleware::TrustedProxies trustedProxies(config_.server.trustedProxies);
    middleware::RequireAuth requireAuth(p.verifier);
    controllers::KeysController keysController(p.keys, config_.jwt.jwksMaxAge.count() / 1000);
    controllers::AuthController authController(p.auth, throttle, registrations,
                                               [&p](controllers::Throttled which) {
                                                   if (which == controllers::Throttled::Login) {
                                                       p.metrics.loginThrottled();
                                                   } else {
                                                       p.metrics.registrationThrottled();
                                                   }
                                               });
    controllers::UserController userController(p.auth);
    controllers::OpsController opsController(
        [&p, &maintenance] { return maintenance.migrated() && p.db.ping(); },
        [&p] { return p.metrics.render(); }, openApiJson());
    auto routes =
        routeTable(config_.routes, authController, userController, opsController, keysController);

    WorkerPool databasePool("db-worker", config_.server.workerThreads, 4096);
    // Background priority, and SCHED_IDLE while the reactors are busy (HashingGovernor): a
    // login storm must not slow token verification (README, deployment).
    WorkerPool hashingPool("hash-worker", config_.auth.hashThreads, 1024,
                           WorkerPool::Priority::Background);
    ReactorThreads reactors;
    HashingGovernor governor(hashingPool, reactors, logging_.logger);
    governor.start();
    auto dispatcher = std::make_shared<Dispatcher>(
        std::move(routes),
        DispatcherDeps{requireAuth, p.metrics, logging_.logger, databasePool, hashingPool, reactors,
                       config_.server.maxBodyBytes, trustedProxies});
    HttpServer server({config_.server.host, config_.server.port, config_.server.threads,
                       config_.server.maxBodyBytes},
                      dispatcher);
    try {
        server.start();
    } catch (const std::exception& e) {
        log.error("cannot listen on {}:{}: {}", config_.server.host, config_.server.port, e.what());
        return 1;
    }
    log.info("authsvc {} listening on {}:{} ({} backend, config {})", AUTHSVC_VERSION,
             config_.server.host, server.port(), config_.database.backend, config_.source);
    log.info("signing keys: {}", describeKeys(p.keys));
    log.flush();  // now rather than with the next batch: scripts wait for this line

    int sig = 0;
    while (sigwait(&signals, &sig) == 0 && sig == SIGHUP) reloadKeys();
    log.info("received signal {}: draining", sig);
    dispatcher->startDraining();
    governor.stop();
    hashingPool.stop();
    databasePool.stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let reactors flush
    server.stop();
    log.info("stopped");
    return 0;
}

int Application::migrate(bool statusOnly) {
    auto& p = *parts_;
    try {
        if (!statusOnly) {
            int n = p.migrator.migrate();
            std::cout << "applied " << n << " migration(s)\n";
        }
        for (const auto& m : p.migrator.status()) {
            std::cout << (m.applied ? "applied  " : "pending  ") << m.name << "\n";
        }
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "authsvc: migrate failed: " << e.what() << "\n";
        return 1;
    }
}

int Application::addUser(const std::string& email, const std::string& password) {
    auto& p = *parts_;
    try {
        p.migrator.migrate();
        auto user = p.auth.registerUser(email, password, /*operatorOverride=*/true);
        if (!user) {
            std::cerr << "authsvc: " << user.error().message << "\n";
            return 1;
        }
        std::cout << "created user " << user->id << " " << user->email << "\n";
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "authsvc: user add failed: " << e.what() << "\n";
        return 1;
    }
}

int Application::revokeUser(const std::string& email) {
    auto& p = *parts_;
    try {
        p.migrator.migrate();
        auto user = p.auth.userForEmail(email);
        if (!user) {
            std::cerr << "authsvc: " << user.error().message << "\n";
            return 1;
        }
        p.auth.logoutAll(user->id);
        std::cout << "revoked every session of " << user->email << "\n";
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "authsvc: user revoke failed: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace authsvc::app
