// WorkerPool: a fixed number of threads draining a bounded job queue. Slow work
// (argon2id, database round trips) runs here so that the HTTP reactor threads keep
// verifying tokens. trySubmit() never blocks: a full queue is refused (-> 503).
// Thread-safe. stop() finishes the queued jobs, then joins.
// `niceness` > 0 lowers the threads' scheduling priority (Linux: per thread): the hashing
// pool runs at +10 so that a burst of logins cannot starve token verification on the
// reactor threads; it still gets every cycle the reactors leave idle.
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
    WorkerPool(std::string name, int threads, size_t maxQueued, int niceness = 0);
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    bool trySubmit(std::function<void()> job);
    void stop();
    size_t threads() const { return threads_.size(); }

  private:
    void run(int niceness);

    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> queue_;
    size_t maxQueued_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace authsvc::app
