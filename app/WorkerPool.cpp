#include "app/WorkerPool.h"

#include <pthread.h>

#include <sys/resource.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>

namespace authsvc::app {

WorkerPool::WorkerPool(std::string name, int threads, size_t maxQueued, Priority priority)
    : maxQueued_(maxQueued) {
    for (int i = 0; i < threads; ++i) {
        threads_.emplace_back([this, priority] { run(priority); });
        pthread_setname_np(threads_.back().native_handle(), name.substr(0, 15).c_str());
    }
}

WorkerPool::~WorkerPool() {
    stop();
}

bool WorkerPool::trySubmit(std::function<void()> job) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_ || queue_.size() >= maxQueued_) return false;
        queue_.push_back(std::move(job));
    }
    cv_.notify_one();
    return true;
}

void WorkerPool::stop() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_ && threads_.empty()) return;
        stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) {
        if (t.joinable()) t.join();
    }
    threads_.clear();
}

void WorkerPool::run(Priority priority) {
    // On Linux the nice value belongs to the thread (its tid), not to the process.
    // Raising it needs no privilege; failing to is harmless (the pool runs at normal
    // priority), so the result is ignored.
    if (priority == Priority::Background) {
        const auto tid = static_cast<id_t>(gettid());
        errno = 0;
        const int base = getpriority(PRIO_PROCESS, tid);
        if (errno == 0) (void)setpriority(PRIO_PROCESS, tid, std::min(19, base + 10));
    }
    for (;;) {
        std::function<void()> job;
        {
            std::unique_lock<std::mutex> lock(mu_);
            cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty()) return;  // stopping and drained
            job = std::move(queue_.front());
            queue_.pop_front();
        }
        job();  // jobs catch their own exceptions (the dispatcher's error boundary)
    }
}

}  // namespace authsvc::app
