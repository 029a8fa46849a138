// app::parseConfig / parseDuration: defaults, every error (naming key and file),
// environment overrides.
#include <gtest/gtest.h>

#include <map>

#include "app/config/Config.h"

namespace {

using authsvc::app::Config;
using authsvc::app::ConfigError;
using authsvc::app::EnvLookup;
using authsvc::app::Millis;
using authsvc::app::parseConfig;
using authsvc::app::parseDuration;

const std::string kGoodSecret = "0123456789abcdef0123456789abcdef";  // exactly 32 bytes
const std::string kRefreshSecret = "refresh-0123456789abcdef-0123456789";
// The two secrets a config that sets jwt.secret needs.
const std::string kSecretsYaml =
    "jwt:\n  secret: " + kGoodSecret + "\nrefresh:\n  secret: " + kRefreshSecret + "\n";

EnvLookup envOf(std::map<std::string, std::string> vars) {
    return [vars](const std::string& name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

// The ConfigError message of parsing `yaml`, or "" if it parsed.
std::string errorOf(const std::string& yaml, const EnvLookup& env = envOf({})) {
    try {
        parseConfig(yaml, "test.yaml", env);
    } catch (const ConfigError& e) {
        return e.what();
    } catch (const std::exception& e) {
        return std::string("(not a ConfigError) ") + e.what();
    }
    return "";
}

TEST(ConfigTest, EmptyDocumentGivesTheDefaultsOfApiMd) {
    Config c = parseConfig("", "test.yaml", envOf({}));
    EXPECT_EQ(c.source, "test.yaml");
    EXPECT_EQ(c.server.host, "0.0.0.0");
    EXPECT_EQ(c.server.port, 8080);
    EXPECT_EQ(c.server.threads, 2);
    EXPECT_EQ(c.server.maxBodyBytes, 16384);
    EXPECT_EQ(c.database.backend, "sqlite");
    EXPECT_EQ(c.database.sqlitePath, "data/authsvc.db");
    EXPECT_EQ(c.database.poolSize, 8);
    EXPECT_TRUE(c.database.autoMigrate);
    EXPECT_EQ(c.jwt.keysDir, "");
    EXPECT_EQ(c.jwt.signingKid, "");
    EXPECT_EQ(c.jwt.jwksMaxAge, Millis(5 * 60 * 1000));
    EXPECT_EQ(c.jwt.issuer, "authsvc");
    EXPECT_EQ(c.jwt.audience, "authsvc-clients");
    EXPECT_EQ(c.jwt.accessTtl, Millis(15 * 60 * 1000));
    EXPECT_EQ(c.jwt.leeway, Millis(30 * 1000));
    EXPECT_EQ(c.refresh.ttl, Millis(14LL * 24 * 3600 * 1000));
    EXPECT_EQ(c.refresh.reuseGrace, Millis(10 * 1000));
    EXPECT_FALSE(c.refresh.sliding);
    EXPECT_TRUE(c.auth.registrationOpen);
    EXPECT_EQ(c.auth.passwordMinLength, 8);
    EXPECT_EQ(c.auth.argon2id.memoryKib, 19456);
    EXPECT_EQ(c.auth.argon2id.iterations, 2);
    EXPECT_EQ(c.auth.loginRateLimit.perIpPerMinute, 20);
    EXPECT_EQ(c.auth.loginRateLimit.perAccountPerMinute, 5);
    EXPECT_EQ(c.auth.registerRateLimit.perIpPerHour, 20);
    EXPECT_TRUE(c.server.trustedProxies.empty());
    EXPECT_EQ(c.server.maxConnections, 0);
    EXPECT_EQ(c.server.maxConnectionsPerIp, 256);
    EXPECT_EQ(c.server.maxUnwrittenBytesPerConnection, 256 * 1024);
    EXPECT_EQ(c.server.maxUnwrittenBytes, 64 * 1024 * 1024);
    EXPECT_EQ(c.routes.login, (std::vector<std::string>{"/api/login", "/login"}));
    EXPECT_EQ(c.routes.refresh, (std::vector<std::string>{"/api/refresh_token",
                                                          "/api/refresh-token", "/refresh-token"}));
    EXPECT_EQ(c.routes.protectedPaths,
              (std::vector<std::string>{"/api/protected", "/api/protected-resource"}));
    EXPECT_EQ(c.log.level, "info");
    EXPECT_EQ(c.log.format, "text");
}

TEST(ConfigTest, ParsesEverySectionOfAFullFile) {
    const std::string yaml = R"(
server: {host: 127.0.0.1, port: 9090, threads: 3, max_body_bytes: 4096}
database:
  backend: postgresql
  sqlite: {path: /tmp/x.db}
  postgresql: {dsn: "host=db port=5433"}
  pool_size: 4
  auto_migrate: false
jwt:
  secret: )" + kGoodSecret + R"(
  issuer: me
  audience: them
  access_ttl: 5m
  leeway: 0s
refresh: {ttl: 2d, reuse_grace: 1500ms, sliding: true, secret: )" +
                             kRefreshSecret + R"(}
auth:
  registration: closed
  password_min_length: 12
  argon2id: {memory_kib: 64, iterations: 3, parallelism: 1}
  login_rate_limit: {per_ip_per_minute: 7, per_account_per_minute: 2}
routes:
  login: [/a/login]
  refresh: [/a/refresh, /b/refresh]
  protected: [/a/protected]
log: {level: debug, format: json}
)";
    Config c = parseConfig(yaml, "full.yaml", envOf({}));
    EXPECT_EQ(c.server.host, "127.0.0.1");
    EXPECT_EQ(c.server.port, 9090);
    EXPECT_EQ(c.server.threads, 3);
    EXPECT_EQ(c.server.maxBodyBytes, 4096);
    EXPECT_EQ(c.database.backend, "postgresql");
    EXPECT_EQ(c.database.sqlitePath, "/tmp/x.db");
    EXPECT_EQ(c.database.postgresqlDsn, "host=db port=5433");
    EXPECT_EQ(c.database.poolSize, 4);
    EXPECT_FALSE(c.database.autoMigrate);
    EXPECT_EQ(c.jwt.secret, kGoodSecret);
    EXPECT_FALSE(c.jwt.secretGenerated);
    EXPECT_EQ(c.jwt.issuer, "me");
    EXPECT_EQ(c.jwt.audience, "them");
    EXPECT_EQ(c.jwt.accessTtl, Millis(5 * 60 * 1000));
    EXPECT_EQ(c.jwt.leeway, Millis(0));
    EXPECT_EQ(c.refresh.ttl, Millis(2LL * 24 * 3600 * 1000));
    EXPECT_EQ(c.refresh.reuseGrace, Millis(1500));
    EXPECT_TRUE(c.refresh.sliding);
    EXPECT_FALSE(c.auth.registrationOpen);
    EXPECT_EQ(c.auth.passwordMinLength, 12);
    EXPECT_EQ(c.auth.argon2id.memoryKib, 64);
    EXPECT_EQ(c.auth.argon2id.iterations, 3);
    EXPECT_EQ(c.auth.loginRateLimit.perIpPerMinute, 7);
    EXPECT_EQ(c.auth.loginRateLimit.perAccountPerMinute, 2);
    EXPECT_EQ(c.routes.login, (std::vector<std::string>{"/a/login"}));
    EXPECT_EQ(c.routes.refresh, (std::vector<std::string>{"/a/refresh", "/b/refresh"}));
    EXPECT_EQ(c.routes.protectedPaths, (std::vector<std::string>{"/a/protected"}));
    EXPECT_EQ(c.log.level, "debug");
    EXPECT_EQ(c.log.format, "json");
}

TEST(ConfigTest, NullValuesKeepTheDefault) {
    Config c = parseConfig("server:\n  port: ~\nrefresh:\n", "test.yaml", envOf({}));
    EXPECT_EQ(c.server.port, 8080);
    EXPECT_EQ(c.refresh.ttl, Millis(14LL * 24 * 3600 * 1000));
}

TEST(ConfigTest, UnknownTopLevelKeyNamesKeyAndFile) {
    const std::string e = errorOf("sever:\n  port: 1\n");
    EXPECT_NE(e.find("test.yaml"), std::string::npos) << e;
    EXPECT_NE(e.find("sever"), std::string::npos) << e;
    EXPECT_NE(e.find("unknown key"), std::string::npos) << e;
}

TEST(ConfigTest, UnknownNestedKeyNamesTheDottedPath) {
    const std::string e = errorOf("server:\n  prot: 1\n");
    EXPECT_NE(e.find("test.yaml"), std::string::npos) << e;
    EXPECT_NE(e.find("server.prot"), std::string::npos) << e;
    EXPECT_NE(e.find("unknown key"), std::string::npos) << e;
}

TEST(ConfigTest, UnknownKeyTwoLevelsDown) {
    const std::string e = errorOf("auth:\n  argon2id:\n    memory: 64\n");
    EXPECT_NE(e.find("test.yaml"), std::string::npos) << e;
    EXPECT_NE(e.find("auth.argon2id.memory"), std::string::npos) << e;
}

TEST(ConfigTest, WrongTypeScalarForIntNamesKeyFileAndValue) {
    const std::string e = errorOf("server:\n  port: abc\n");
    EXPECT_NE(e.find("test.yaml"), std::string::npos) << e;
    EXPECT_NE(e.find("server.port"), std::string::npos) << e;
    EXPECT_NE(e.find("\"abc\""), std::string::npos) << e;
}

TEST(ConfigTest, WrongTypeCollectionForScalar) {
    const std::string e = errorOf("server:\n  port: [1, 2]\n");
    EXPECT_NE(e.find("test.yaml"), std::string::npos) << e;
    EXPECT_NE(e.find("server.port"), std::string::npos) << e;
}

TEST(ConfigTest, ScalarWhereASectionBelongs) {
    const std::string e = errorOf("server: 5\n");
    EXPECT_NE(e.find("test.yaml"), std::string::npos) << e;
    EXPECT_NE(e.find("server"), std::string::npos) << e;
    EXPECT_NE(e.find("expected a mapping"), std::string::npos) << e;
}

TEST(ConfigTest, TopLevelThatIsNotAMapping) {
    const std::string e = errorOf("- a\n- b\n");
    EXPECT_NE(e.find("test.yaml"), std::string::npos) << e;
    EXPECT_NE(e.find("expected a mapping"), std::string::npos) << e;
}

TEST(ConfigTest, InvalidYamlNamesFileAndLine) {
    const std::string e = errorOf("server:\n  port: 1\n  host: [unclosed\n");
    EXPECT_EQ(e.rfind("test.yaml: line ", 0), 0u) << e;
    EXPECT_NE(e.find("invalid YAML"), std::string::npos) << e;
}

TEST(ConfigTest, WrongTypeForBool) {
    const std::string e = errorOf("refresh:\n  sliding: maybe\n");
    EXPECT_NE(e.find("test.yaml"), std::string::npos) << e;
    EXPECT_NE(e.find("refresh.sliding"), std::string::npos) << e;
    EXPECT_NE(e.find("\"maybe\""), std::string::npos) << e;
}

TEST(ConfigTest, BoolAcceptsYamlSpellings) {
    EXPECT_TRUE(parseConfig("refresh: {sliding: on}", "t", envOf({})).refresh.sliding);
    EXPECT_TRUE(parseConfig("refresh: {sliding: yes}", "t", envOf({})).refresh.sliding);
    EXPECT_FALSE(parseConfig("database: {auto_migrate: off}", "t", envOf({})).database.autoMigrate);
}

// On by default (named statements, parsed once); off behind PgBouncer in transaction
// pooling, from the file or the environment.
TEST(ConfigTest, PostgresqlPreparedStatementsDefaultOnAndTurnedOff) {
    EXPECT_TRUE(parseConfig("", "t", envOf({})).database.postgresqlPreparedStatements);
    EXPECT_FALSE(parseConfig("database: {postgresql: {prepared_statements: false}}", "t", envOf({}))
                     .database.postgresqlPreparedStatements);
    EXPECT_FALSE(
        parseConfig("", "t", envOf({{"AUTHSVC_DATABASE_POSTGRESQL_PREPARED_STATEMENTS", "false"}}))
            .database.postgresqlPreparedStatements);
}

TEST(ConfigTest, BadDurationNamesKeyFileAndValue) {
    for (const char* bad : {"15", "15x", "1.5h", "-5s", "m", "15 m", "ten minutes"}) {
        const std::string e = errorOf(std::string("jwt:\n  access_ttl: \"") + bad + "\"\n");
        EXPECT_NE(e.find("test.yaml"), std::string::npos) << bad << ": " << e;
        EXPECT_NE(e.find("jwt.access_ttl"), std::string::npos) << bad << ": " << e;
        EXPECT_NE(e.find(std::string("\"") + bad + "\""), std::string::npos) << bad << ": " << e;
    }
}

TEST(ConfigTest, DurationOutOfRangeIsRefused) {
    // jwt.leeway is at most 5 minutes; refresh.ttl at least 1 s.
    EXPECT_NE(errorOf("jwt: {leeway: 6m}").find("jwt.leeway"), std::string::npos);
    EXPECT_NE(errorOf("refresh: {ttl: 999ms}").find("refresh.ttl"), std::string::npos);
    EXPECT_EQ(errorOf("jwt: {leeway: 5m}"), "");
}

TEST(ConfigTest, OutOfRangeIntNamesKeyFileAndValue) {
    const std::string e = errorOf("server:\n  port: 70000\n");
    EXPECT_NE(e.find("test.yaml"), std::string::npos) << e;
    EXPECT_NE(e.find("server.port"), std::string::npos) << e;
    EXPECT_NE(e.find("70000"), std::string::npos) << e;
    EXPECT_NE(e.find("0 to 65535"), std::string::npos) << e;
}

TEST(ConfigTest, NegativeAndHugeIntsAreRefused) {
    EXPECT_NE(errorOf("database: {pool_size: -1}").find("database.pool_size"), std::string::npos);
    EXPECT_NE(errorOf("database: {pool_size: 0}").find("database.pool_size"), std::string::npos);
    EXPECT_NE(errorOf("database: {pool_size: 99999999999999999999999}").find("database.pool_size"),
              std::string::npos);
    EXPECT_NE(errorOf("auth: {argon2id: {parallelism: 2}}").find("auth.argon2id.parallelism"),
              std::string::npos);
}

TEST(ConfigTest, SecretShorterThan32BytesIsRefused) {
    const std::string e = errorOf("jwt:\n  secret: " + kGoodSecret.substr(0, 31) + "\n");
    EXPECT_NE(e.find("test.yaml"), std::string::npos) << e;
    EXPECT_NE(e.find("jwt.secret"), std::string::npos) << e;
    EXPECT_NE(e.find("32 bytes"), std::string::npos) << e;
    // The message must not echo the secret.
    EXPECT_EQ(e.find(kGoodSecret.substr(0, 31)), std::string::npos) << e;
}

TEST(ConfigTest, SecretOfExactly32BytesIsKept) {
    Config c = parseConfig(kSecretsYaml, "test.yaml", envOf({}));
    EXPECT_EQ(c.jwt.secret, kGoodSecret);
    EXPECT_FALSE(c.jwt.secretGenerated);
}

TEST(ConfigTest, EmptySecretIsGeneratedRandomlyAndFlagged) {
    Config a = parseConfig("jwt:\n  secret: \"\"\n", "test.yaml", envOf({}));
    Config b = parseConfig("", "test.yaml", envOf({}));
    EXPECT_TRUE(a.jwt.secretGenerated);
    EXPECT_TRUE(b.jwt.secretGenerated);
    EXPECT_GE(a.jwt.secret.size(), 32u);
    EXPECT_GE(b.jwt.secret.size(), 32u);
    EXPECT_NE(a.jwt.secret, b.jwt.secret);  // random per start
}

TEST(ConfigTest, BadEnumNamesKeyFileValueAndChoices) {
    const std::string e = errorOf("database:\n  backend: oracle\n");
    EXPECT_NE(e.find("test.yaml"), std::string::npos) << e;
    EXPECT_NE(e.find("database.backend"), std::string::npos) << e;
    EXPECT_NE(e.find("\"oracle\""), std::string::npos) << e;
    EXPECT_NE(e.find("sqlite"), std::string::npos) << e;
    EXPECT_NE(e.find("postgresql"), std::string::npos) << e;
    EXPECT_NE(e.find("mysql"), std::string::npos) << e;
}

TEST(ConfigTest, MysqlBackendTakesItsDsnAndADsnWithAPasswordIsASecret) {
    const Config c = parseConfig(
        "database:\n  backend: mysql\n  mysql: {dsn: \"host=db port=3307 db=a user=u\"}\n",
        "test.yaml", envOf({}));
    EXPECT_EQ(c.database.backend, "mysql");
    EXPECT_EQ(c.database.mysqlDsn, "host=db port=3307 db=a user=u");
    EXPECT_TRUE(c.secretsInFile.empty());
    const Config e = parseConfig("", "test.yaml",
                                 envOf({{"AUTHSVC_DATABASE_BACKEND", "mysql"},
                                        {"AUTHSVC_DATABASE_MYSQL_DSN", "host=h db=b user=u"}}));
    EXPECT_EQ(e.database.backend, "mysql");
    EXPECT_EQ(e.database.mysqlDsn, "host=h db=b user=u");
    for (const std::string dsn : {"host=db user=u password=x", "host=db pass=x"}) {
        EXPECT_EQ(parseConfig("database: {mysql: {dsn: \"" + dsn + "\"}}\n", "test.yaml", envOf({}))
                      .secretsInFile,
                  (std::vector<std::string>{"database.mysql.dsn"}))
            << dsn;
    }
}

TEST(ConfigTest, OtherEnums) {
    // jwt.algorithm went away: a key's algorithm follows from the key.
    EXPECT_NE(errorOf("jwt: {algorithm: HS256}").find("unknown key"), std::string::npos);
    EXPECT_NE(errorOf("jwt: {private_key_file: k.pem}").find("unknown key"), std::string::npos);
    EXPECT_NE(errorOf("auth: {registration: maybe}").find("auth.registration"), std::string::npos);
    EXPECT_NE(errorOf("log: {format: xml}").find("log.format"), std::string::npos);
    EXPECT_NE(errorOf("log: {level: loud}").find("log.level"), std::string::npos);
}

TEST(ConfigTest, RoutePathWithoutLeadingSlashIsRefused) {
    const std::string e = errorOf("routes:\n  login: [api/login]\n");
    EXPECT_NE(e.find("test.yaml"), std::string::npos) << e;
    EXPECT_NE(e.find("routes.login"), std::string::npos) << e;
}

TEST(ConfigTest, RoutePathShapesThatAreRefused) {
    EXPECT_NE(errorOf("routes: {login: []}").find("routes.login"), std::string::npos);
    EXPECT_NE(errorOf("routes: {login: /api/login}").find("routes.login"), std::string::npos);
    EXPECT_NE(errorOf("routes: {login: [\"/a b\"]}").find("routes.login"), std::string::npos);
    EXPECT_NE(errorOf("routes: {refresh: [\"/r?x=1\"]}").find("routes.refresh"), std::string::npos);
    EXPECT_NE(errorOf("routes: {protected: [[/a]]}").find("routes.protected"), std::string::npos);
}

TEST(ConfigTest, DuplicateRoutePathAcrossRoutesIsRefused) {
    const std::string e = errorOf("routes:\n  login: [/x]\n  refresh: [/x]\n");
    EXPECT_NE(e.find("test.yaml"), std::string::npos) << e;
    EXPECT_NE(e.find("routes"), std::string::npos) << e;
    EXPECT_NE(e.find("/x"), std::string::npos) << e;
}

TEST(ConfigTest, DuplicateRoutePathWithinOneRouteIsRefused) {
    const std::string e = errorOf("routes:\n  login: [/x, /x]\n");
    EXPECT_NE(e.find("test.yaml"), std::string::npos) << e;
    EXPECT_NE(e.find("/x"), std::string::npos) << e;
}

TEST(ConfigTest, DuplicateWithADefaultPathIsRefused) {
    // Only refresh is configured; it collides with the default login path.
    const std::string e = errorOf("routes:\n  refresh: [/api/login]\n");
    EXPECT_NE(e.find("/api/login"), std::string::npos) << e;
}

TEST(ConfigTest, EnvironmentOverridesTheFile) {
    Config c = parseConfig("server:\n  port: 9090\n", "test.yaml",
                           envOf({{"AUTHSVC_SERVER_PORT", "7070"},
                                  {"AUTHSVC_JWT_SECRET", kGoodSecret},
                                  {"AUTHSVC_REFRESH_SECRET", kRefreshSecret},
                                  {"AUTHSVC_DATABASE_BACKEND", "postgresql"},
                                  {"AUTHSVC_REFRESH_REUSE_GRACE", "3s"},
                                  {"AUTHSVC_AUTH_LOGIN_RATE_LIMIT_PER_ACCOUNT_PER_MINUTE", "9"},
                                  {"AUTHSVC_ROUTES_LOGIN", "/x/login,/y/login"}}));
    EXPECT_EQ(c.server.port, 7070);
    EXPECT_EQ(c.jwt.secret, kGoodSecret);
    EXPECT_FALSE(c.jwt.secretGenerated);
    EXPECT_EQ(c.database.backend, "postgresql");
    EXPECT_EQ(c.refresh.reuseGrace, Millis(3000));
    EXPECT_EQ(c.auth.loginRateLimit.perAccountPerMinute, 9);
    EXPECT_EQ(c.routes.login, (std::vector<std::string>{"/x/login", "/y/login"}));
}

TEST(ConfigTest, EnvironmentOverrideWithABadValueNamesTheVariable) {
    const std::string e =
        errorOf("server:\n  port: 9090\n", envOf({{"AUTHSVC_SERVER_PORT", "eighty"}}));
    EXPECT_NE(e.find("AUTHSVC_SERVER_PORT"), std::string::npos) << e;
    EXPECT_NE(e.find("server.port"), std::string::npos) << e;
    EXPECT_NE(e.find("\"eighty\""), std::string::npos) << e;
}

TEST(ConfigTest, EnvironmentOverrideWithABadDuration) {
    const std::string e = errorOf("", envOf({{"AUTHSVC_JWT_ACCESS_TTL", "soon"}}));
    EXPECT_NE(e.find("AUTHSVC_JWT_ACCESS_TTL"), std::string::npos) << e;
    EXPECT_NE(e.find("jwt.access_ttl"), std::string::npos) << e;
}

TEST(ConfigTest, EnvironmentSecretShorterThan32BytesIsRefused) {
    const std::string e = errorOf("", envOf({{"AUTHSVC_JWT_SECRET", "short"}}));
    EXPECT_NE(e.find("jwt.secret"), std::string::npos) << e;
    EXPECT_NE(e.find("32 bytes"), std::string::npos) << e;
}

TEST(ConfigTest, ParseDurationUnits) {
    EXPECT_EQ(parseDuration("500ms"), Millis(500));
    EXPECT_EQ(parseDuration("30s"), Millis(30'000));
    EXPECT_EQ(parseDuration("15m"), Millis(900'000));
    EXPECT_EQ(parseDuration("12h"), Millis(43'200'000));
    EXPECT_EQ(parseDuration("14d"), Millis(1'209'600'000));
    EXPECT_EQ(parseDuration("0s"), Millis(0));
}

TEST(ConfigTest, ParseDurationRejectsOtherText) {
    for (const char* bad : {"", "s", "15", "15S", "15 s", " 15s", "15s ", "-1s", "+1s", "1.5s",
                            "1e3ms", "15sec", "1m30s", "0x10s", "1234567890123s"}) {
        EXPECT_EQ(parseDuration(bad), std::nullopt) << bad;
    }
}

// Regression: parseDuration must refuse values whose milliseconds overflow int64
// (they used to wrap around and pass the range checks).
TEST(ConfigTest, ParseDurationRefusesValuesThatOverflow) {
    EXPECT_EQ(parseDuration("213503982335d"), std::nullopt);
    EXPECT_EQ(parseDuration("999999999999d"), std::nullopt);
    const std::string e = errorOf("refresh:\n  ttl: 213503982335d\n");
    EXPECT_NE(e.find("refresh.ttl"), std::string::npos) << e;
}

// Regression: a configured path may not take a fixed route's path (it used to shadow
// the fixed route silently: logout became a login, /healthz demanded a token).
TEST(ConfigTest, RoutePathThatShadowsAFixedRouteIsRefused) {
    const std::string logout = errorOf("routes:\n  login: [/api/logout]\n");
    EXPECT_NE(logout.find("test.yaml"), std::string::npos) << logout;
    EXPECT_NE(logout.find("/api/logout"), std::string::npos) << logout;
    const std::string health = errorOf("routes:\n  protected: [/healthz]\n");
    EXPECT_NE(health.find("/healthz"), std::string::npos) << health;
}

// Regression: a non-scalar key is a ConfigError naming the file (it used to escape as a
// yaml-cpp exception).
TEST(ConfigTest, NonScalarKeyIsAConfigErrorNamingTheFile) {
    const std::string e = errorOf("server:\n  ? [port, host]\n  : 1\n");
    EXPECT_EQ(e.find("(not a ConfigError)"), std::string::npos) << e;
    EXPECT_NE(e.find("test.yaml"), std::string::npos) << e;
    EXPECT_NE(e.find("server"), std::string::npos) << e;
}

// Regression: yaml-cpp keeps duplicate keys silently; a repeated key must be refused.
TEST(ConfigTest, DuplicateKeyIsRefused) {
    const std::string leaf = errorOf("server:\n  port: 8080\n  port: 9090\n");
    EXPECT_NE(leaf.find("test.yaml"), std::string::npos) << leaf;
    EXPECT_NE(leaf.find("server.port"), std::string::npos) << leaf;
    const std::string section = errorOf("server:\n  port: 8080\nserver:\n  host: 127.0.0.1\n");
    EXPECT_NE(section.find("test.yaml"), std::string::npos) << section;
    EXPECT_NE(section.find("server"), std::string::npos) << section;
}

TEST(ConfigTest, TrustedProxiesAreCidrBlocksOfBothFamilies) {
    Config c = parseConfig(
        "server:\n  trusted_proxies: [10.0.0.0/8, 192.0.2.7, \"2001:db8::/32\", \"::1\"]\n",
        "test.yaml");
    ASSERT_EQ(c.server.trustedProxies.size(), 4u);
    EXPECT_EQ(c.server.trustedProxies[0].prefix, 8);
    EXPECT_EQ(c.server.trustedProxies[1].prefix, 32);
    EXPECT_TRUE(c.server.trustedProxies[2].network.v6);
    EXPECT_EQ(c.server.trustedProxies[3].prefix, 128);
    EXPECT_TRUE(parseConfig("server:\n  trusted_proxies: []\n", "t").server.trustedProxies.empty());
}

TEST(ConfigTest, ConnectionCapsAndAnswerBudgets) {
    Config c = parseConfig(
        "server:\n  max_connections: 5000\n  max_connections_per_ip: 0\n"
        "  max_unwritten_bytes_per_connection: 65536\n  max_unwritten_bytes: 0\n",
        "test.yaml");
    EXPECT_EQ(c.server.maxConnections, 5000);
    EXPECT_EQ(c.server.maxConnectionsPerIp, 0);
    EXPECT_EQ(c.server.maxUnwrittenBytesPerConnection, 65536);
    EXPECT_EQ(c.server.maxUnwrittenBytes, 0);
    for (const char* bad : {"max_connections: -1", "max_connections_per_ip: -5",
                            "max_unwritten_bytes_per_connection: 100", "max_unwritten_bytes: -1"}) {
        const std::string e = errorOf(std::string("server:\n  ") + bad + "\n");
        EXPECT_NE(e.find("server." + std::string(bad).substr(0, std::string(bad).find(':'))),
                  std::string::npos)
            << e;
    }
}

TEST(ConfigTest, ABadTrustedProxyStopsStartUpNamingIt) {
    for (const char* bad : {"10.0.0.0/33", "10.0.0/8", "proxy.internal", "2001:db8::/129"}) {
        const std::string e =
            errorOf(std::string("server:\n  trusted_proxies: [10.0.0.0/8, \"") + bad + "\"]\n");
        EXPECT_NE(e.find("server.trusted_proxies"), std::string::npos) << bad << ": " << e;
        EXPECT_NE(e.find("test.yaml"), std::string::npos) << e;
        EXPECT_NE(e.find(bad), std::string::npos) << e;
    }
    EXPECT_NE(errorOf("server:\n  trusted_proxies: 10.0.0.0/8\n").find("server.trusted_proxies"),
              std::string::npos);
}

TEST(ConfigTest, TrustedProxiesFromTheEnvironmentAreCommaSeparated) {
    Config c = parseConfig(
        "", "t", envOf({{"AUTHSVC_SERVER_TRUSTED_PROXIES", "127.0.0.1/32, 2001:db8::/48"}}));
    ASSERT_EQ(c.server.trustedProxies.size(), 2u);
    EXPECT_TRUE(c.server.trustedProxies[1].network.v6);
    Config none = parseConfig("server:\n  trusted_proxies: [10.0.0.0/8]\n", "t",
                              envOf({{"AUTHSVC_SERVER_TRUSTED_PROXIES", ""}}));
    EXPECT_TRUE(none.server.trustedProxies.empty());
    const std::string e =
        errorOf("", envOf({{"AUTHSVC_SERVER_TRUSTED_PROXIES", "127.0.0.1/32,10.0.0.0/99"}}));
    EXPECT_NE(e.find("AUTHSVC_SERVER_TRUSTED_PROXIES"), std::string::npos) << e;
    EXPECT_NE(e.find("\"10.0.0.0/99\""), std::string::npos) << e;
}

TEST(ConfigTest, RegisterRateLimitAllowsZeroForOff) {
    EXPECT_EQ(parseConfig("auth:\n  register_rate_limit:\n    per_ip_per_hour: 0\n", "t")
                  .auth.registerRateLimit.perIpPerHour,
              0);
    EXPECT_EQ(
        parseConfig("", "t", envOf({{"AUTHSVC_AUTH_REGISTER_RATE_LIMIT_PER_IP_PER_HOUR", "7"}}))
            .auth.registerRateLimit.perIpPerHour,
        7);
    const std::string e = errorOf("auth:\n  register_rate_limit:\n    per_ip_per_hour: -1\n");
    EXPECT_NE(e.find("auth.register_rate_limit.per_ip_per_hour"), std::string::npos) << e;
}

}  // namespace

namespace {
const std::string kOtherSecret(40, 'r');
}

// jwt.secret is shared with every HS256 verifier: a successor key derived from it would let
// them compute a family's later refresh tokens from one past token.
TEST(ConfigTest, RefreshSecretIsRequiredBesideJwtSecretAndDiffersFromIt) {
    for (const std::string& yaml :
         {"jwt:\n  secret: " + kGoodSecret + "\n",
          "jwt: {secret: " + kGoodSecret + ", keys_dir: /k, signing_kid: k1}\n"}) {
        const std::string e = errorOf(yaml);
        EXPECT_NE(e.find("test.yaml: refresh.secret: required beside jwt.secret"),
                  std::string::npos)
            << e;
        EXPECT_NE(e.find("AUTHSVC_REFRESH_SECRET"), std::string::npos) << e;
        EXPECT_EQ(e.find(kGoodSecret), std::string::npos) << e;
    }
    EXPECT_NE(errorOf("", envOf({{"AUTHSVC_JWT_SECRET", kGoodSecret}})).find("refresh.secret"),
              std::string::npos);
    const std::string same = errorOf(
        "", envOf({{"AUTHSVC_JWT_SECRET", kGoodSecret}, {"AUTHSVC_REFRESH_SECRET", kGoodSecret}}));
    EXPECT_NE(same.find("refresh.secret: must differ from jwt.secret"), std::string::npos) << same;
    EXPECT_EQ(same.find(kGoodSecret), std::string::npos) << same;
    Config c = parseConfig(kSecretsYaml, "test.yaml", envOf({}));
    EXPECT_EQ(c.refresh.secret, kRefreshSecret);
    EXPECT_FALSE(c.refresh.secretGenerated);
}

// What config.yaml itself holds (not the environment) is what a readable file gives away.
TEST(ConfigTest, SecretsHeldByTheFileAreNamed) {
    EXPECT_EQ(parseConfig(kSecretsYaml, "test.yaml", envOf({})).secretsInFile,
              (std::vector<std::string>{"jwt.secret", "refresh.secret"}));
    EXPECT_TRUE(parseConfig("jwt: {secret: \"\"}\n", "test.yaml", envOf({})).secretsInFile.empty());
    EXPECT_TRUE(parseConfig("", "test.yaml",
                            envOf({{"AUTHSVC_JWT_SECRET", kGoodSecret},
                                   {"AUTHSVC_REFRESH_SECRET", kRefreshSecret}}))
                    .secretsInFile.empty());
    // The environment wins over the file: the file's secret is not in force, but still in it.
    EXPECT_EQ(parseConfig("refresh: {secret: " + kRefreshSecret + "}\n", "test.yaml",
                          envOf({{"AUTHSVC_REFRESH_SECRET", std::string(40, 'e')}}))
                  .secretsInFile,
              (std::vector<std::string>{"refresh.secret"}));
    for (const std::string dsn :
         {"host=db password=x", "host=db PASSWORD = x", "postgresql://app:pw@db/authsvc"}) {
        EXPECT_EQ(
            parseConfig("database: {postgresql: {dsn: \"" + dsn + "\"}}\n", "test.yaml", envOf({}))
                .secretsInFile,
            (std::vector<std::string>{"database.postgresql.dsn"}))
            << dsn;
    }
    for (const std::string dsn : {"host=db user=app", "postgresql://app@db/authsvc",
                                  "postgresql://db/authsvc?sslmode=require"}) {
        EXPECT_TRUE(
            parseConfig("database: {postgresql: {dsn: \"" + dsn + "\"}}\n", "test.yaml", envOf({}))
                .secretsInFile.empty())
            << dsn;
    }
}

TEST(ConfigTest, RefreshSecretHasItsOwnSettingAndEnvironmentVariable) {
    Config c = parseConfig("jwt:\n  secret: " + kGoodSecret + "\n", "test.yaml",
                           envOf({{"AUTHSVC_REFRESH_SECRET", kOtherSecret}}));
    EXPECT_EQ(c.refresh.secret, kOtherSecret);
    EXPECT_EQ(c.jwt.secret, kGoodSecret);
    const std::string e = errorOf("refresh:\n  secret: " + std::string(31, 'x') + "\n");
    EXPECT_NE(e.find("refresh.secret"), std::string::npos) << e;
    EXPECT_EQ(e.find(std::string(31, 'x')), std::string::npos) << e;
}

TEST(ConfigTest, MfaNeedsAThirtyTwoByteKeyFromTheFileOrTheEnvironment) {
    Config off = parseConfig("", "test.yaml", envOf({}));
    EXPECT_FALSE(off.auth.mfa.enabled);
    EXPECT_EQ(off.auth.mfa.issuer, "authsvc");
    std::string e = errorOf("auth:\n  mfa:\n    enabled: true\n");
    EXPECT_NE(e.find("auth.mfa.encryption_key"), std::string::npos) << e;
    e = errorOf("auth:\n  mfa: {enabled: true, encryption_key: c2hvcnQ=}\n");  // 5 bytes
    EXPECT_NE(e.find("expected 32 bytes"), std::string::npos) << e;
    const std::string key = "dGVzdC1vbmx5LW1mYS1rZXktMzItYnl0ZXMtbG9uZyE=";
    Config on = parseConfig("auth:\n  mfa:\n    enabled: true\n", "test.yaml",
                            envOf({{"AUTHSVC_AUTH_MFA_ENCRYPTION_KEY", key}}));
    EXPECT_TRUE(on.auth.mfa.enabled);
    EXPECT_EQ(on.auth.mfa.encryptionKey, key);
}

TEST(ConfigTest, TheDatabaseKeyStoreNeedsAThirtyTwoByteKeyAndTakesSecondPeriods) {
    Config files = parseConfig("", "test.yaml", envOf({}));
    EXPECT_EQ(files.jwt.keyStore, "files");
    EXPECT_EQ(files.jwt.keyPoll.count(), 10000);
    EXPECT_EQ(files.jwt.rotationPeriod.count(), 30LL * 24 * 3600 * 1000);
    EXPECT_EQ(files.jwt.rotationAlgorithm, "ES256");
    std::string e = errorOf("jwt: {key_store: database}\n");
    EXPECT_NE(e.find("jwt.key_encryption_key"), std::string::npos) << e;
    e = errorOf("jwt: {key_store: database, key_encryption_key: c2hvcnQ=}\n");
    EXPECT_NE(e.find("jwt.key_encryption_key"), std::string::npos) << e;
    EXPECT_NE(errorOf("jwt: {key_store: db}\n").find("jwt.key_store"), std::string::npos);
    EXPECT_NE(errorOf("jwt: {rotation: {period: 500ms}}\n").find("jwt.rotation.period"),
              std::string::npos);
    EXPECT_NE(errorOf("jwt: {rotation: {algorithm: HS256}}\n").find("jwt.rotation.algorithm"),
              std::string::npos);
    const std::string key = "dGVzdC1vbmx5LW1mYS1rZXktMzItYnl0ZXMtbG9uZyE=";
    Config db = parseConfig(
        "jwt: {key_store: database, key_poll: 1s, rotation: {period: 3s, algorithm: RS256}}\n",
        "test.yaml", envOf({{"AUTHSVC_JWT_KEY_ENCRYPTION_KEY", key}}));
    EXPECT_EQ(db.jwt.keyEncryptionKey, key);
    EXPECT_EQ(db.jwt.keyPoll.count(), 1000);
    EXPECT_EQ(db.jwt.rotationPeriod.count(), 3000);
    EXPECT_EQ(db.jwt.rotationAlgorithm, "RS256");
    EXPECT_TRUE(db.jwt.secret.empty());  // no random HS256 secret beside the store
    EXPECT_EQ(parseConfig("jwt: {key_store: database, key_encryption_key: \"" + key + "\"}\n",
                          "test.yaml", envOf({}))
                  .secretsInFile,
              (std::vector<std::string>{"jwt.key_encryption_key"}));
}

TEST(ConfigTest, RefreshSecretIsRandomPerStartWithoutAnyConfiguredSecret) {
    Config a = parseConfig("jwt: {keys_dir: /k, signing_kid: k1}\n", "test.yaml", envOf({}));
    Config b = parseConfig("jwt: {keys_dir: /k, signing_kid: k1}\n", "test.yaml", envOf({}));
    EXPECT_TRUE(a.refresh.secretGenerated);
    EXPECT_GE(a.refresh.secret.size(), 32u);
    EXPECT_NE(a.refresh.secret, b.refresh.secret);
    Config dev = parseConfig("", "test.yaml", envOf({}));  // no secret at all: development
    EXPECT_TRUE(dev.refresh.secretGenerated);
    EXPECT_NE(dev.refresh.secret, dev.jwt.secret);
}

TEST(ConfigTest, KeysDirWithoutSecretMeansNoHs256) {
    Config c = parseConfig("jwt: {keys_dir: /k, signing_kid: k1, jwks_max_age: 1m}\n", "test.yaml",
                           envOf({}));
    EXPECT_EQ(c.jwt.secret, "");
    EXPECT_FALSE(c.jwt.secretGenerated);
    EXPECT_EQ(c.jwt.keysDir, "/k");
    EXPECT_EQ(c.jwt.signingKid, "k1");
    EXPECT_EQ(c.jwt.jwksMaxAge, Millis(60'000));
    Config env =
        parseConfig("", "test.yaml",
                    envOf({{"AUTHSVC_JWT_KEYS_DIR", "/e"}, {"AUTHSVC_JWT_SIGNING_KID", "k2"}}));
    EXPECT_EQ(env.jwt.keysDir, "/e");
    EXPECT_EQ(env.jwt.signingKid, "k2");
}

TEST(ConfigTest, SigningKidNeedsKeysDir) {
    const std::string e = errorOf("jwt: {signing_kid: k1}\n");
    EXPECT_NE(e.find("jwt.signing_kid"), std::string::npos) << e;
}

TEST(ConfigTest, MaxHeaderBytesHasADefaultARangeAndAnEnvironmentName) {
    EXPECT_EQ(parseConfig("", "test.yaml", envOf({})).server.maxHeaderBytes, 16384);
    EXPECT_EQ(parseConfig("server: {max_header_bytes: 4096}", "test.yaml", envOf({}))
                  .server.maxHeaderBytes,
              4096);
    EXPECT_EQ(parseConfig("", "test.yaml", envOf({{"AUTHSVC_SERVER_MAX_HEADER_BYTES", "2048"}}))
                  .server.maxHeaderBytes,
              2048);
    for (const char* bad : {"server: {max_header_bytes: 100}", "server: {max_header_bytes: 0}",
                            "server: {max_header_bytes: 99999999}"}) {
        EXPECT_NE(errorOf(bad).find("server.max_header_bytes"), std::string::npos) << bad;
    }
}
