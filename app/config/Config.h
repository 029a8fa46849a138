// Config: the typed configuration, parsed once at start-up from config.yaml and the
// AUTHSVC_<SECTION>_<KEY> environment variables. The only user of yaml-cpp.
// loadConfig() throws ConfigError with one line naming the key and the file.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/IpAddress.h"
#include "services/OAuthClients.h"

namespace authsvc::app {

using Millis = std::chrono::milliseconds;

struct ServerConfig {
    std::string host = "0.0.0.0";
    int port = 8080;
    int threads = 2;
    int64_t maxBodyBytes = 16384;
    int64_t maxHeaderBytes = 16384;  // request line and header fields
    int workerThreads = 4;
    // Peers whose X-Forwarded-For names the client (middleware::TrustedProxies).
    std::vector<models::Cidr> trustedProxies;
    int64_t maxConnections = 0;         // 0: the descriptor limit less a reserve
    int64_t maxConnectionsPerIp = 256;  // 0: no cap; trusted proxies are not capped
    int64_t maxUnwrittenBytesPerConnection = 256 * 1024;  // answers not yet taken by the socket
    int64_t maxUnwrittenBytes = 64 * 1024 * 1024;         // all connections together; 0: none
    // Where clients reach this service (https://auth.example.com): the base of links in
    // mails. Empty: http://<host>:<port> (not usable with mail.transport smtp).
    std::string publicUrl;
};

struct DatabaseConfig {
    std::string backend = "sqlite";
    std::string sqlitePath = "data/authsvc.db";
    std::string postgresqlDsn = "host=127.0.0.1 port=5432 dbname=authsvc user=authsvc";
    // false: no named statement on the server (PgBouncer in transaction mode: docs/API.md)
    bool postgresqlPreparedStatements = true;
    std::string mysqlDsn = "host=127.0.0.1 port=3306 db=authsvc user=authsvc";  // SOCI's form
    int poolSize = 8;
    bool autoMigrate = true;
    Millis timeout{5000};  // busy timeout and the longest wait for a pooled connection
};

struct JwtConfig {
    std::string secret;            // HS256; empty after loadConfig() only beside keys_dir
    bool secretGenerated = false;  // true when it was empty without keys_dir: random per start
    std::string keysDir;           // <kid>.pem files; empty: HS256 only
    std::string signingKid;        // required with keysDir
    Millis jwksMaxAge{5 * 60 * 1000};
    std::string issuer = "authsvc";
    std::string audience = "authsvc-clients";
    Millis accessTtl{15 * 60 * 1000};
    Millis leeway{30 * 1000};
    // Where the signing keys live: "files" (keys_dir, SIGHUP) or "database" (sealed under
    // keyEncryptionKey, rotated every rotationPeriod, polled every keyPoll).
    std::string keyStore = "files";
    std::string keyEncryptionKey;  // base64 of 32 bytes; required with keyStore database
    Millis keyPoll{10 * 1000};
    Millis rotationPeriod{30LL * 24 * 3600 * 1000};
    std::string rotationAlgorithm = "ES256";
};

struct RefreshConfig {
    // The successor key; never empty after loadConfig(). Required (and not jwt.secret's
    // value) when jwt.secret is set.
    std::string secret;
    bool secretGenerated = false;  // true when random per start (no jwt.secret either)
    Millis ttl{14LL * 24 * 3600 * 1000};
    Millis reuseGrace{10 * 1000};
    bool sliding = false;
    Millis purgeInterval{10 * 60 * 1000};
    // The seed's clients: POST /refresh-token {"token": <access token>} renews a still-valid
    // access token of a live session (weaker: a stolen access token renews until the
    // session ends).
    bool acceptAccessToken = false;
};

struct Argon2Config {
    int memoryKib = 19456;
    int iterations = 2;
};

struct RateLimitConfig {
    int perIpPerMinute = 20;
    int perAccountPerMinute = 5;
};

struct RegisterRateLimitConfig {
    int perIpPerHour = 20;  // 0: no limit
};

// Password recovery (POST /api/password/forgot and /reset).
struct RecoveryConfig {
    Millis ttl{30 * 60 * 1000};
    int perEmailPerHour = 3;  // 0: no limit
    int perIpPerHour = 20;    // 0: no limit
};

// The second factor, TOTP (auth.mfa; services/MfaService).
struct MfaConfig {
    bool enabled = false;
    std::string encryptionKey;       // base64 of 32 bytes; required when enabled
    std::string issuer = "authsvc";  // the name authenticator apps show
};

struct AuthConfig {
    bool registrationOpen = true;
    int passwordMinLength = 8;
    Argon2Config argon2id;
    RateLimitConfig loginRateLimit;
    RegisterRateLimitConfig registerRateLimit;
    int hashThreads = 2;
    RecoveryConfig recovery;
    std::string emailVerification = "off";  // off | optional | required
    MfaConfig mfa;
    std::string limitsStore = "memory";  // memory | database: where the limits count
};

// The mail outbox's sender (services/MailSender).
struct MailConfig {
    std::string transport = "file";  // file | smtp
    std::string fileDir = "data/mail";
    std::string smtpUrl;  // smtp://host:port or smtps://host:port
    std::string username;
    std::string password;               // AUTHSVC_MAIL_PASSWORD
    std::string startTls = "required";  // required | opportunistic | off
    std::string from = "authsvc <no-reply@localhost>";
    std::string linkBaseUrl;  // empty: <server.public_url or http://host:port>/account
    std::string templatesDir;
    Millis timeout{30000};      // one SMTP transaction
    Millis retryInitial{5000};  // the first retry's delay; doubles up to an hour
    int maxAttempts = 15;       // then the message is dead
};

// Paths of the routes that `routes:` cannot move; a configured path may not take one.
struct FixedPaths {
    static constexpr const char* kRegister = "/api/register";
    static constexpr const char* kLogout = "/api/logout";
    static constexpr const char* kLogoutAll = "/api/logout_all";
    static constexpr const char* kMe = "/api/me";
    static constexpr const char* kPassword = "/api/password";
    static constexpr const char* kSessions = "/api/sessions";
    static constexpr const char* kSession = "/api/sessions/{id}";  // one path parameter
    static constexpr const char* kHealthz = "/healthz";
    static constexpr const char* kReadyz = "/readyz";
    static constexpr const char* kMetrics = "/metrics";
    static constexpr const char* kJwks = "/.well-known/jwks.json";
    static constexpr const char* kAdminUsers = "/api/admin/users";
    static constexpr const char* kOpenApi = "/openapi.json";
    static constexpr const char* kPasswordForgot = "/api/password/forgot";
    static constexpr const char* kPasswordReset = "/api/password/reset";
    static constexpr const char* kEmail = "/api/email";
    static constexpr const char* kEmailVerify = "/api/email/verify";
    static constexpr const char* kEmailVerifyResend = "/api/email/verify/resend";
    static constexpr const char* kPageReset = "/account/reset";
    static constexpr const char* kPageVerify = "/account/verify";
    static constexpr const char* kPageScript = "/account/pages.js";
    static constexpr const char* kMfaTotp = "/api/mfa/totp";
    static constexpr const char* kMfaTotpConfirm = "/api/mfa/totp/confirm";
    static constexpr const char* kMfaRecoveryCodes = "/api/mfa/recovery-codes";
    static constexpr const char* kLoginMfa = "/api/login/mfa";
    static constexpr const char* kOAuthToken = "/oauth/token";
    static constexpr const char* kOAuthRevoke = "/oauth/revoke";
    static constexpr const char* kOAuthIntrospect = "/oauth/introspect";
    static constexpr const char* kOAuthMetadata = "/.well-known/oauth-authorization-server";
    static constexpr const char* kOpenIdConfiguration = "/.well-known/openid-configuration";
    static constexpr const char* kAll[] = {kRegister,       kLogout,
                                           kLogoutAll,      kMe,
                                           kPassword,       kSessions,
                                           kSession,        kHealthz,
                                           kReadyz,         kMetrics,
                                           kJwks,           kAdminUsers,
                                           kOpenApi,        kPasswordForgot,
                                           kPasswordReset,  kEmail,
                                           kEmailVerify,    kEmailVerifyResend,
                                           kPageReset,      kPageVerify,
                                           kPageScript,     kMfaTotp,
                                           kMfaTotpConfirm, kMfaRecoveryCodes,
                                           kLoginMfa,       kOAuthToken,
                                           kOAuthRevoke,    kOAuthIntrospect,
                                           kOAuthMetadata,  kOpenIdConfiguration};
};

struct RoutesConfig {
    std::vector<std::string> login{"/api/login", "/login"};
    std::vector<std::string> refresh{"/api/refresh_token", "/api/refresh-token", "/refresh-token"};
    std::vector<std::string> protectedPaths{"/api/protected", "/api/protected-resource"};
};

struct LogConfig {
    std::string level = "info";
    std::string format = "text";
};

// The OAuth 2.0 clients (oauth.clients); none listed: any client_id, public clients only.
struct OAuthConfig {
    std::vector<models::OAuthClient> clients;
};

struct Config {
    ServerConfig server;
    DatabaseConfig database;
    JwtConfig jwt;
    RefreshConfig refresh;
    AuthConfig auth;
    RoutesConfig routes;
    LogConfig log;
    MailConfig mail;
    OAuthConfig oauth;
    std::string source;  // the file read, or "defaults"
    // The keys whose secret the file itself holds (not the environment): jwt.secret,
    // refresh.secret, a database.postgresql.dsn with a password.
    std::vector<std::string> secretsInFile;
};

class ConfigError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Reads an environment variable; injectable for tests.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup processEnvironment();

// path empty: ./config.yaml if it exists, else defaults. A named path that does not
// exist is an error.
Config loadConfig(const std::string& path, const EnvLookup& env = processEnvironment());

// Parses a YAML document given as text (for tests); `source` names it in errors.
Config parseConfig(
    const std::string& yamlText, const std::string& source,
    const EnvLookup& env = [](const std::string&) -> std::optional<std::string> {
        return std::nullopt;
    });

// "15m" -> 900000 ms. Units: ms, s, m, h, d. Returns nullopt on anything else.
std::optional<Millis> parseDuration(const std::string& text);

}  // namespace authsvc::app
