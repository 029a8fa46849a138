#include "app/Maintenance.h"

#include <algorithm>
#include <exception>

namespace authsvc::app {

Maintenance::Maintenance(MaintenanceTasks tasks, MaintenanceSchedule schedule, spdlog::logger& log)
    : tasks_(std::move(tasks)), schedule_(schedule), log_(log) {}

Maintenance::~Maintenance() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

bool Maintenance::migrateNow() {
    if (migrated_) return true;
    try {
        const int n = tasks_.migrate();
        if (n > 0) log_.info("applied {} migration(s)", n);
        migrated_ = true;
    } catch (const std::exception& e) {
        log_.warn("database not ready, migrations pending: {}", e.what());
    }
    return migrated_;
}

void Maintenance::purge() {
    try {
        for (int i = 0; i < schedule_.maxBatchesPerPurge; ++i) {
            const int64_t n = tasks_.purgeBatch(schedule_.purgeBatch);
            if (tasks_.purged) tasks_.purged(n);
            if (n < schedule_.purgeBatch) break;
        }
    } catch (const std::exception& e) {
        log_.warn("purge of expired refresh families failed: {}", e.what());
    }
}

Maintenance::TimePoint Maintenance::tick(TimePoint now) {
    if (!scheduled_) {
        scheduled_ = true;
        nextPurge_ = now + schedule_.purgeInterval;
        nextCheckpoint_ = now + schedule_.checkpointInterval;
        nextMigrate_ = now;
        nextDummyHash_ = now;
    }
    if (!migrated_ && now >= nextMigrate_) {
        if (!migrateNow()) nextMigrate_ = now + schedule_.migrateRetry;
    }
    if (tasks_.checkpoint && now >= nextCheckpoint_) {
        try {
            tasks_.checkpoint();
        } catch (const std::exception& e) {
            log_.warn("checkpoint of the write-ahead log failed: {}", e.what());
        }
        nextCheckpoint_ = now + schedule_.checkpointInterval;
    }
    if (migrated_ && now >= nextPurge_) {
        purge();
        nextPurge_ = now + schedule_.purgeInterval;
    }
    if (migrated_ && tasks_.refreshDummyHash && now >= nextDummyHash_) {
        try {
            tasks_.refreshDummyHash();
        } catch (const std::exception& e) {
            log_.warn("refreshing the dummy hash of unknown emails failed: {}", e.what());
        }
        nextDummyHash_ = now + schedule_.dummyHashInterval;
    }
    TimePoint next = migrated_ ? nextPurge_ : nextMigrate_;
    if (tasks_.checkpoint) next = std::min(next, nextCheckpoint_);
    if (migrated_ && tasks_.refreshDummyHash) next = std::min(next, nextDummyHash_);
    return next;
}

void Maintenance::start(bool migrationsPending) {
    if (!migrationsPending) migrated_ = true;
    thread_ = std::thread([this] { run(); });
}

void Maintenance::run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
        lock.unlock();
        const TimePoint wakeAt = tick(std::chrono::steady_clock::now());
        lock.lock();
        if (cv_.wait_until(lock, wakeAt, [this] { return stop_; })) break;
    }
}

}  // namespace authsvc::app
