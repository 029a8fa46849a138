// Maintenance's schedule, driven through tick() with chosen times (no thread, no sleeping),
// and its thread started and stopped once.
#include "app/Maintenance.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

using authsvc::app::Maintenance;
using authsvc::app::MaintenanceSchedule;
using authsvc::app::MaintenanceTasks;
using namespace std::chrono_literals;

namespace {

struct Counts {
    int migrateCalls = 0;
    bool databaseDown = false;
    int purgeBatches = 0;
    int64_t rowsLeft = 0;  // what purgeBatch deletes, batch by batch
    int64_t purgedTotal = 0;
    int checkpoints = 0;
};

struct World {
    Counts c;
    std::shared_ptr<spdlog::logger> log =
        std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
    MaintenanceSchedule schedule;
    Maintenance::TimePoint t0 = Maintenance::TimePoint{} + 1000h;

    World() {
        schedule.purgeInterval = 60s;
        schedule.migrateRetry = 1s;
        schedule.checkpointInterval = 100ms;
        schedule.purgeBatch = 10;
        schedule.maxBatchesPerPurge = 3;
    }
    std::unique_ptr<Maintenance> make(bool withCheckpoint = true) {
        MaintenanceTasks tasks;
        tasks.migrate = [this] {
            ++c.migrateCalls;
            if (c.databaseDown) throw std::runtime_error("connection refused");
            return 1;
        };
        tasks.purgeBatch = [this](int64_t limit) {
            ++c.purgeBatches;
            if (c.databaseDown) throw std::runtime_error("connection refused");
            const int64_t n = std::min(limit, c.rowsLeft);
            c.rowsLeft -= n;
            return n;
        };
        tasks.purged = [this](int64_t n) { c.purgedTotal += n; };
        if (withCheckpoint) tasks.checkpoint = [this] { ++c.checkpoints; };
        return std::make_unique<Maintenance>(tasks, schedule, *log);
    }
};

}  // namespace

TEST(MaintenanceTest, MigratesAtTheFirstTickAndRetriesEverySecondWhileTheDatabaseIsDown) {
    World w;
    auto m = w.make(/*withCheckpoint=*/false);
    w.c.databaseDown = true;
    auto next = m->tick(w.t0);
    EXPECT_EQ(w.c.migrateCalls, 1);
    EXPECT_FALSE(m->migrated());
    EXPECT_EQ(next, w.t0 + 1s);
    m->tick(w.t0 + 500ms);  // not due yet
    EXPECT_EQ(w.c.migrateCalls, 1);
    w.c.databaseDown = false;
    next = m->tick(w.t0 + 1s);
    EXPECT_EQ(w.c.migrateCalls, 2);
    EXPECT_TRUE(m->migrated());
    EXPECT_EQ(next, w.t0 + 60s);  // now the purge is what comes next
    m->tick(w.t0 + 2s);
    EXPECT_EQ(w.c.migrateCalls, 2);  // never again once applied
}

TEST(MaintenanceTest, NoPurgeBeforeTheSchemaIsUpToDate) {
    World w;
    auto m = w.make(false);
    w.c.databaseDown = true;
    w.c.rowsLeft = 5;
    m->tick(w.t0);
    m->tick(w.t0 + 61s);
    EXPECT_EQ(w.c.purgeBatches, 0);
}

TEST(MaintenanceTest, PurgesEveryIntervalInBoundedBatches) {
    World w;
    auto manual = w.make(false);
    ASSERT_TRUE(manual->migrateNow());
    w.c = Counts{};
    w.c.rowsLeft = 45;
    manual->tick(w.t0);
    EXPECT_EQ(w.c.purgeBatches, 0);  // the first purge is one interval after the start
    manual->tick(w.t0 + 59s);
    EXPECT_EQ(w.c.purgeBatches, 0);
    const auto next = manual->tick(w.t0 + 60s);
    EXPECT_EQ(w.c.purgeBatches, 3);  // at most maxBatchesPerPurge
    EXPECT_EQ(w.c.purgedTotal, 30);
    EXPECT_EQ(next, w.t0 + 120s);
    manual->tick(w.t0 + 120s);
    EXPECT_EQ(w.c.purgedTotal, 45);
    EXPECT_EQ(w.c.purgeBatches, 5);  // stops at the first short batch
}

TEST(MaintenanceTest, AFailedPurgeIsRetriedAtTheNextInterval) {
    World w;
    auto m = w.make(false);
    ASSERT_TRUE(m->migrateNow());
    w.c.rowsLeft = 5;
    m->tick(w.t0);
    w.c.databaseDown = true;
    m->tick(w.t0 + 60s);
    EXPECT_EQ(w.c.purgeBatches, 1);
    EXPECT_EQ(w.c.rowsLeft, 5);
    w.c.databaseDown = false;
    m->tick(w.t0 + 120s);
    EXPECT_EQ(w.c.rowsLeft, 0);
}

TEST(MaintenanceTest, CheckpointsOnTheirOwnIntervalOnlyWhenGivenTheTask) {
    World w;
    auto m = w.make(/*withCheckpoint=*/true);
    ASSERT_TRUE(m->migrateNow());
    auto next = m->tick(w.t0);
    EXPECT_EQ(w.c.checkpoints, 0);
    EXPECT_EQ(next, w.t0 + 100ms);
    next = m->tick(next);
    EXPECT_EQ(w.c.checkpoints, 1);
    EXPECT_EQ(next, w.t0 + 200ms);

    World plain;
    auto p = plain.make(/*withCheckpoint=*/false);
    ASSERT_TRUE(p->migrateNow());
    EXPECT_EQ(p->tick(plain.t0), plain.t0 + 60s);
}

TEST(MaintenanceTest, TheThreadMigratesPendingMigrationsAndStopsPromptly) {
    World w;
    w.schedule.purgeInterval = 1h;
    auto m = w.make(false);
    m->start(/*migrationsPending=*/true);
    // The first tick runs at once on the thread; wait for it without a fixed sleep.
    for (int i = 0; i < 2000 && !m->migrated(); ++i) std::this_thread::sleep_for(1ms);
    EXPECT_TRUE(m->migrated());
    const auto before = std::chrono::steady_clock::now();
    m.reset();  // joins although the next tick is an hour away
    EXPECT_LT(std::chrono::steady_clock::now() - before, 5s);
}

TEST(MaintenanceTest, TheDummyHashIsRefreshedOnceTheSchemaIsUpThenEveryInterval) {
    World w;
    w.schedule.dummyHashInterval = 3600s;
    MaintenanceTasks tasks;
    int refreshes = 0;
    bool down = true;
    tasks.migrate = [&down] {
        if (down) throw std::runtime_error("connection refused");
        return 0;
    };
    tasks.purgeBatch = [](int64_t) { return int64_t(0); };
    tasks.refreshDummyHash = [&refreshes] {
        ++refreshes;
        if (refreshes == 2) throw std::runtime_error("connection refused");  // logged, retried
    };
    Maintenance m(tasks, w.schedule, *w.log);
    m.tick(w.t0);
    EXPECT_EQ(refreshes, 0);  // no schema yet
    down = false;
    auto next = m.tick(w.t0 + 1s);
    EXPECT_EQ(refreshes, 1);      // at start, as soon as the schema is there
    EXPECT_EQ(next, w.t0 + 60s);  // the purge comes first
    m.tick(w.t0 + 1800s);
    EXPECT_EQ(refreshes, 1);
    m.tick(w.t0 + 3601s);
    EXPECT_EQ(refreshes, 2);  // failed: tried again an interval later
    m.tick(w.t0 + 3700s);
    EXPECT_EQ(refreshes, 2);
    m.tick(w.t0 + 7201s);
    EXPECT_EQ(refreshes, 3);
}
