// An old database (schema version 1: hex-text token hashes, AUTOINCREMENT ids) with a user,
// families and refresh tokens written as the old code wrote them, then the real binary
// starting on it (auto_migrate): the user logs in, an old token rotates, an old token's
// lost-response retry still gets its successor, and an old token already used revokes
// its family. On SQLite and on PostgreSQL (AUTHSVC_TEST_BACKEND).
#include <openssl/hmac.h>
#include <sodium.h>

#include <fstream>
#include <sstream>

#include "support/Harness.h"

namespace it {
namespace {

std::string hexOf(const unsigned char* bytes, size_t n) {
    std::string out(2 * n + 1, '\0');
    sodium_bin2hex(out.data(), out.size(), bytes, n);
    out.pop_back();
    return out;
}

// How version 1 stored a refresh token: the hex of its SHA-256.
std::string oldHash(const std::string& token) {
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(token.data()), token.size());
    return hexOf(digest, sizeof digest);
}

std::string newToken() {
    unsigned char bytes[32];
    randombytes_buf(bytes, sizeof bytes);
    return base64UrlEncode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
}

// The successor the service derives for a presented token (models::AuthService, issue 9's
// contract: HMAC-SHA256 under SHA-256 of a fixed label and the refresh secret).
std::string successorOf(const std::string& token, const std::string& refreshSecret) {
    const std::string label = "authsvc refresh successor v1\n" + refreshSecret;
    unsigned char key[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(key, reinterpret_cast<const unsigned char*>(label.data()), label.size());
    unsigned char mac[32];
    unsigned int macLength = 0;
    HMAC(EVP_sha256(), key, sizeof key, reinterpret_cast<const unsigned char*>(token.data()),
         token.size(), mac, &macLength);
    return base64UrlEncode(std::string_view(reinterpret_cast<const char*>(mac), macLength));
}

// The statements of a migration file: each ends with ";" at the end of a line.
std::vector<std::string> statementsOf(const fs::path& file) {
    std::ifstream in(file);
    if (!in) throw std::runtime_error("cannot read " + file.string());
    std::vector<std::string> out;
    std::string current;
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("--", 0) == 0) continue;
        current += line + "\n";
        if (!line.empty() && line.back() == ';') {
            out.push_back(current.substr(0, current.rfind(';')));
            current.clear();
        }
    }
    return out;
}

class MigrationUpgradeTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_GE(sodium_init(), 0);
        server = std::make_unique<ServerProcess>(
            json{{"refresh", {{"reuse_grace", "120s"}, {"secret", kRefreshSecret}}}});
        server->writeConfig();  // creates the PostgreSQL database in that mode
    }

    void exec(const std::string& sql) {
        if (pgMode()) {
            pgExec(server->pgDsn(), sql);
        } else if (mysqlMode()) {
            mysqlExec(server->mysqlDsn(), sql);
        } else {
            SqliteAdmin(server->dbPath()).exec(sql);
        }
    }
    std::vector<std::string> query(const std::string& sql) {
        if (pgMode()) return pgExec(server->pgDsn(), sql);
        if (mysqlMode()) return mysqlExec(server->mysqlDsn(), sql);
        return SqliteAdmin(server->dbPath()).column(sql);
    }

    // Schema version 1 exactly as `authsvc migrate` left it before version 2 existed.
    void createVersionOne() {
        const fs::path file = fs::path(AUTHSVC_SOURCE_DIR) / "migrations" /
                              (pgMode()      ? "postgresql"
                               : mysqlMode() ? "mysql"
                                             : "sqlite") /
                              "0001_init.sql";
        exec(
            "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at BIGINT NOT NULL)");
        for (const auto& statement : statementsOf(file)) exec(statement);
        exec(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES "
            "(1, '0001_init', " +
            std::to_string(nowSeconds() - 86400) + ")");
    }

    long long insertUser(const std::string& email, const std::string& password) {
        char hash[crypto_pwhash_STRBYTES];
        if (crypto_pwhash_str_alg(hash, password.c_str(), password.size(), 1, 64 * 1024,
                                  crypto_pwhash_ALG_ARGON2ID13) != 0) {
            throw std::runtime_error("crypto_pwhash_str_alg failed");
        }
        exec("INSERT INTO users (email, password_hash, created_at) VALUES ('" + email + "', '" +
             hash + "', " + std::to_string(nowSeconds() - 3600) + ")");
        return std::stoll(query("SELECT id FROM users WHERE email = '" + email + "'").at(0));
    }

    void insertFamily(const std::string& id, long long userId, long long expiresMs) {
        exec("INSERT INTO refresh_families (id, user_id, created_ms, expires_ms) VALUES ('" + id +
             "', " + std::to_string(userId) + ", " + std::to_string(nowMs() - 3'600'000) + ", " +
             std::to_string(expiresMs) + ")");
    }

    // A token row as version 1 wrote it; returns its id. usedMs < 0: unused.
    long long insertToken(const std::string& familyId, const std::string& token,
                          const std::string& parentId, long long usedMs,
                          const std::string& successor) {
        exec(
            "INSERT INTO refresh_tokens (family_id, token_hash, parent_id, issued_ms, used_ms, "
            "successor_hash) VALUES ('" +
            familyId + "', '" + oldHash(token) + "', " + parentId + ", " +
            std::to_string(nowMs() - 3'000'000) + ", " +
            (usedMs < 0 ? "NULL" : std::to_string(usedMs)) + ", " +
            (successor.empty() ? "NULL" : "'" + oldHash(successor) + "'") + ")");
        return std::stoll(
            query("SELECT id FROM refresh_tokens WHERE token_hash = '" + oldHash(token) + "'")
                .at(0));
    }

    // Migration 4 applied, and every hash stored as 32 bytes, the old rows included.
    void expectVersionFourWithHashesAsBytes() {
        const auto types = query(
            serverDbMode() ? "SELECT data_type FROM information_schema.columns WHERE "
                             "table_name = 'refresh_tokens' AND column_name IN "
                             "('token_hash', 'successor_hash')" +
                                 std::string(mysqlMode() ? " AND table_schema = DATABASE()" : "")
                           : "SELECT DISTINCT typeof(token_hash) || ' ' || length(token_hash) "
                             "FROM refresh_tokens");
        EXPECT_FALSE(types.empty());
        for (const auto& t : types) {
            EXPECT_TRUE(t == "bytea" || t == "blob 32" || (mysqlMode() && t == "binary")) << t;
        }
        EXPECT_EQ(query("SELECT COUNT(*) FROM schema_migrations WHERE version = 4"),
                  std::vector<std::string>{"1"});
    }

    static long long nowMs() { return nowSeconds() * 1000; }

    static inline const std::string kRefreshSecret = "migration-test-refresh-secret-0123456789";
    std::unique_ptr<ServerProcess> server;
};

TEST_F(MigrationUpgradeTest, AnOldDatabaseKeepsItsUsersFamiliesAndTokensWorking) {
    createVersionOne();
    const std::string email = uniqueEmail("old");
    const long long user = insertUser(email, kPassword);
    const long long expires = nowMs() + 86'400'000;

    // A: one fresh token. B: t0 rotated an hour ago into t1 (fresh). C: c0 rotated a second
    // ago into its derived successor c1, whose answer was lost (a retry within the grace).
    const std::string a0 = newToken(), b0 = newToken(), b1 = newToken(), c0 = newToken();
    const std::string c1 = successorOf(c0, kRefreshSecret);
    insertFamily("family-a", user, expires);
    insertToken("family-a", a0, "NULL", -1, "");
    insertFamily("family-b", user, expires);
    const long long b0id = insertToken("family-b", b0, "NULL", nowMs() - 3'600'000, b1);
    insertToken("family-b", b1, std::to_string(b0id), -1, "");
    insertFamily("family-c", user, expires);
    const long long c0id = insertToken("family-c", c0, "NULL", nowMs() - 1000, c1);
    insertToken("family-c", c1, std::to_string(c0id), -1, "");

    ASSERT_TRUE(server->start()) << server->logTail();  // auto_migrate upgrades the schema
    HttpClient client(server->port());

    expectVersionFourWithHashesAsBytes();

    // The user logs in (their old hash verifies), and the new session rotates.
    Tokens fresh = login(client, email, kPassword);
    ASSERT_FALSE(fresh.refresh.empty());
    EXPECT_EQ(refresh(client, fresh.refresh).status, 200);

    // A's old token rotates, and its successor after it.
    HttpResponse r = refresh(client, a0);
    ASSERT_EQ(r.status, 200) << r;
    const std::string a1 = r.jsonBody().value("refresh_token", "");
    EXPECT_EQ(refresh(client, a1).status, 200);

    // C's old token within the grace: the same successor again, which then rotates.
    r = refresh(client, c0);
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_EQ(r.jsonBody().value("refresh_token", ""), c1);
    EXPECT_EQ(refresh(client, c1).status, 200);

    // B's old token, used an hour ago: reuse, and the whole family is revoked.
    r = refresh(client, b0);
    EXPECT_EQ(r.status, 401) << r;
    EXPECT_EQ(r.errorCode(), "invalid_grant");
    r = refresh(client, b1);
    EXPECT_EQ(r.status, 401) << "the family of a reused old token still works: " << r;
    EXPECT_EQ(query("SELECT revoke_reason FROM refresh_families WHERE id = 'family-b'"),
              std::vector<std::string>{"reuse"});
}

TEST_F(MigrationUpgradeTest, MigrateCommandUpgradesAnOldDatabase) {
    createVersionOne();
    const std::string email = uniqueEmail("cli");
    const long long user = insertUser(email, kPassword);
    const std::string token = newToken();
    insertFamily("family-cli", user, nowMs() + 86'400'000);
    insertToken("family-cli", token, "NULL", -1, "");

    server->config()["database"]["auto_migrate"] = false;
    server->writeConfig();
    const CommandResult m =
        runAuthsvc({"migrate", "--config", server->configPath().string()}, server->dir());
    ASSERT_EQ(m.exitCode, 0) << m.out << m.err;
    expectVersionFourWithHashesAsBytes();
    ASSERT_TRUE(server->start()) << server->logTail();
    HttpClient client(server->port());
    const HttpResponse r = refresh(client, token);
    EXPECT_EQ(r.status, 200) << r;
}

}  // namespace
}  // namespace it
