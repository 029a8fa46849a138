#include "app/scheduling/DatabasePool.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <chrono>
#include <future>

#include "support/TestSupport.h"

namespace authsvc::app {
namespace {

using models::Connection;

// On SQLite a rotation a job queued with writeTogetherLater commits once the pool runs out
// of jobs, with no other thread asking for it; the workers run under SCHED_BATCH.
TEST(DatabasePoolTest, OnSqliteAWriteAJobQueuedLaterCommitsWhenThePoolRunsOutOfJobs) {
    authsvc::testing::TempDir dir;
    models::DatabaseSettings settings;
    settings.sqlitePath = (dir.path() / "pool.db").string();
    models::Database db(settings);
    db.write([](soci::session& s) { s << "CREATE TABLE names (name TEXT)"; });
    auto pool = makeDatabasePool(db, "test-db", 1, 8);
    std::promise<std::exception_ptr> committed;
    std::promise<int> policy;
    ASSERT_TRUE(pool->trySubmit([&] {
        policy.set_value(sched_getscheduler(0));
        db.writeTogetherLater(
            [](Connection& c) { c.session() << "INSERT INTO names (name) VALUES ('later')"; },
            [&](std::exception_ptr e) { committed.set_value(e); });
    }));
    auto done = committed.get_future();
    ASSERT_EQ(done.wait_for(std::chrono::seconds(10)), std::future_status::ready)
        << "the queued write was never committed";
    EXPECT_FALSE(done.get());
    EXPECT_EQ(policy.get_future().get(), SCHED_BATCH);
    long long n = 0;
    db.read([&](soci::session& s) { s << "SELECT COUNT(*) FROM names", soci::into(n); });
    EXPECT_EQ(n, 1);
    pool->stop();
}

}  // namespace
}  // namespace authsvc::app
