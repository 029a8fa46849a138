// Rotation on PostgreSQL (runs when AUTHSVC_TEST_PG_DSN names a server, as scripts/test.sh
// does; skipped otherwise), in a database of its own: the one-statement rotation of a fresh
// token, its compare-and-set, and exactly one rotation among concurrent refreshes through
// two Database instances (two service instances sharing the database).
#include <gtest/gtest.h>
#include <soci/postgresql/soci-postgresql.h>

#include <cstdlib>
#include <thread>

#include "support/TestSupport.h"
#include "models/Migrator.h"

namespace {

using namespace authsvc::models;
using authsvc::testing::kEmail;
using authsvc::testing::kPassword;
using authsvc::testing::kSecret;
using authsvc::testing::RecordingObserver;

class PostgresRotationTest : public ::testing::Test, protected authsvc::testing::ServiceParts {
  protected:
    void SetUp() override {
        const char* dsn = std::getenv("AUTHSVC_TEST_PG_DSN");
        if (!dsn || !*dsn) GTEST_SKIP() << "AUTHSVC_TEST_PG_DSN is not set";
        server_ = dsn;
        name_ = "authsvc_unit_" + authsvc::verify::base64UrlEncode(crypto::randomBytes(6));
        for (char& ch : name_)
            ch = std::isalnum(static_cast<unsigned char>(ch)) ? std::tolower(ch) : '_';
        soci::session(soci::postgresql, server_ + " dbname=postgres") << "CREATE DATABASE " + name_;
        a_ = open();
        b_ = open();
        Migrator(*a_, clock).migrate();
        settings.refreshTtlMs = 14LL * 24 * 3600 * 1000;
        settings.reuseGraceMs = 10'000;
        settings.successorKey = kSecret;
    }
    void TearDown() override {
        if (name_.empty()) return;
        a_.reset();
        b_.reset();
        soci::session(soci::postgresql, server_ + " dbname=postgres")
            << "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)";
    }
    std::unique_ptr<Database> open() {
        DatabaseSettings ds;
        ds.dialect = Dialect::Postgresql;
        ds.postgresqlDsn = server_ + " dbname=" + name_;
        ds.poolSize = 4;
        return std::make_unique<Database>(ds);
    }
    std::unique_ptr<AuthService> service(Database& db) {
        return std::make_unique<AuthService>(db, users, tokens, hasher, tokenService, clock,
                                             settings, observer);
    }
    TokenPair registerAndLogin(AuthService& auth) {
        EXPECT_TRUE(auth.registerUser(kEmail, kPassword));
        auto p = auth.login(kEmail, kPassword);
        EXPECT_TRUE(p);
        return p ? *p : TokenPair{};
    }

    std::string server_, name_;
    std::unique_ptr<Database> a_, b_;
};

TEST_F(PostgresRotationTest, AFreshTokenRotatesInOneStatementOnlyOnce) {
    auto auth = service(*a_);
    TokenPair p = registerAndLogin(*auth);
    const std::string hash = authsvc::verify::sha256(p.refreshToken);
    const int64_t now = clock.nowMs();
    auto first = a_->autocommit(
        [&](Connection& c) { return tokens.rotateIfFresh(c, hash, "successor-hash", now); });
    ASSERT_TRUE(first);
    EXPECT_GT(first->userId, 0);
    EXPECT_EQ(first->familyExpiresMs, now + settings.refreshTtlMs);
    // The compare-and-set: a second time nothing changes.
    EXPECT_FALSE(a_->autocommit(
        [&](Connection& c) { return tokens.rotateIfFresh(c, hash, "another-hash", now + 1); }));
    auto rec = a_->read([&](Connection& c) { return tokens.findByHash(c, hash); });
    ASSERT_TRUE(rec);
    EXPECT_EQ(rec->usedMs, now);
    EXPECT_EQ(rec->successorHash, "successor-hash");
    auto next = a_->read([&](Connection& c) { return tokens.findByHash(c, "successor-hash"); });
    ASSERT_TRUE(next);
    EXPECT_FALSE(next->usedMs);
    EXPECT_EQ(next->familyId, rec->familyId);
}

TEST_F(PostgresRotationTest, RevokedOrExpiredFamiliesAreNotRotated) {
    auto auth = service(*a_);
    TokenPair revoked = registerAndLogin(*auth);
    auth->logout(revoked.refreshToken);
    TokenPair expiring = *auth->login(kEmail, kPassword);
    for (const auto& [token, when] :
         {std::pair{revoked.refreshToken, clock.nowMs()},
          std::pair{expiring.refreshToken, clock.nowMs() + settings.refreshTtlMs}}) {
        const int64_t at = when;  // clang 15 cannot capture a structured binding
        const std::string hash = authsvc::verify::sha256(token);
        EXPECT_FALSE(a_->autocommit(
            [&](Connection& c) { return tokens.rotateIfFresh(c, hash, "s-" + hash, at); }));
        auto rec = a_->read([&](Connection& c) { return tokens.findByHash(c, hash); });
        ASSERT_TRUE(rec);
        EXPECT_FALSE(rec->usedMs);
    }
}

TEST_F(PostgresRotationTest, ServiceRotationRetryAndReuse) {
    auto auth = service(*a_);
    TokenPair p = registerAndLogin(*auth);
    auto r = auth->refresh(p.refreshToken);
    ASSERT_TRUE(r) << r.error().message;
    auto retry = service(*b_)->refresh(p.refreshToken);  // the other instance, in grace
    ASSERT_TRUE(retry) << retry.error().message;
    EXPECT_EQ(retry->refreshToken, r->refreshToken);
    clock.advanceMs(settings.reuseGraceMs + 1);
    EXPECT_FALSE(auth->refresh(p.refreshToken));  // reuse: the family is revoked
    EXPECT_EQ(observer.reuses.size(), 1u);
    EXPECT_FALSE(auth->refresh(r->refreshToken));
}

TEST_F(PostgresRotationTest, ConcurrentRefreshesOnTwoInstancesRotateExactlyOnce) {
    auto onA = service(*a_);
    auto onB = service(*b_);
    TokenPair p = registerAndLogin(*onA);
    authsvc::testing::expectOneRotationAmong(
        8, [&](int i) { return (i % 2 ? onB : onA)->refresh(p.refreshToken); }, observer);
}

// The dummy hash's query on PostgreSQL: prefixes grouped, most common first, a string too
// short to hold salt and hash counted under "" (PostgreSQL refuses a negative substr length).
TEST_F(PostgresRotationTest, TheDummyHashFollowsTheMostCommonStoredParameters) {
    const PasswordHasher older(Argon2Params{3, 16});
    a_->write([&](soci::session& s) {
        users.insert(s, "a@example.com", older.hash("password a"), 1);
        users.insert(s, "b@example.com", older.hash("password b"), 1);
        users.insert(s, "c@example.com", hasher.hash("password c"), 1);
        users.insert(s, "d@example.com", "!", 1);
    });
    const auto counts = a_->read([&](soci::session& s) { return users.hashParameterCounts(s, 8); });
    ASSERT_EQ(counts.size(), 3u);
    EXPECT_EQ(counts[0], (std::pair<std::string, int64_t>{"$argon2id$v=19$m=16,t=3,p=1", 2}));
    EXPECT_EQ(counts[1], (std::pair<std::string, int64_t>{"", 1}));
    EXPECT_EQ(counts[2], (std::pair<std::string, int64_t>{"$argon2id$v=19$m=8,t=1,p=1", 1}));
    auto auth = service(*a_);
    EXPECT_EQ(auth->refreshDummyHash(), (std::optional<Argon2Params>{Argon2Params{3, 16}}));
}

}  // namespace
