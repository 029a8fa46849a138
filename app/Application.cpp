#include "app/Application.h"

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "app/KeyPoller.h"
#include "app/KeysCommand.h"
#include "app/Maintenance.h"
#include "app/OpenApiDocument.h"
#include "app/Routes.h"
#include "app/http/HttpServer.h"
#include "app/observability/Metrics.h"
#include "app/scheduling/DatabasePool.h"
#include "app/scheduling/HashingGovernor.h"
#include "app/scheduling/WorkerPool.h"
#include "common/JsonText.h"
#include "common/Validation.h"
#include "controllers/AccountController.h"
#include "controllers/AdminController.h"
#include "controllers/AuthController.h"
#include "controllers/KeysController.h"
#include "controllers/OpsController.h"
#include "controllers/RecoveryController.h"
#include "controllers/UserController.h"
#include "middleware/BodyChecks.h"
#include "middleware/ClientAddress.h"
#include "middleware/RequireAuth.h"
#include "models/Database.h"
#include "models/Migrator.h"
#include "services/AccountService.h"
#include "services/AuthService.h"
#include "services/DatabaseKeys.h"
#include "services/DatabaseLimitCounter.h"
#include "services/EmailVerificationService.h"
#include "services/KeyRing.h"
#include "services/LoginThrottle.h"
#include "services/MailSender.h"
#include "services/MailTransport.h"
#include "services/MfaService.h"
#include "services/RecoveryService.h"
#include "services/RegistrationLimit.h"
#include "services/UserAdminService.h"
#include "verify/Verifier.h"

namespace authsvc::app {

namespace {

models::DatabaseSettings databaseSettings(const DatabaseConfig& c) {
    models::DatabaseSettings s;
    s.dialect = c.backend == "postgresql" ? models::Dialect::Postgresql
                : c.backend == "mysql"    ? models::Dialect::Mysql
                                          : models::Dialect::Sqlite;
    s.sqlitePath = c.sqlitePath;
    s.postgresqlDsn = c.postgresqlDsn;
    s.postgresqlPreparedStatements = c.postgresqlPreparedStatements;
    s.mysqlDsn = c.mysqlDsn;
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
    using models::EmailVerification;
    const std::string& ev = c.auth.emailVerification;
    s.emailVerification = ev == "required"   ? EmailVerification::Required
                          : ev == "optional" ? EmailVerification::Optional
                                             : EmailVerification::Off;
    return s;
}

// The warning for a config file that holds a secret and that other users can read; "" when
// there is none. Group-readable is fine: the service's group may need to read it.
std::string configFileWarning(const Config& c) {
    if (c.secretsInFile.empty() || c.source == "defaults") return "";
    struct stat st {};
    if (::stat(c.source.c_str(), &st) != 0 || (st.st_mode & S_IROTH) == 0) return "";
    std::string keys;
    for (const auto& k : c.secretsInFile) keys += (keys.empty() ? "" : ", ") + k;
    return c.source + " holds a secret (" + keys +
           ") and every user of this machine may read the file: chmod o-r it, or move the "
           "secrets into the environment (AUTHSVC_JWT_SECRET, AUTHSVC_REFRESH_SECRET, "
           "AUTHSVC_DATABASE_POSTGRESQL_DSN, AUTHSVC_DATABASE_MYSQL_DSN; the package's "
           "/etc/authsvc/env)";
}

std::unique_ptr<models::MailTransport> mailTransport(const MailConfig& m) {
    if (m.transport == "smtp") {
        models::SmtpSettings s;
        s.url = m.smtpUrl;
        s.username = m.username;
        s.password = m.password;
        s.startTls = m.startTls == "off"             ? models::StartTls::Off
                     : m.startTls == "opportunistic" ? models::StartTls::Opportunistic
                                                     : models::StartTls::Required;
        s.timeout = m.timeout;
        return std::make_unique<models::SmtpMailTransport>(s);
    }
    return std::make_unique<models::FileMailTransport>(m.fileDir);
}

models::MailSettings mailSettings(const Config& c) {
    models::MailSettings s;
    s.from = c.mail.from;
    s.linkBaseUrl = c.mail.linkBaseUrl;
    s.templatesDir = c.mail.templatesDir;
    s.recoveryTtlMs = c.auth.recovery.ttl.count();
    s.maxAttempts = c.mail.maxAttempts;
    s.retryInitial = c.mail.retryInitial;
    // A lease outlasts the longest transport call, so no other sender takes a row while it
    // is being sent.
    s.lease = c.mail.timeout + std::chrono::milliseconds(30000);
    return s;
}

models::RecoverySettings recoverySettings(const Config& c) {
    models::RecoverySettings s;
    s.ttlMs = c.auth.recovery.ttl.count();
    s.perEmailPerHour = c.auth.recovery.perEmailPerHour;
    s.perIpPerHour = c.auth.recovery.perIpPerHour;
    s.passwordMinLength = c.auth.passwordMinLength;
    s.linkBaseUrl = c.mail.linkBaseUrl;
    return s;
}

// The sender's results become metrics and log lines (errors only: never a token, never a
// message). A database error repeated every round is logged once until it changes.
models::MailEvents mailEvents(Metrics& metrics, spdlog::logger& log) {
    auto lastError = std::make_shared<std::string>();
    models::MailEvents e;
    e.onResult = [&metrics, &log, lastError](const std::string& kind, const std::string& result,
                                             const std::string& error) {
        if (result == "error") {
            if (*lastError != error) log.warn("mail sender: {}", error);
            *lastError = error;
            return;
        }
        lastError->clear();
        metrics.mail(kind, result);
        if (result == "retry") log.warn("mail ({}) not delivered, will retry: {}", kind, error);
        if (result == "dead") {
            log.error("mail ({}) not delivered, giving up (authsvc mail retry): {}", kind, error);
        }
    };
    e.onDepth = [&metrics](const models::OutboxStatus& st) {
        metrics.outboxDepth(st.queued, st.dead);
    };
    return e;
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

}  // namespace

// Everything the commands need, in construction order (destroyed in reverse).
struct Application::Parts {
    Parts(const Config& c, std::shared_ptr<spdlog::logger> log,
          std::vector<models::EmbeddedMigration> extraMigrations)
        : db(databaseSettings(c.database)),
          migrator(db, clock, std::move(extraMigrations)),
          limitsInDatabase(c.auth.limitsStore == "database"),
          limits(limitsInDatabase ? static_cast<const models::LimitCounters&>(databaseLimits)
                                  : models::memoryLimitCounters()),
          hasher({static_cast<unsigned long long>(c.auth.argon2id.iterations),
                  size_t(c.auth.argon2id.memoryKib)}),
          keys(keyConfig(c.jwt)),
          tokens({c.jwt.issuer, c.jwt.audience, c.jwt.accessTtl.count()}, keys, clock),
          verifier({c.jwt.issuer, c.jwt.audience, c.jwt.leeway}, keys.source(), clock),
          observer(metrics, *log),
          auth(db, userRepo, refreshRepo, hasher, tokens, clock, authSettings(c), observer,
               c.refresh.acceptAccessToken ? &verifier : nullptr, &outboxRepo),
          accounts(db, userRepo, refreshRepo, hasher, clock, c.auth.passwordMinLength, observer),
          userAdmin(db, userRepo, auth, accounts),
          transport(mailTransport(c.mail)),
          mailSender(db, userRepo, outboxRepo, oneTimeRepo, *transport, clock, mailSettings(c),
                     mailEvents(metrics, *log)),
          recovery(
              db, userRepo, refreshRepo, outboxRepo, oneTimeRepo, hasher, clock,
              recoverySettings(c), observer, [this] { mailSender.wake(); }, limits),
          verification(
              db, userRepo, outboxRepo, oneTimeRepo, hasher, clock, c.auth.recovery.perEmailPerHour,
              c.auth.recovery.perIpPerHour, [this] { mailSender.wake(); }, limits) {
        if (c.auth.mfa.enabled) {
            models::MfaSettings ms;
            ms.encryptionKey = models::crypto::base64Decode(c.auth.mfa.encryptionKey).value();
            ms.issuer = c.auth.mfa.issuer;
            mfa = std::make_unique<models::MfaService>(db, userRepo, mfaRepo, hasher, auth, clock,
                                                       std::move(ms));
            auth.useSecondFactor(mfa.get());
        }
        if (c.jwt.keyStore == "database") {
            models::DatabaseKeySettings ks;
            ks.encryptionKey = models::crypto::base64Decode(c.jwt.keyEncryptionKey).value();
            ks.algorithm = c.jwt.rotationAlgorithm;
            ks.schedule = models::keyScheduleSettings(
                c.jwt.rotationPeriod.count(), c.jwt.keyPoll.count(), c.jwt.jwksMaxAge.count(),
                c.jwt.accessTtl.count(), c.jwt.leeway.count());
            ks.sharedSecret = c.jwt.secretGenerated ? "" : c.jwt.secret;
            databaseKeys = std::make_unique<models::DatabaseKeys>(db, signingKeyRepo, keys, clock,
                                                                  std::move(ks));
        }
    }

    verify::SystemClock clock;
    models::Database db;
    models::Migrator migrator;
    models::UserRepository userRepo;
    models::RefreshTokenRepository refreshRepo;
    models::MailOutboxRepository outboxRepo;
    models::OneTimeTokenRepository oneTimeRepo;
    // Where the limits count (auth.limits_store): this instance's memory or the database.
    models::LimitCounterRepository limitRepo;
    models::DatabaseLimitCounters databaseLimits{db, limitRepo};
    bool limitsInDatabase;
    const models::LimitCounters& limits;
    models::PasswordHasher hasher;
    models::KeyRing keys;
    models::TokenService tokens;
    verify::Verifier verifier;
    Metrics metrics;
    ObservingMetrics observer;
    models::AuthService auth;
    models::AccountService accounts;
    models::UserAdminService userAdmin;
    std::unique_ptr<models::MailTransport> transport;
    models::MailSender mailSender;
    models::RecoveryService recovery;
    models::EmailVerificationService verification;
    models::MfaRepository mfaRepo;
    std::unique_ptr<models::MfaService> mfa;  // null while auth.mfa.enabled is false
    models::SigningKeyRepository signingKeyRepo;
    std::unique_ptr<models::DatabaseKeys> databaseKeys;  // null unless jwt.key_store: database
};

Application::Application(Config config, bool server, Extension extension)
    : config_(std::move(config)),
      extension_(std::move(extension)),
      logging_(makeLogging(config_.log, server)) {
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
        parts_ = std::make_unique<Parts>(config_, logging_.logger, extension_.migrations);
    } catch (const verify::KeyError& e) {
        throw ConfigError(config_.source + ": jwt: " + e.what());
    }
    if (server) {
        if (auto w = configFileWarning(config_); !w.empty()) logging_.logger->warn("{}", w);
        for (const auto& w : parts_->keys.warnings()) logging_.logger->warn("{}", w);
        if (config_.mail.transport == "file") {
            logging_.logger->warn(
                "mail.transport is file: mail is NOT delivered, each message is written to {} "
                "(set mail.transport: smtp in production)",
                config_.mail.fileDir);
        }
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
    if (p.databaseKeys) {
        log.info("SIGHUP: jwt.key_store is database: the key store is polled now");
        if (keyPoller_) keyPoller_->wake();
        return;
    }
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
    keyPoller_.reset();
    parts_.reset();
    // The last owner of the logger: destroying it writes every line logged before.
    logging_.logger.reset();
}

int Application::serve(const sigset_t& signals) {
    auto& log = *logging_.logger;
    auto& p = *parts_;
    // Migrations are applied before the server listens. If the database cannot be reached,
    // the service starts anyway, reports not ready, and the maintenance thread retries.
    std::function<void()> checkpoint;
    if (p.db.dialect() == models::Dialect::Sqlite) {
        checkpoint = [&p] { p.db.checkpoint(models::Database::kCompleteLogAt); };
    }
    MaintenanceSchedule schedule;
    schedule.purgeInterval = config_.refresh.purgeInterval;
    Maintenance maintenance({[&p] { return p.migrator.migrate(); },
                             [&p](int64_t limit) {
                                 // Limit counters past their window in bounded batches too
                                 // (not families: not counted in their metric).
                                 for (int i = 0; p.limitsInDatabase && i < 20; ++i) {
                                     if (p.databaseLimits.purge(p.clock.nowMs(), limit) < limit)
                                         break;
                                 }
                                 return p.auth.purgeBatch(limit) +
                                        (p.mfa ? p.mfa->purgeExpired() : 0);
                             },
                             [&p](int64_t n) { p.metrics.purged(n); }, std::move(checkpoint),
                             [&p, &log] {
                                 if (auto a = p.auth.refreshDummyHash()) {
                                     log.info(
                                         "unknown emails now verify a dummy hash of argon2id "
                                         "m={} t={}, the stored hashes' most common",
                                         a->memoryKib, a->iterations);
                                 }
                             }},
                            schedule, log);
    const bool autoMigrate = config_.database.autoMigrate;
    maintenance.start(autoMigrate && !maintenance.migrateNow());
    if (p.databaseKeys) {
        keyPoller_ = std::make_unique<KeyPoller>(
            *p.databaseKeys, config_.jwt.keyPoll, log,
            [&p, &log] { log.info("signing keys now: {}", describeKeys(p.keys)); });
        if (auto exit = awaitSigningKey(signals)) return *exit;
        keyPoller_->start();
    }
    models::LoginThrottle throttle(config_.auth.loginRateLimit.perIpPerMinute,
                                   config_.auth.loginRateLimit.perAccountPerMinute, p.clock,
                                   p.limits);
    models::RegistrationLimit registrations(config_.auth.registerRateLimit.perIpPerHour, p.clock,
                                            p.limits);
    middleware::TrustedProxies trustedProxies(config_.server.trustedProxies);
    middleware::RequireAuth requireAuth(p.verifier,
                                        [&p](verify::Reason r) { p.metrics.tokenRejected(r); });
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
    controllers::AccountController accountController(p.auth, p.accounts, throttle,
                                                     [&p] { p.metrics.loginThrottled(); });
    controllers::OpsController opsController(
        [&p, &maintenance] { return maintenance.migrated() && p.db.ping(); },
        [&p] {
            p.metrics.dbConflictRetries(p.db.conflictRetries());
            const auto group = p.db.groupCommits();
            p.metrics.dbGroupCommits(group.batches, group.writes);
            return p.metrics.render();
        },
        openApiJson());
    controllers::AdminController adminController(p.userAdmin);
    controllers::RecoveryController recoveryController(p.recovery, p.verification, p.auth, throttle,
                                                       [&p] { p.metrics.loginThrottled(); });
    controllers::PagesController pagesController;
    const RouteChecks checks{std::make_shared<middleware::BodyRules>(config_.server.maxBodyBytes),
                             std::make_shared<middleware::RequireBearer>(requireAuth), p.auth};
    auto routes = routeTable(config_.routes, checks, authController, userController,
                             accountController, opsController, keysController, adminController);
    for (auto& r : recoveryRoutes(checks, recoveryController)) routes.push_back(std::move(r));
    for (auto& r : pageRoutes(checks, pagesController)) routes.push_back(std::move(r));
    std::optional<controllers::MfaController> mfaController;
    if (p.mfa) {
        mfaController.emplace(*p.mfa, p.auth, throttle, [&p] { p.metrics.loginThrottled(); });
        for (auto& r : mfaRoutes(checks, *mfaController)) routes.push_back(std::move(r));
    }
    const models::OAuthClients oauthClients(config_.oauth.clients);
    controllers::OAuthController oauthController(authController, p.auth, p.accounts, p.verifier,
                                                 oauthClients);
    for (auto& r : oauthRoutes(config_.server.maxBodyBytes, oauthController)) {
        routes.push_back(std::move(r));
    }
    controllers::DiscoveryController discoveryController(config_.server.publicUrl,
                                                         config_.jwt.jwksMaxAge.count() / 1000);
    if (auto why =
            controllers::discoveryUnavailable(config_.jwt.issuer, config_.server.publicUrl)) {
        logging_.logger->info(
            "OAuth discovery (/.well-known/oauth-authorization-server) is "
            "off: {}",
            *why);
    } else {
        for (auto& r : discoveryRoutes(checks, discoveryController)) routes.push_back(std::move(r));
    }
    if (extension_.routes) {
        for (auto& route : extension_.routes(p.db, p.clock, checks)) {
            route.handler.admitFirst(checks.body);  // as on every row of the table
            routes.push_back(std::move(route));
        }
    }

    // SCHED_BATCH and the group commit's drain after each job on SQLite (DatabasePool.h).
    std::unique_ptr<WorkerPool> databasePool =
        makeDatabasePool(p.db, "db-worker", config_.server.workerThreads, 4096);
    // Background priority, and SCHED_IDLE while the reactors are busy (HashingGovernor): a
    // login storm must not slow token verification (README, deployment).
    WorkerPool hashingPool("hash-worker", config_.auth.hashThreads, 1024,
                           WorkerPool::Priority::Background);
    ReactorThreads reactors;
    HashingGovernor governor(hashingPool, reactors, logging_.logger);
    governor.start();
    auto dispatcher = std::make_shared<Dispatcher>(
        std::move(routes),
        DispatcherDeps{p.metrics, logging_.logger, *databasePool, hashingPool,
                       [&reactors] { reactors.addCurrentThread(); }, trustedProxies});
    ServerOptions serverOptions;
    serverOptions.host = config_.server.host;
    serverOptions.port = config_.server.port;
    serverOptions.threads = config_.server.threads;
    serverOptions.maxBodyBytes = config_.server.maxBodyBytes;
    serverOptions.maxHeaderBytes = config_.server.maxHeaderBytes;
    serverOptions.maxConnections = size_t(config_.server.maxConnections);
    serverOptions.maxConnectionsPerIp = size_t(config_.server.maxConnectionsPerIp);
    serverOptions.exemptAddresses = trustedProxies;
    serverOptions.maxUnwrittenBytesPerConnection =
        size_t(config_.server.maxUnwrittenBytesPerConnection);
    serverOptions.maxUnwrittenBytes = size_t(config_.server.maxUnwrittenBytes);
    serverOptions.warn = [&log](const std::string& line) { log.warn("{}", line); };
    HttpServer server(std::move(serverOptions), dispatcher);
    try {
        server.start();
    } catch (const std::exception& e) {
        log.error("cannot listen on {}:{}: {}", config_.server.host, config_.server.port, e.what());
        return 1;
    }
    log.info("authsvc {} listening on {}:{} ({} backend, config {})", AUTHSVC_VERSION,
             config_.server.host, server.port(), config_.database.backend, config_.source);
    log.info("signing keys: {}", describeKeys(p.keys));
    log.info("connections: at most {} ({} per client address)", server.caps().maxConnections,
             server.caps().maxConnectionsPerAddress);
    p.mailSender.start();
    log.flush();  // now rather than with the next batch: scripts wait for this line

    int sig = 0;
    while (sigwait(&signals, &sig) == 0 && sig == SIGHUP) reloadKeys();
    log.info("received signal {}: draining", sig);
    dispatcher->startDraining();
    p.mailSender.stop();
    if (keyPoller_) keyPoller_->stop();
    governor.stop();
    hashingPool.stop();
    databasePool->stop();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let reactors flush
    server.stop();
    log.info("stopped");
    return 0;
}

std::optional<int> Application::awaitSigningKey(const sigset_t& signals) {
    auto& log = *logging_.logger;
    auto& p = *parts_;
    std::string waitingFor;
    for (;;) {
        try {
            const models::KeySync done = p.databaseKeys->sync();
            for (const auto& step : done.steps) log.info("signing keys: {}", step);
            if (!done.currentKid.empty()) return std::nullopt;
            if (waitingFor != "creator") {
                log.info("signing keys: waiting for the instance that creates the first key");
            }
            waitingFor = "creator";
        } catch (const verify::KeyError& e) {
            log.error("signing keys: {}", e.what());
            log.flush();
            return 1;
        } catch (const std::exception& e) {
            if (waitingFor != e.what()) {
                log.warn("signing keys: waiting for the key store: {}", e.what());
            }
            waitingFor = e.what();
        }
        // Stoppable while it waits: SIGTERM and SIGINT end the wait, SIGHUP is ignored.
        const timespec pause{0, 200 * 1000 * 1000};
        const int sig = sigtimedwait(&signals, nullptr, &pause);
        if (sig == SIGTERM || sig == SIGINT) {
            log.info("received signal {} while waiting for a signing key: stopped", sig);
            return 0;
        }
    }
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

namespace {

// The frame of every `user` command: pending migrations are applied first; whatever is
// thrown becomes "authsvc: user <name> failed: <what>" and exit code 1.
template <typename F>
int userCommand(models::Migrator& migrator, const char* name, F&& f) {
    try {
        migrator.migrate();
        return f();
    } catch (const std::exception& e) {
        std::cerr << "authsvc: user " << name << " failed: " << e.what() << "\n";
        return 1;
    }
}

// An expected failure of a `user` command: its message on stderr, exit code 1.
int refused(const models::Error& error) {
    std::cerr << "authsvc: " << error.message << "\n";
    return 1;
}

}  // namespace

int Application::addUser(const std::string& email, const std::string& password) {
    auto& p = *parts_;
    return userCommand(p.migrator, "add", [&] {
        auto user = p.userAdmin.addUser(email, password);
        if (!user) return refused(user.error());
        std::cout << "created user " << user->id << " " << user->email << "\n";
        return 0;
    });
}

int Application::revokeUser(const std::string& email) {
    auto& p = *parts_;
    return userCommand(p.migrator, "revoke", [&] {
        auto user = p.userAdmin.revokeSessions(email);
        if (!user) return refused(user.error());
        std::cout << "revoked every session of " << user->email << "\n";
        return 0;
    });
}

int Application::deleteUser(const std::string& email) {
    auto& p = *parts_;
    return userCommand(p.migrator, "delete", [&] {
        auto user = p.userAdmin.deleteUser(email);
        if (!user) return refused(user.error());
        std::cout << "deleted user " << user->id << " " << user->email << "\n";
        return 0;
    });
}

int Application::setPassword(const std::string& email, const std::string& password) {
    auto& p = *parts_;
    return userCommand(p.migrator, "set-password", [&] {
        auto revoked = p.userAdmin.setPassword(email, password);
        if (!revoked) return refused(revoked.error());
        std::cout << "password of " << models::normalizeEmail(email) << " set; revoked " << *revoked
                  << " session(s)\n";
        return 0;
    });
}

int Application::listUsers(int limit) {
    auto& p = *parts_;
    return userCommand(p.migrator, "list", [&] {
        // The admins' pages, one after another, until `limit` users are out.
        int64_t after = 0;
        for (int64_t left = limit; left > 0;) {
            auto page = p.userAdmin.listUsers(
                after, std::min(left, models::UserAdminService::kMaxPageSize));
            if (!page) return refused(page.error());
            for (const auto& listed : page->users) {
                const auto& u = listed.user;
                std::cout << u.id << " " << u.email << " " << models::rfc3339Utc(u.createdAt)
                          << "\n";
            }
            left -= int64_t(page->users.size());
            if (!page->next) return 0;
            after = *page->next;
        }
        std::cerr << "authsvc: more users than --limit " << limit << "\n";
        return 0;
    });
}

int Application::resetLink(const std::string& email) {
    auto& p = *parts_;
    return userCommand(p.migrator, "reset-link", [&] {
        auto link = p.recovery.resetLink(email);
        if (!link) return refused(link.error());
        std::cout << *link << "\n";
        return 0;
    });
}

int Application::mfaReset(const std::string& email) {
    auto& p = *parts_;
    return userCommand(p.migrator, "mfa reset", [&] {
        auto user = p.auth.userForEmail(email);
        if (!user) return refused(user.error());
        const bool had =
            p.db.write([&](models::Connection& c) { return p.mfaRepo.removeTotp(c, user->id); });
        std::cout << (had ? "removed the second factor of " : "no second factor to remove for ")
                  << user->email << "\n";
        return 0;
    });
}

int Application::mailStatus() {
    auto& p = *parts_;
    try {
        p.migrator.migrate();
        auto [st, dead] = p.db.read([&](models::Connection& s) {
            return std::make_pair(p.outboxRepo.status(s), p.outboxRepo.deadErrors(s, 20));
        });
        std::cout << "queued " << st.queued << "\n"
                  << "dead " << st.dead << "\n"
                  << "oldest "
                  << (st.oldestQueuedMs ? models::rfc3339Utc(*st.oldestQueuedMs / 1000) : "-")
                  << "\n";
        for (const auto& [id, what] : dead) std::cout << "dead " << id << " " << what << "\n";
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "authsvc: mail status failed: " << e.what() << "\n";
        return 1;
    }
}

int Application::mailRetry() {
    auto& p = *parts_;
    try {
        p.migrator.migrate();
        const int64_t now = p.clock.nowMs();
        const int64_t n =
            p.db.write([&](models::Connection& s) { return p.outboxRepo.retryDead(s, now); });
        std::cout << "queued " << n << " dead message(s) again\n";
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "authsvc: mail retry failed: " << e.what() << "\n";
        return 1;
    }
}

int Application::changeRole(const std::string& email, const std::string& role, bool grant) {
    auto& p = *parts_;
    const char* command = grant ? "user role add" : "user role remove";
    try {
        p.migrator.migrate();
        auto changed =
            grant ? p.userAdmin.grantRole(email, role) : p.userAdmin.removeRole(email, role);
        if (!changed) {
            std::cerr << "authsvc: " << changed.error().message << "\n";
            return 1;
        }
        const std::string who = models::normalizeEmail(email);
        if (grant) {
            std::cout << (*changed ? "granted role " + role + " to " + who
                                   : who + " already has role " + role)
                      << "\n";
        } else {
            std::cout << (*changed ? "removed role " + role + " from " + who
                                   : who + " does not have role " + role)
                      << "\n";
        }
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "authsvc: " << command << " failed: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace authsvc::app

namespace authsvc::app {

namespace {

// The frame of the `keys` commands on the key store: migrations first; a failure becomes
// "authsvc: keys <name>: <what>" and exit code 1.
template <typename F>
int keysCommand(models::Migrator& migrator, models::DatabaseKeys* keys, const char* name, F&& f) {
    try {
        if (!keys) {
            throw std::runtime_error(
                "needs jwt.key_store: database (the keys are in files: "
                "jwt.keys_dir)");
        }
        migrator.migrate();
        return f(*keys);
    } catch (const std::exception& e) {
        std::cerr << "authsvc: keys " << name << ": " << e.what() << "\n";
        return 1;
    }
}

std::string timeOrDash(const std::optional<int64_t>& ms) {
    return ms ? models::rfc3339Utc(*ms / 1000) : "-";
}

}  // namespace

int Application::keysList() {
    auto& p = *parts_;
    return keysCommand(p.migrator, p.databaseKeys.get(), "list", [](models::DatabaseKeys& keys) {
        for (const auto& k : keys.list()) {
            const auto& r = k.row;
            // Retired: when it was; current: when it is planned to be; next: "-".
            const std::string retires = r.state == "retired"   ? timeOrDash(r.retiredMs)
                                        : r.state == "current" ? timeOrDash(k.nextStepMs)
                                                               : std::string("-");
            std::cout << r.kid << " " << r.algorithm << " " << r.state << " "
                      << timeOrDash(r.createdMs) << " " << timeOrDash(r.promotedMs) << " "
                      << retires << "\n";
        }
        return 0;
    });
}

int Application::keysRotate() {
    auto& p = *parts_;
    return keysCommand(p.migrator, p.databaseKeys.get(), "rotate", [](models::DatabaseKeys& keys) {
        std::cout << keys.rotate() << "\n";
        return 0;
    });
}

int Application::keysImport(const std::string& dir, const std::string& signingKid) {
    auto& p = *parts_;
    return keysCommand(p.migrator, p.databaseKeys.get(), "import", [&](models::DatabaseKeys& keys) {
        for (const auto& line : keys.importDir(dir, signingKid)) std::cout << line << "\n";
        return 0;
    });
}

int Application::keysJwks() {
    auto& p = *parts_;
    return keysCommand(p.migrator, p.databaseKeys.get(), "jwks", [](models::DatabaseKeys& keys) {
        nlohmann::json doc = {{"keys", nlohmann::json::array()}};
        for (const auto& k : keys.list()) {
            doc["keys"].push_back(nlohmann::json::parse(k.row.publicJwk));
        }
        std::cout << doc.dump() << "\n";
        return 0;
    });
}

}  // namespace authsvc::app
