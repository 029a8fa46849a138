// Rotation on PostgreSQL (runs when AUTHSVC_TEST_PG_DSN names a server, as scripts/test.sh
// does; skipped otherwise), in a database of its own: the one-statement rotation of a fresh
// token, its compare-and-set, and exactly one rotation among concurrent refreshes through
// two Database instances (two service instances sharing the database).
#include <gtest/gtest.h>
#include <soci/postgresql/soci-postgresql.h>

#include <cstdlib>
#include <thread>

#include "support/ServerDatabaseTest.h"

namespace {

using namespace authsvc::models;
using authsvc::testing::kEmail;
using authsvc::testing::kPassword;
using authsvc::testing::kSecret;
using authsvc::testing::RecordingObserver;

class PostgresRotationTest : public authsvc::testing::ServerDatabaseTest {
  protected:
    void SetUp() override { setUpOn("AUTHSVC_TEST_PG_DSN", Dialect::Postgresql); }
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
    expectRetryAndReuseAcrossInstances();
}

TEST_F(PostgresRotationTest, ConcurrentRefreshesOnTwoInstancesRotateExactlyOnce) {
    expectOneRotationOnTwoInstances(8);
}

// The dummy hash's query on PostgreSQL (which refuses a negative substr length).
TEST_F(PostgresRotationTest, TheDummyHashFollowsTheMostCommonStoredParameters) {
    expectDummyHashFollowsTheMostCommonStoredParameters();
}

}  // namespace
