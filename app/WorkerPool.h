// WorkerPool: a fixed number of threads draining a bounded job queue. Slow work
// (argon2id, database round trips) runs here so that the HTTP reactor threads keep
// verifying tokens. trySubmit() never blocks: a full queue is refused (-> 503).
// Thread-safe. stop() finishes the queued jobs, then joins.
// Priority::Background runs the threads at nice +10 (Linux: per thread): the hashing pool
// runs there so that a burst of logins leaves token verification on the reactor threads
// most of the CPU, while the logins keep a share of it however busy the cores are.
// (SCHED_IDLE, measured: the storm no longer touched the protected p99, but work at
// normal priority on the cores, even another process's, then starved the logins: 2,400
// logins beside protected calls took 88 s instead of under 30.)
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace authsvc::app {

class WorkerPool {
  public:
    enum class Priority { Normal, Background };
    WorkerPool(std::string name, int threads, size_t maxQueued,
               Priority priority = Priority::Normal);
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    bool trySubmit(std::function<void()> job);
    void stop();
    size_t threads() const { return threads_.size(); }

  private:
    void run(Priority priority);

    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> queue_;
    size_t maxQueued_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace authsvc::app
