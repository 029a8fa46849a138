// MigrationLock on MariaDB (runs when AUTHSVC_TEST_MYSQL_DSN names a server, as
// scripts/test.sh does; skipped otherwise), with the injected clock, never sleeping: a
// live lease keeps the others out, its holder's refresh extends it, an expired one is
// taken over by exactly one waiter, a holder that lost its lease learns it, and release
// deletes only the holder's own row. Migrator::migrate() takes over a dead instance's
// lease at once. (Three instances on three Galera nodes: tests/integration/GaleraTest.)
#include "models/MigrationLock.h"

#include <gtest/gtest.h>

#include <chrono>

#include "support/ServerDatabaseTest.h"

namespace {

using namespace authsvc::models;

class MigrationLockTest : public authsvc::testing::ServerDatabaseTest {
  protected:
    void SetUp() override { setUpOn("AUTHSVC_TEST_MYSQL_DSN", Dialect::Mysql); }
    bool take(MigrationLock& lock) {
        return a_->autocommit([&](soci::session& s) { return lock.tryAcquire(s); });
    }
    std::string holder() {
        return a_->read([](soci::session& s) {
            std::string owner;
            s << "SELECT owner FROM schema_migrations_lock WHERE id = 1", soci::into(owner);
            return s.got_data() ? owner : std::string("none");
        });
    }
};

TEST_F(MigrationLockTest, ALiveLeaseKeepsOthersOutAndAnExpiredOneIsTakenOverOnce) {
    MigrationLock a(clock, "a"), b(clock, "b"), c(clock, "c");
    ASSERT_TRUE(take(a));
    EXPECT_TRUE(take(a));  // its own
    EXPECT_FALSE(take(b));
    clock.advanceMs(MigrationLock::kLeaseMs - 1);
    EXPECT_FALSE(take(b));
    // The holder's refresh extends the lease from now.
    a_->autocommit([&](soci::session& s) { a.refresh(s); });
    clock.advanceMs(MigrationLock::kLeaseMs - 1);
    EXPECT_FALSE(take(b));
    EXPECT_EQ(holder(), "a");
    // Expired (a died or stalled): b takes it over, c then finds b's live lease.
    clock.advanceMs(2);
    EXPECT_TRUE(take(b));
    EXPECT_FALSE(take(c));
    EXPECT_EQ(holder(), "b");
    // a learns it lost the lease; its release leaves b's row.
    EXPECT_THROW(a_->autocommit([&](soci::session& s) { a.refresh(s); }), std::runtime_error);
    a_->autocommit([&](soci::session& s) { a.release(s); });
    EXPECT_EQ(holder(), "b");
    b_->autocommit([&](soci::session& s) { b.release(s); });
    EXPECT_EQ(holder(), "none");
    EXPECT_TRUE(take(c));
}

// An instance killed while migrating left its row: the next migrate() takes the expired
// lease over at once (it would wait Migrator::kLockWait for a live one), finds nothing
// pending, and releases it.
TEST_F(MigrationLockTest, MigrateTakesOverADeadInstancesExpiredLease) {
    a_->autocommit([&](soci::session& s) {
        long long expired = clock.nowMs() - 1;
        s << "INSERT INTO schema_migrations_lock (id, owner, expires_ms) VALUES (1, 'dead', :e)",
            soci::use(expired);
    });
    const auto begin = std::chrono::steady_clock::now();
    EXPECT_EQ(Migrator(*b_, clock).migrate(), 0);
    EXPECT_LT(std::chrono::steady_clock::now() - begin, Migrator::kLockWait / 2);
    EXPECT_EQ(holder(), "none");
}

}  // namespace
