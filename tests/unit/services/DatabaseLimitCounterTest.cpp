// DatabaseLimitCounter (auth.limits_store: database), on SQLite and PostgreSQL: instances
// share their counts, concurrent acquires never pass the limit, keys are stored hashed, a
// bucket's events leave the window with its latest, expired rows are purged, and a database
// error throws (the limits fail closed).
#include "services/DatabaseLimitCounter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "services/LoginThrottle.h"
#include "services/RegistrationLimit.h"
#include "support/LimitStores.h"
#include "support/ManualClock.h"

namespace {

using namespace authsvc::models;
using authsvc::testing::LimitStore;
using authsvc::testing::LimitStoreUnderTest;
using authsvc::verify::ManualClock;

// An instance of the service as far as the limits go: a Database of its own on the store.
struct Instance {
    explicit Instance(const LimitStoreUnderTest& store)
        : db(store.open()), counters(*db, store.repo()) {}
    std::unique_ptr<Database> db;
    DatabaseLimitCounters counters;
};

class DatabaseLimitCounterTest : public authsvc::testing::LimitStoreTest {
  protected:
    std::vector<std::string> storedKeys() {
        return store.db()->read([](Connection& s) {
            std::vector<std::string> keys;
            soci::rowset<std::string> rows =
                (s.session().prepare << "SELECT counter_key FROM limit_counters");
            for (const auto& k : rows) keys.push_back(k);
            return keys;
        });
    }
};

INSTANTIATE_TEST_SUITE_P(Stores, DatabaseLimitCounterTest,
                         ::testing::Values(LimitStore::Sqlite, LimitStore::Postgresql,
                                           LimitStore::Mysql),
                         authsvc::testing::limitStoreName);

TEST_P(DatabaseLimitCounterTest, InstancesOnOneDatabaseShareTheirCounts) {
    // Three instances: three Databases, three throttles; failures spread round-robin.
    std::vector<std::unique_ptr<Instance>> instances;
    std::vector<std::unique_ptr<LoginThrottle>> throttles;
    for (int i = 0; i < 3; ++i) {
        instances.push_back(std::make_unique<Instance>(store));
        throttles.push_back(
            std::make_unique<LoginThrottle>(100, 5, clock, instances.back()->counters));
    }
    for (int i = 0; i < 5; ++i) {
        ASSERT_EQ(throttles[i % 3]->retryAfter("192.0.2.1", "a@x"), std::nullopt) << i;
        throttles[i % 3]->recordFailure("192.0.2.1", "a@x");
    }
    for (auto& t : throttles) EXPECT_EQ(t->retryAfter("192.0.2.7", "a@x"), 60);
}

TEST_P(DatabaseLimitCounterTest, ConcurrentAcquiresNeverPassTheLimit) {
    Instance a(store), b(store);
    RegistrationLimit limits[] = {{20, clock, a.counters}, {20, clock, b.counters}};
    std::atomic<int> allowed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 10; ++i) {
                if (!limits[t % 2].acquire("192.0.2.1")) ++allowed;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(allowed.load(), 20);
}

TEST_P(DatabaseLimitCounterTest, KeysAreStoredHashedNeverInClear) {
    LoginThrottle t(5, 5, clock, *store.databaseCounters());
    t.recordFailure("192.0.2.1", "alice@example.com");
    const auto keys = storedKeys();
    ASSERT_EQ(keys.size(), 2u);
    for (const auto& k : keys) {
        EXPECT_EQ(k.size(), 32u) << k;
        EXPECT_EQ(k.find("alice"), std::string::npos) << k;
        EXPECT_EQ(k.find("192.0.2"), std::string::npos) << k;
    }
    EXPECT_NE(keys[0], keys[1]) << "the scope is part of the hash";
}

TEST_P(DatabaseLimitCounterTest, TheEventsOfABucketLeaveWithItsLatest) {
    // Per-minute windows count in 1 s buckets: of two events 500 ms apart in one bucket,
    // the first counts until the second leaves (a wait is never shorter than in memory).
    DatabaseLimitCounter c(*store.db(), store.repo(), "s", 2, 60'000);
    ASSERT_EQ(c.bucketMs(), 1000);
    const int64_t t0 = clock.nowMs();
    c.record("k", t0);
    c.record("k", t0 + 500);
    EXPECT_EQ(c.blockedUntil("k", t0 + 60'000), t0 + 60'500);
    EXPECT_EQ(c.blockedUntil("k", t0 + 60'500), std::nullopt);
    // Hour windows: buckets of a minute.
    EXPECT_EQ(DatabaseLimitCounter(*store.db(), store.repo(), "h", 2, 3'600'000).bucketMs(),
              60'000);
}

TEST_P(DatabaseLimitCounterTest, PurgeDeletesOnlyRowsPastTheirWindow) {
    DatabaseLimitCounter minute(*store.db(), store.repo(), "m", 5, 60'000);
    DatabaseLimitCounter hour(*store.db(), store.repo(), "h", 5, 3'600'000);
    const int64_t t0 = clock.nowMs();
    minute.record("k", t0);
    minute.record("k", t0 + 5'000);
    hour.record("k", t0);
    EXPECT_EQ(store.databaseCounters()->purge(t0 + 60'000, 100), 1);  // the first minute's
    EXPECT_EQ(storedKeys().size(), 2u);
    EXPECT_EQ(store.databaseCounters()->purge(t0 + 3'600'000, 100), 2);
    EXPECT_TRUE(storedKeys().empty());
}

TEST(DatabaseLimitCounterErrorTest, ADatabaseErrorThrowsSoTheLimitFailsClosed) {
    ManualClock clock;
    DatabaseSettings ds;
    ds.sqlitePath = "/proc/authsvc-no-such-dir/limits.db";
    ds.timeout = std::chrono::milliseconds(200);
    Database broken(ds);
    LimitCounterRepository repo;
    DatabaseLimitCounters counters(broken, repo);
    LoginThrottle throttle(5, 5, clock, counters);
    RegistrationLimit registrations(5, clock, counters);
    EXPECT_THROW(throttle.retryAfter("192.0.2.1", "a@x"), DatabaseUnavailable);
    EXPECT_THROW(throttle.recordFailure("192.0.2.1", "a@x"), DatabaseUnavailable);
    EXPECT_THROW(registrations.acquire("192.0.2.1"), DatabaseUnavailable);
}

}  // namespace
