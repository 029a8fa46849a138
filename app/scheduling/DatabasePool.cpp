#include "app/scheduling/DatabasePool.h"

namespace authsvc::app {

std::unique_ptr<WorkerPool> makeDatabasePool(models::Database& db, std::string name, int threads,
                                             size_t maxQueued) {
    if (db.dialect() != models::Dialect::Sqlite) {
        return std::make_unique<WorkerPool>(std::move(name), threads, maxQueued);
    }
    return std::make_unique<WorkerPool>(
        std::move(name), threads, maxQueued, WorkerPool::Priority::Batch, [&db](bool drained) {
            db.drainTogether(drained ? std::chrono::steady_clock::duration{} : kLaterWait);
        });
}

}  // namespace authsvc::app
