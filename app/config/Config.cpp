#include "app/config/Config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include "common/Crypto.h"
#include "verify/Base64Url.h"

namespace authsvc::app {
namespace {

// One known key: its dotted path and how to apply a textual value to the Config.
// Scalars from YAML and from the environment go through the same parser, so both
// give the same error for the same bad value.
struct KeyDef {
    std::string path;
    std::string expected;  // for error messages
    std::function<bool(Config&, const std::string&)> set;
    bool isList = false;
    // nullopt when the list was applied; else the offending item ("" when the list as a
    // whole is wrong).
    std::function<std::optional<std::string>(Config&, const std::vector<std::string>&)> setList;
};

bool parseInt(const std::string& s, int64_t lo, int64_t hi, int64_t& out) {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi) return false;
    out = v;
    return true;
}

KeyDef intKey(std::string path, int64_t lo, int64_t hi, std::function<void(Config&, int64_t)> f) {
    std::string expected = "an integer from " + std::to_string(lo) + " to " + std::to_string(hi);
    return {std::move(path), expected,
            [=](Config& c, const std::string& s) {
                int64_t v;
                if (!parseInt(s, lo, hi, v)) return false;
                f(c, v);
                return true;
            },
            false, nullptr};
}

KeyDef strKey(std::string path, std::function<void(Config&, const std::string&)> f) {
    return {std::move(path), "a string",
            [=](Config& c, const std::string& s) {
                f(c, s);
                return true;
            },
            false, nullptr};
}

KeyDef enumKey(std::string path, std::vector<std::string> choices,
               std::function<void(Config&, const std::string&)> f) {
    std::string expected = "one of";
    for (auto& ch : choices) expected += " " + ch;
    return {std::move(path), expected,
            [=](Config& c, const std::string& s) {
                if (std::find(choices.begin(), choices.end(), s) == choices.end()) return false;
                f(c, s);
                return true;
            },
            false, nullptr};
}

KeyDef boolKey(std::string path, std::function<void(Config&, bool)> f) {
    return {std::move(path), "true or false",
            [=](Config& c, const std::string& s) {
                if (s == "true" || s == "yes" || s == "on") {
                    f(c, true);
                } else if (s == "false" || s == "no" || s == "off") {
                    f(c, false);
                } else {
                    return false;
                }
                return true;
            },
            false, nullptr};
}

KeyDef durationKey(std::string path, Millis lo, Millis hi, std::function<void(Config&, Millis)> f) {
    return {std::move(path), "a duration like 500ms, 30s, 15m, 12h or 14d within range",
            [=](Config& c, const std::string& s) {
                auto d = parseDuration(s);
                if (!d || *d < lo || *d > hi) return false;
                f(c, *d);
                return true;
            },
            false, nullptr};
}

KeyDef pathListKey(std::string path, std::function<void(Config&, std::vector<std::string>)> f) {
    KeyDef k{std::move(path), "a non-empty list of paths starting with / (no space, ?, #, { or })",
             nullptr, true, nullptr};
    k.setList = [=](Config& c, const std::vector<std::string>& v) -> std::optional<std::string> {
        if (v.empty()) return "";
        for (auto& p : v) {
            // No braces: "{...}" in a path is a parameter in the route table.
            if (p.empty() || p[0] != '/' || p.find_first_of(" ?#{}") != std::string::npos) return p;
        }
        f(c, v);
        return std::nullopt;
    };
    return k;
}

// A list of CIDR blocks, possibly empty; blank items (", ," in the environment) are skipped.
KeyDef cidrListKey(std::string path, std::function<void(Config&, std::vector<models::Cidr>)> f) {
    KeyDef k{std::move(path),
             "a list of IPv4 or IPv6 CIDR blocks like 10.0.0.0/8, 192.0.2.7 or 2001:db8::/32",
             nullptr, true, nullptr};
    k.setList = [=](Config& c, const std::vector<std::string>& v) -> std::optional<std::string> {
        std::vector<models::Cidr> blocks;
        for (auto& item : v) {
            if (item.find_first_not_of(" \t") == std::string::npos) continue;
            auto cidr = models::Cidr::parse(item);
            if (!cidr) return item;
            blocks.push_back(*cidr);
        }
        f(c, std::move(blocks));
        return std::nullopt;
    };
    return k;
}

const std::vector<KeyDef>& schema() {
    using C = Config;
    const Millis day{24LL * 3600 * 1000};
    static const std::vector<KeyDef> keys = {
        strKey("server.host", [](C& c, auto& v) { c.server.host = v; }),
        intKey("server.port", 0, 65535, [](C& c, int64_t v) { c.server.port = int(v); }),
        intKey("server.threads", 1, 64, [](C& c, int64_t v) { c.server.threads = int(v); }),
        intKey("server.max_body_bytes", 256, 16 << 20,
               [](C& c, int64_t v) { c.server.maxBodyBytes = v; }),
        intKey("server.max_header_bytes", 1024, 1 << 20,
               [](C& c, int64_t v) { c.server.maxHeaderBytes = v; }),
        intKey("server.worker_threads", 1, 256,
               [](C& c, int64_t v) { c.server.workerThreads = int(v); }),
        cidrListKey("server.trusted_proxies",
                    [](C& c, auto v) { c.server.trustedProxies = std::move(v); }),
        intKey("server.max_connections", 0, 10'000'000,
               [](C& c, int64_t v) { c.server.maxConnections = v; }),
        intKey("server.max_connections_per_ip", 0, 10'000'000,
               [](C& c, int64_t v) { c.server.maxConnectionsPerIp = v; }),
        intKey("server.max_unwritten_bytes_per_connection", 4096, int64_t(1) << 30,
               [](C& c, int64_t v) { c.server.maxUnwrittenBytesPerConnection = v; }),
        intKey("server.max_unwritten_bytes", 0, int64_t(1) << 40,
               [](C& c, int64_t v) { c.server.maxUnwrittenBytes = v; }),
        enumKey("database.backend", {"sqlite", "postgresql", "mysql"},
                [](C& c, auto& v) { c.database.backend = v; }),
        strKey("database.sqlite.path", [](C& c, auto& v) { c.database.sqlitePath = v; }),
        strKey("database.postgresql.dsn", [](C& c, auto& v) { c.database.postgresqlDsn = v; }),
        boolKey("database.postgresql.prepared_statements",
                [](C& c, bool v) { c.database.postgresqlPreparedStatements = v; }),
        strKey("database.mysql.dsn", [](C& c, auto& v) { c.database.mysqlDsn = v; }),
        intKey("database.pool_size", 1, 256, [](C& c, int64_t v) { c.database.poolSize = int(v); }),
        boolKey("database.auto_migrate", [](C& c, bool v) { c.database.autoMigrate = v; }),
        durationKey("database.timeout", Millis{100}, Millis{60000},
                    [](C& c, Millis v) { c.database.timeout = v; }),
        strKey("jwt.secret", [](C& c, auto& v) { c.jwt.secret = v; }),
        strKey("jwt.keys_dir", [](C& c, auto& v) { c.jwt.keysDir = v; }),
        strKey("jwt.signing_kid", [](C& c, auto& v) { c.jwt.signingKid = v; }),
        durationKey("jwt.jwks_max_age", Millis{0}, day,
                    [](C& c, Millis v) { c.jwt.jwksMaxAge = v; }),
        strKey("jwt.issuer", [](C& c, auto& v) { c.jwt.issuer = v; }),
        strKey("jwt.audience", [](C& c, auto& v) { c.jwt.audience = v; }),
        durationKey("jwt.access_ttl", Millis{1000}, day,
                    [](C& c, Millis v) { c.jwt.accessTtl = v; }),
        durationKey("jwt.leeway", Millis{0}, Millis{300000},
                    [](C& c, Millis v) { c.jwt.leeway = v; }),
        enumKey("jwt.key_store", {"files", "database"}, [](C& c, auto& v) { c.jwt.keyStore = v; }),
        strKey("jwt.key_encryption_key", [](C& c, auto& v) { c.jwt.keyEncryptionKey = v; }),
        durationKey("jwt.key_poll", Millis{100}, Millis{3600000},
                    [](C& c, Millis v) { c.jwt.keyPoll = v; }),
        durationKey("jwt.rotation.period", Millis{1000}, day * 3650,
                    [](C& c, Millis v) { c.jwt.rotationPeriod = v; }),
        enumKey("jwt.rotation.algorithm", {"ES256", "RS256"},
                [](C& c, auto& v) { c.jwt.rotationAlgorithm = v; }),
        strKey("refresh.secret", [](C& c, auto& v) { c.refresh.secret = v; }),
        durationKey("refresh.ttl", Millis{1000}, day * 3650,
                    [](C& c, Millis v) { c.refresh.ttl = v; }),
        durationKey("refresh.reuse_grace", Millis{0}, Millis{300000},
                    [](C& c, Millis v) { c.refresh.reuseGrace = v; }),
        boolKey("refresh.sliding", [](C& c, bool v) { c.refresh.sliding = v; }),
        boolKey("refresh.accept_access_token",
                [](C& c, bool v) { c.refresh.acceptAccessToken = v; }),
        durationKey("refresh.purge_interval", Millis{1000}, day,
                    [](C& c, Millis v) { c.refresh.purgeInterval = v; }),
        enumKey("auth.registration", {"open", "closed"},
                [](C& c, auto& v) { c.auth.registrationOpen = (v == "open"); }),
        intKey("auth.password_min_length", 1, 1024,
               [](C& c, int64_t v) { c.auth.passwordMinLength = int(v); }),
        intKey("auth.argon2id.memory_kib", 8, 4 << 20,
               [](C& c, int64_t v) { c.auth.argon2id.memoryKib = int(v); }),
        intKey("auth.argon2id.iterations", 1, 64,
               [](C& c, int64_t v) { c.auth.argon2id.iterations = int(v); }),
        // Accepted and checked, never stored: libsodium's argon2id runs one lane, and any
        // other value would silently differ from what is configured.
        intKey("auth.argon2id.parallelism", 1, 1, [](C&, int64_t) {}),
        intKey("auth.login_rate_limit.per_ip_per_minute", 1, 1000000,
               [](C& c, int64_t v) { c.auth.loginRateLimit.perIpPerMinute = int(v); }),
        intKey("auth.login_rate_limit.per_account_per_minute", 1, 1000000,
               [](C& c, int64_t v) { c.auth.loginRateLimit.perAccountPerMinute = int(v); }),
        intKey("auth.register_rate_limit.per_ip_per_hour", 0, 1000000,
               [](C& c, int64_t v) { c.auth.registerRateLimit.perIpPerHour = int(v); }),
        intKey("auth.hash_threads", 1, 256, [](C& c, int64_t v) { c.auth.hashThreads = int(v); }),
        pathListKey("routes.login", [](C& c, auto v) { c.routes.login = std::move(v); }),
        pathListKey("routes.refresh", [](C& c, auto v) { c.routes.refresh = std::move(v); }),
        pathListKey("routes.protected",
                    [](C& c, auto v) { c.routes.protectedPaths = std::move(v); }),
        strKey("server.public_url", [](C& c, auto& v) { c.server.publicUrl = v; }),
        durationKey("auth.recovery.ttl", Millis{60000}, day,
                    [](C& c, Millis v) { c.auth.recovery.ttl = v; }),
        intKey("auth.recovery.per_email_per_hour", 0, 1000000,
               [](C& c, int64_t v) { c.auth.recovery.perEmailPerHour = int(v); }),
        intKey("auth.recovery.per_ip_per_hour", 0, 1000000,
               [](C& c, int64_t v) { c.auth.recovery.perIpPerHour = int(v); }),
        enumKey("auth.email_verification", {"off", "optional", "required"},
                [](C& c, auto& v) { c.auth.emailVerification = v; }),
        enumKey("auth.limits_store", {"memory", "database"},
                [](C& c, auto& v) { c.auth.limitsStore = v; }),
        boolKey("auth.mfa.enabled", [](C& c, bool v) { c.auth.mfa.enabled = v; }),
        strKey("auth.mfa.encryption_key", [](C& c, auto& v) { c.auth.mfa.encryptionKey = v; }),
        strKey("auth.mfa.issuer", [](C& c, auto& v) { c.auth.mfa.issuer = v; }),
        enumKey("mail.transport", {"file", "smtp"}, [](C& c, auto& v) { c.mail.transport = v; }),
        strKey("mail.file_dir", [](C& c, auto& v) { c.mail.fileDir = v; }),
        strKey("mail.smtp_url", [](C& c, auto& v) { c.mail.smtpUrl = v; }),
        strKey("mail.username", [](C& c, auto& v) { c.mail.username = v; }),
        strKey("mail.password", [](C& c, auto& v) { c.mail.password = v; }),
        enumKey("mail.starttls", {"required", "opportunistic", "off"},
                [](C& c, auto& v) { c.mail.startTls = v; }),
        strKey("mail.from", [](C& c, auto& v) { c.mail.from = v; }),
        strKey("mail.link_base_url", [](C& c, auto& v) { c.mail.linkBaseUrl = v; }),
        strKey("mail.templates_dir", [](C& c, auto& v) { c.mail.templatesDir = v; }),
        durationKey("mail.timeout", Millis{1000}, Millis{300000},
                    [](C& c, Millis v) { c.mail.timeout = v; }),
        durationKey("mail.retry_initial", Millis{100}, Millis{3600000},
                    [](C& c, Millis v) { c.mail.retryInitial = v; }),
        intKey("mail.max_attempts", 1, 100, [](C& c, int64_t v) { c.mail.maxAttempts = int(v); }),
        enumKey("log.level", {"trace", "debug", "info", "warn", "error", "off"},
                [](C& c, auto& v) { c.log.level = v; }),
        enumKey("log.format", {"text", "json"}, [](C& c, auto& v) { c.log.format = v; }),
    };
    return keys;
}

std::string envName(const std::string& path) {
    std::string name = "AUTHSVC_";
    for (char ch : path)
        name += ch == '.' ? '_' : char(std::toupper(static_cast<unsigned char>(ch)));
    return name;
}

[[noreturn]] void fail(const std::string& source, const std::string& key, const std::string& why) {
    throw ConfigError(source + ": " + key + ": " + why);
}

// Walks a YAML mapping, recording every leaf that the schema knows and refusing any
// key that is neither a leaf nor a section.
void collect(const YAML::Node& node, const std::string& prefix, const std::string& source,
             const std::set<std::string>& leaves, const std::set<std::string>& sections,
             std::map<std::string, YAML::Node>& out) {
    if (node.IsNull()) return;
    if (!node.IsMap()) fail(source, prefix.empty() ? "(top level)" : prefix, "expected a mapping");
    std::set<std::string> seen;
    for (const auto& kv : node) {
        if (!kv.first.IsScalar()) {
            fail(source, prefix.empty() ? "(top level)" : prefix, "keys must be plain names");
        }
        const std::string key = kv.first.Scalar();
        const std::string path = prefix.empty() ? key : prefix + "." + key;
        // yaml-cpp keeps duplicate keys silently; a repeated key is almost always a typo.
        if (!seen.insert(key).second) fail(source, path, "key appears twice");
        if (leaves.count(path)) {
            out[path] = kv.second;
        } else if (sections.count(path)) {
            collect(kv.second, path, source, leaves, sections, out);
        } else {
            fail(source, path, "unknown key");
        }
    }
}

// SOCI's MySQL connection string names a password with password= or pass=.
bool mysqlDsnHoldsPassword(const std::string& dsn) {
    std::string v = dsn;
    for (char& ch : v) ch = char(std::tolower(static_cast<unsigned char>(ch)));
    for (const std::string key : {"password", "pass"}) {
        for (size_t at = v.find(key); at != std::string::npos; at = v.find(key, at + 1)) {
            const size_t eq = v.find_first_not_of(" \t", at + key.size());
            if (eq != std::string::npos && v[eq] == '=') return true;
        }
    }
    return false;
}

// True when `value` of the key `path` is secret: a non-empty jwt.secret or refresh.secret,
// or a PostgreSQL DSN with a password (keyword password=, or user:password@ in a URI).
bool holdsSecret(const std::string& path, const std::string& value) {
    if (path == "jwt.secret" || path == "refresh.secret" || path == "auth.mfa.encryption_key" ||
        path == "jwt.key_encryption_key")
        return !value.empty();
    if (path == "database.mysql.dsn") return mysqlDsnHoldsPassword(value);
    if (path != "database.postgresql.dsn") return false;
    std::string v = value;
    for (char& ch : v) ch = char(std::tolower(static_cast<unsigned char>(ch)));
    for (size_t at = v.find("password"); at != std::string::npos; at = v.find("password", at + 1)) {
        const size_t eq = v.find_first_not_of(" \t", at + 8);
        if (eq != std::string::npos && v[eq] == '=') return true;
    }
    const size_t scheme = v.find("://");
    if (scheme == std::string::npos) return false;
    const size_t at = v.find('@', scheme + 3);
    const size_t slash = v.find('/', scheme + 3);
    return at != std::string::npos && (slash == std::string::npos || at < slash) &&
           v.find(':', scheme + 3) < at;
}

std::string describe(const std::string& s) {
    return "\"" + s + "\"";
}

bool isHttpUrl(const std::string& url) {
    return (url.rfind("http://", 0) == 0 && url.size() > 7) ||
           (url.rfind("https://", 0) == 0 && url.size() > 8);
}

// The mail settings: links never point at 0.0.0.0, an SMTP transport has a URL and knows
// where links point, the sender is one mailbox.
void finishMail(Config& c, const std::string& source) {
    auto& m = c.mail;
    if (!c.server.publicUrl.empty()) {
        if (!isHttpUrl(c.server.publicUrl) ||
            c.server.publicUrl.find_first_of(" ?#") != std::string::npos) {
            fail(source, "server.public_url", "expected an http:// or https:// URL without ? or #");
        }
        while (c.server.publicUrl.size() > 1 && c.server.publicUrl.back() == '/') {
            c.server.publicUrl.pop_back();
        }
    }
    while (!m.linkBaseUrl.empty() && m.linkBaseUrl.back() == '/') m.linkBaseUrl.pop_back();
    if (m.linkBaseUrl.find_first_of(" \r\n") != std::string::npos) {
        fail(source, "mail.link_base_url", "must not contain spaces or line breaks");
    }
    if (m.from.empty() || m.from.find('@') == std::string::npos ||
        m.from.find_first_of("\r\n") != std::string::npos) {
        fail(source, "mail.from", "expected a mailbox like \"App <no-reply@example.com>\"");
    }
    if (m.transport == "smtp") {
        if (m.smtpUrl.rfind("smtp://", 0) != 0 && m.smtpUrl.rfind("smtps://", 0) != 0) {
            fail(source, "mail.smtp_url",
                 "transport smtp needs smtp://host:port or smtps://host:port");
        }
        if (m.linkBaseUrl.empty() && c.server.publicUrl.empty()) {
            fail(source, "mail.link_base_url",
                 "transport smtp needs mail.link_base_url or server.public_url (links in mails "
                 "must not point at the listen address)");
        }
    }
    if (m.linkBaseUrl.empty()) {
        std::string base = c.server.publicUrl;
        if (base.empty()) {
            const std::string host =
                c.server.host == "0.0.0.0" || c.server.host == "::" || c.server.host.empty()
                    ? std::string("localhost")
                    : c.server.host;
            const bool v6 = host.find(':') != std::string::npos;
            base = "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(c.server.port);
        }
        m.linkBaseUrl = base + "/account";
    }
}

void finish(Config& c, const std::string& source) {
    if (!c.jwt.secret.empty() && c.jwt.secret.size() < 32) {
        fail(source, "jwt.secret", "an HS256 secret must be at least 32 bytes");
    }
    if (c.jwt.keysDir.empty() && !c.jwt.signingKid.empty()) {
        fail(source, "jwt.signing_kid", "needs jwt.keys_dir");
    }
    if (!c.refresh.secret.empty() && c.refresh.secret.size() < 32) {
        fail(source, "refresh.secret", "must be at least 32 bytes");
    }
    models::crypto::init();
    if (c.auth.mfa.enabled) {
        if (c.auth.mfa.encryptionKey.empty()) {
            fail(source, "auth.mfa.encryption_key",
                 "required when auth.mfa.enabled is true: 32 random bytes as base64 "
                 "(openssl rand -base64 32), best in AUTHSVC_AUTH_MFA_ENCRYPTION_KEY");
        }
        auto key = models::crypto::base64Decode(c.auth.mfa.encryptionKey);
        if (!key || key->size() != 32) {
            fail(source, "auth.mfa.encryption_key", "expected 32 bytes as base64");
        }
    }
    if (c.jwt.keyStore == "database") {
        auto key = models::crypto::base64Decode(c.jwt.keyEncryptionKey);
        if (!key || key->size() != 32) {
            fail(source, "jwt.key_encryption_key",
                 "required when jwt.key_store is database: 32 random bytes as base64 "
                 "(openssl rand -base64 32), best in AUTHSVC_JWT_KEY_ENCRYPTION_KEY");
        }
    }
    // Only HS256 alone needs a secret; beside keys_dir or the key store an empty secret
    // means no HS256.
    if (c.jwt.secret.empty() && c.jwt.keysDir.empty() && c.jwt.keyStore != "database") {
        c.jwt.secret = verify::base64UrlEncode(models::crypto::randomBytes(48));
        c.jwt.secretGenerated = true;
    }
    // The refresh successor key: its own setting, never jwt.secret's value (HS256
    // deployments share jwt.secret with every verifier, and whoever holds the successor key
    // and one refresh token can compute that family's later tokens). Random per start, with
    // a warning, only when no jwt.secret is configured either.
    if (c.refresh.secret.empty()) {
        if (!c.jwt.secret.empty() && !c.jwt.secretGenerated) {
            fail(source, "refresh.secret",
                 "required beside jwt.secret (the successor key must not be a secret that "
                 "verifiers hold): set AUTHSVC_REFRESH_SECRET to at least 32 random bytes of its "
                 "own (README, \"Upgrading\")");
        }
        c.refresh.secret = verify::base64UrlEncode(models::crypto::randomBytes(48));
        c.refresh.secretGenerated = true;
    } else if (c.refresh.secret == c.jwt.secret) {
        fail(source, "refresh.secret", "must differ from jwt.secret");
    }
    finishMail(c, source);
    std::set<std::string> seen(std::begin(FixedPaths::kAll), std::end(FixedPaths::kAll));
    for (auto* list : {&c.routes.login, &c.routes.refresh, &c.routes.protectedPaths}) {
        for (auto& p : *list) {
            if (!seen.insert(p).second) {
                fail(source, "routes", "path " + p + " is already taken by another route");
            }
        }
    }
}

// oauth.clients: a list of {id, secret_sha256, introspect} (a YAML sequence of mappings;
// AUTHSVC_OAUTH_CLIENTS holds the same list in YAML flow style).
void parseOAuthClients(const YAML::Node& n, const std::string& source, Config& c) {
    const std::string key = "oauth.clients";
    const std::string expected =
        "expected a list of {id, secret_sha256 (64 hex characters), introspect (true or false)}";
    if (!n.IsSequence()) fail(source, key, expected);
    std::set<std::string> ids;
    for (const auto& item : n) {
        if (!item.IsMap()) fail(source, key, expected);
        models::OAuthClient client;
        std::string introspect = "false";
        for (const auto& kv : item) {
            const std::string name = kv.first.IsScalar() ? kv.first.Scalar() : "";
            if (!kv.second.IsScalar()) fail(source, key + "." + name, expected);
            const std::string& v = kv.second.Scalar();
            if (name == "id") {
                client.id = v;
            } else if (name == "secret_sha256") {
                client.secretSha256 = v;
                for (char& ch : client.secretSha256) {
                    ch = char(std::tolower(static_cast<unsigned char>(ch)));
                }
            } else if (name == "introspect") {
                introspect = v;
            } else {
                fail(source, key, "unknown member " + describe(name) + "; " + expected);
            }
        }
        if (client.id.empty() || std::any_of(client.id.begin(), client.id.end(),
                                             [](char ch) { return ch <= ' ' || ch == 127; })) {
            fail(source, key + ".id",
                 "expected a non-empty id without spaces or control characters");
        }
        if (!client.secretSha256.empty() &&
            (client.secretSha256.size() != 64 ||
             client.secretSha256.find_first_not_of("0123456789abcdef") != std::string::npos)) {
            fail(source, key + ".secret_sha256",
                 "expected the 64 hex characters of the SHA-256 of the client's secret");
        }
        if (introspect != "true" && introspect != "false") {
            fail(source, key + ".introspect", "expected true or false");
        }
        client.introspect = introspect == "true";
        if (client.introspect && client.secretSha256.empty()) {
            fail(source, key + ".introspect", "needs secret_sha256 (a confidential client)");
        }
        if (!ids.insert(client.id).second) {
            fail(source, key, "client " + describe(client.id) + " is listed twice");
        }
        c.oauth.clients.push_back(std::move(client));
    }
}

}  // namespace

EnvLookup processEnvironment() {
    return [](const std::string& name) -> std::optional<std::string> {
        const char* v = std::getenv(name.c_str());
        if (!v) return std::nullopt;
        return std::string(v);
    };
}

std::optional<Millis> parseDuration(const std::string& text) {
    size_t i = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == 0 || i > 12) return std::nullopt;
    const int64_t n = std::stoll(text.substr(0, i));
    std::string unit = text.substr(i);
    int64_t mult;
    if (unit == "ms") {
        mult = 1;
    } else if (unit == "s") {
        mult = 1000;
    } else if (unit == "m") {
        mult = 60'000;
    } else if (unit == "h") {
        mult = 3'600'000;
    } else if (unit == "d") {
        mult = 86'400'000;
    } else {
        return std::nullopt;
    }
    if (n > std::numeric_limits<int64_t>::max() / mult) return std::nullopt;
    return Millis{n * mult};
}

Config parseConfig(const std::string& yamlText, const std::string& source, const EnvLookup& env) {
    std::set<std::string> leaves, sections;
    for (const auto& k : schema()) {
        leaves.insert(k.path);
        for (size_t dot = k.path.find('.'); dot != std::string::npos;
             dot = k.path.find('.', dot + 1)) {
            sections.insert(k.path.substr(0, dot));
        }
    }
    // oauth.clients is a list of mappings, read by parseOAuthClients().
    leaves.insert("oauth.clients");
    sections.insert("oauth");
    std::map<std::string, YAML::Node> found;
    try {
        YAML::Node root = YAML::Load(yamlText);
        collect(root, "", source, leaves, sections, found);
    } catch (const YAML::ParserException& e) {
        throw ConfigError(source + ": line " + std::to_string(e.mark.line + 1) +
                          ": invalid YAML: " + e.msg);
    } catch (const YAML::Exception& e) {
        throw ConfigError(source + ": invalid YAML: " + e.msg);
    }

    Config c;
    c.source = source;
    for (const auto& k : schema()) {
        // Even when the environment overrides it, the file still holds it.
        if (auto it = found.find(k.path); it != found.end() && it->second.IsScalar() &&
                                          holdsSecret(k.path, it->second.Scalar())) {
            c.secretsInFile.push_back(k.path);
        }
        const std::string var = envName(k.path);
        if (auto v = env(var)) {
            bool ok;
            std::string got = *v;
            if (k.isList) {
                std::vector<std::string> items;
                size_t start = 0;
                while (start <= v->size()) {
                    size_t comma = v->find(',', start);
                    if (comma == std::string::npos) comma = v->size();
                    items.push_back(v->substr(start, comma - start));
                    start = comma + 1;
                }
                const auto bad = k.setList(c, items);
                ok = !bad;
                if (bad && !bad->empty()) got = *bad;
            } else {
                ok = k.set(c, *v);
            }
            if (!ok)
                fail("environment " + var, k.path,
                     "expected " + k.expected + ", got " + describe(got));
            continue;
        }
        auto it = found.find(k.path);
        if (it == found.end() || it->second.IsNull()) continue;
        const YAML::Node& n = it->second;
        if (k.isList) {
            std::vector<std::string> items;
            bool shapeOk = n.IsSequence();
            if (shapeOk) {
                for (const auto& item : n) {
                    if (!item.IsScalar())
                        shapeOk = false;
                    else
                        items.push_back(item.Scalar());
                }
            }
            const auto bad = shapeOk ? k.setList(c, items) : std::optional<std::string>("");
            if (bad) {
                fail(source, k.path,
                     "expected " + k.expected + (bad->empty() ? "" : ", got " + describe(*bad)));
            }
        } else {
            if (!n.IsScalar())
                fail(source, k.path, "expected " + k.expected + ", got a collection");
            if (!k.set(c, n.Scalar())) {
                fail(source, k.path, "expected " + k.expected + ", got " + describe(n.Scalar()));
            }
        }
    }
    if (auto v = env("AUTHSVC_OAUTH_CLIENTS")) {
        YAML::Node n;
        try {
            n = YAML::Load(*v);
        } catch (const YAML::Exception&) {
            fail("environment AUTHSVC_OAUTH_CLIENTS", "oauth.clients", "invalid YAML");
        }
        if (!n.IsNull()) parseOAuthClients(n, "environment AUTHSVC_OAUTH_CLIENTS", c);
    } else if (auto it = found.find("oauth.clients"); it != found.end() && !it->second.IsNull()) {
        parseOAuthClients(it->second, source, c);
    }
    finish(c, source);
    return c;
}

Config loadConfig(const std::string& path, const EnvLookup& env) {
    std::string file = path;
    if (file.empty()) {
        if (!std::filesystem::exists("config.yaml")) return parseConfig("", "defaults", env);
        file = "config.yaml";
    }
    std::ifstream in(file);
    if (!in) throw ConfigError(file + ": cannot read the config file");
    std::stringstream text;
    text << in.rdbuf();
    return parseConfig(text.str(), file, env);
}

}  // namespace authsvc::app
