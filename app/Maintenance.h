// Maintenance: the service's background upkeep, on one thread of its own, off the request
// threads. It applies pending migrations once the database is reachable (retrying every
// migrateRetry when auto_migrate could not at start-up), then deletes expired and
// long-revoked refresh families every purgeInterval in bounded batches, and, where a
// checkpoint task is given (SQLite), checkpoints the write-ahead log every
// checkpointInterval, and, where given, refreshes the dummy hash of unknown emails once the
// schema is up to date and then every dummyHashInterval. A failing task is logged and retried at
// its next turn; it never ends the thread. tick() is the whole schedule, callable with any time
// (tests drive it without the thread).
#pragma once

#include <spdlog/logger.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

namespace authsvc::app {

struct MaintenanceTasks {
    std::function<int()> migrate;                      // applies pending migrations; count
    std::function<int64_t(int64_t limit)> purgeBatch;  // deletes at most `limit`; count
    std::function<void(int64_t purged)> purged;        // told every batch's count; may be empty
    std::function<void()> checkpoint;                  // empty: no checkpoints
    std::function<void()> refreshDummyHash;            // empty: none
};

struct MaintenanceSchedule {
    std::chrono::milliseconds purgeInterval{10 * 60 * 1000};
    std::chrono::milliseconds migrateRetry{1000};
    std::chrono::milliseconds checkpointInterval{100};
    int64_t purgeBatch = 500;
    int maxBatchesPerPurge = 20;
    std::chrono::milliseconds dummyHashInterval{60 * 60 * 1000};
};

class Maintenance {
  public:
    using TimePoint = std::chrono::steady_clock::time_point;

    Maintenance(MaintenanceTasks tasks, MaintenanceSchedule schedule, spdlog::logger& log);
    ~Maintenance();  // stops and joins the thread, if started
    Maintenance(const Maintenance&) = delete;
    Maintenance& operator=(const Maintenance&) = delete;

    // Applies pending migrations now; true once the schema is up to date (also after an
    // earlier success). Logs a failure as a warning.
    bool migrateNow();
    // True once migrations were applied (or none were asked for: see start()).
    bool migrated() const { return migrated_; }

    // The schedule from `now`: what is due runs, in the order migrate, checkpoint, purge
    // (no purge before the schema is up to date). Returns when the next tick is due.
    TimePoint tick(TimePoint now);

    // Starts the thread. migrationsPending: keep calling migrateNow() until it succeeds;
    // otherwise the schema counts as up to date. Call once.
    void start(bool migrationsPending);

  private:
    void purge();
    void run();

    MaintenanceTasks tasks_;
    MaintenanceSchedule schedule_;
    spdlog::logger& log_;
    std::atomic<bool> migrated_{false};
    bool scheduled_ = false;  // nextPurge_/nextCheckpoint_ set (first tick)
    TimePoint nextPurge_{}, nextCheckpoint_{}, nextMigrate_{}, nextDummyHash_{};
    std::mutex mu_;
    std::condition_variable cv_;
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace authsvc::app
