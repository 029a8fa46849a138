// WorkerPool: a fixed number of threads draining a bounded job queue. Slow work
// (argon2id, database round trips) runs here so that the HTTP reactor threads keep
// verifying tokens. trySubmit() never blocks: a full queue is refused (-> 503).
// Thread-safe. stop() finishes the queued jobs, then joins.
// Order: jobs submitted as Order::Deferred (registrations) wait while Normal ones
// (logins) are queued, except that every kDeferredEvery-th job taken is a deferred one when
// both wait: a flood of the first cannot queue ahead of the second, and neither starves.
// Priority::Background runs the threads at nice +10 (Linux: per thread): the hashing pool
// runs there so that a burst of logins leaves token verification on the reactor threads
// most of the CPU, while the logins keep a share of it however busy the cores are.
// setIdle() moves them to SCHED_IDLE and back (HashingGovernor decides when): always
// under SCHED_IDLE, work at normal priority on the cores, even another process's,
// starved the logins (2,400 logins beside protected calls took 88 s instead of under 30).
#pragma once

#include <sys/types.h>
#include <time.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace authsvc::app {

class WorkerPool {
  public:
    // Batch: SCHED_BATCH, the normal priority, but a woken thread does not preempt the one
    // running on its core: on a core shared with a reactor, the reactor reads every
    // request that is ready before the workers take them, so the database pool's jobs
    // queue up and their rotations commit together (Database::drainTogether).
    enum class Priority { Normal, Background, Batch };
    enum class Order { Normal, Deferred };
    static constexpr int kDeferredEvery = 4;
    // afterJob(drained), if given, runs on the worker after each job, drained = no job was
    // queued then (the database pool commits the rotations its jobs queued,
    // Database::drainTogether). It must not throw.
    WorkerPool(std::string name, int threads, size_t maxQueued,
               Priority priority = Priority::Normal, std::function<void(bool)> afterJob = {});
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    // The queue's bound counts both orders.
    bool trySubmit(std::function<void()> job, Order order = Order::Normal);
    void stop();

    // Moves every thread of the pool (and those still starting) to SCHED_IDLE, or back to
    // the normal policy at the nice value they had. Leaving SCHED_IDLE needs CAP_SYS_NICE
    // or an RLIMIT_NICE that allows the nice value: false if a thread refused.
    bool setIdle(bool idle);
    // Whether setIdle(false) would succeed on a Background pool's threads in this process.
    static bool canLeaveIdle();
    // What HashingGovernor samples: the CPU time the pool's threads have used so far, and
    // whether a job is queued or running.
    int64_t cpuNanos();
    bool hasWork();

  private:
    void run(Priority priority);
    std::function<void()> takeLocked();  // a job waits

    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> queue_;
    std::deque<std::function<void()>> deferred_;
    int normalTakenInARow_ = 0;  // Normal jobs taken while deferred ones waited
    size_t maxQueued_;
    std::function<void(bool)> afterJob_;
    size_t running_ = 0;
    bool stopping_ = false;
    bool idle_ = false;
    std::vector<pid_t> tids_;        // of the threads started so far
    std::vector<clockid_t> clocks_;  // their CPU-time clocks
    std::vector<std::thread> threads_;
};

}  // namespace authsvc::app
