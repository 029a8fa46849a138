// The database worker pool as the server runs it. On SQLite its threads run at
// WorkerPool::Priority::Batch (so that, on a core shared with a reactor, the requests' jobs
// queue up instead of each running as soon as it is read), and after each job the writes
// its jobs queued with Database::writeTogetherLater commit together
// (Database::drainTogether): at once when no job waits, else once the oldest of them waited
// kLaterWait behind other jobs. On PostgreSQL and MariaDB nothing is grouped: a plain pool.
// `db` must outlive the pool.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "app/scheduling/WorkerPool.h"
#include "models/Database.h"

namespace authsvc::app {

inline constexpr std::chrono::milliseconds kLaterWait{1};

std::unique_ptr<WorkerPool> makeDatabasePool(models::Database& db, std::string name, int threads,
                                             size_t maxQueued);

}  // namespace authsvc::app
