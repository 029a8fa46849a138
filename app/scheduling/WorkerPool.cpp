#include "app/scheduling/WorkerPool.h"

#include <pthread.h>
#include <sched.h>

#include <sys/resource.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>

namespace authsvc::app {

WorkerPool::WorkerPool(std::string name, int threads, size_t maxQueued, Priority priority,
                       std::function<void(bool)> afterJob)
    : maxQueued_(maxQueued), afterJob_(std::move(afterJob)) {
    for (int i = 0; i < threads; ++i) {
        threads_.emplace_back([this, priority] { run(priority); });
        pthread_setname_np(threads_.back().native_handle(), name.substr(0, 15).c_str());
    }
}

WorkerPool::~WorkerPool() {
    stop();
}

bool WorkerPool::trySubmit(std::function<void()> job, Order order) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_ || queue_.size() + deferred_.size() >= maxQueued_) return false;
        (order == Order::Normal ? queue_ : deferred_).push_back(std::move(job));
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
    std::lock_guard<std::mutex> lock(mu_);
    tids_.clear();  // their ids may now name other threads
    clocks_.clear();
}

namespace {
// The calling thread at nice +10. On Linux the nice value belongs to the thread (its tid),
// not to the process. Raising it needs no privilege; failing to is harmless (the thread
// runs at normal priority), so the result is ignored.
void toBackgroundPriority() {
    const auto tid = static_cast<id_t>(gettid());
    errno = 0;
    const int base = getpriority(PRIO_PROCESS, tid);
    if (errno == 0) (void)setpriority(PRIO_PROCESS, tid, std::min(19, base + 10));
}

bool applyIdle(pid_t tid, bool idle) {
    // sched_setscheduler keeps the thread's nice value for SCHED_OTHER.
    sched_param param{};
    return sched_setscheduler(tid, idle ? SCHED_IDLE : SCHED_OTHER, &param) == 0;
}
}  // namespace

bool WorkerPool::canLeaveIdle() {
    // Tried on a thread of its own, set up as a Background pool's, so that nothing is left
    // under SCHED_IDLE.
    bool ok = false;
    std::thread probe([&ok] {
        toBackgroundPriority();
        ok = applyIdle(gettid(), true) && applyIdle(gettid(), false);
    });
    probe.join();
    return ok;
}

bool WorkerPool::setIdle(bool idle) {
    std::lock_guard<std::mutex> lock(mu_);
    idle_ = idle;
    bool ok = true;
    for (pid_t tid : tids_) ok = applyIdle(tid, idle) && ok;
    return ok;
}

int64_t WorkerPool::cpuNanos() {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t total = 0;
    for (clockid_t clock : clocks_) {
        timespec ts{};
        if (clock_gettime(clock, &ts) == 0)
            total += int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
    }
    return total;
}

bool WorkerPool::hasWork() {
    std::lock_guard<std::mutex> lock(mu_);
    return running_ > 0 || !queue_.empty() || !deferred_.empty();
}

std::function<void()> WorkerPool::takeLocked() {
    const bool deferredTurn =
        deferred_.empty() ? false : queue_.empty() || normalTakenInARow_ + 1 >= kDeferredEvery;
    auto& from = deferredTurn ? deferred_ : queue_;
    normalTakenInARow_ = deferredTurn || deferred_.empty() ? 0 : normalTakenInARow_ + 1;
    std::function<void()> job = std::move(from.front());
    from.pop_front();
    return job;
}

void WorkerPool::run(Priority priority) {
    if (priority == Priority::Background) toBackgroundPriority();
    if (priority == Priority::Batch) {
        // Allowed without privilege (a normal policy, the same nice value); if refused, the
        // thread stays at SCHED_OTHER, which only wakes up sooner.
        sched_param param{};
        (void)sched_setscheduler(gettid(), SCHED_BATCH, &param);
    }
    {
        std::lock_guard<std::mutex> lock(mu_);
        tids_.push_back(gettid());
        clockid_t clock{};
        if (pthread_getcpuclockid(pthread_self(), &clock) == 0) clocks_.push_back(clock);
        if (idle_) (void)applyIdle(gettid(), true);  // setIdle() ran before this thread
    }
    for (;;) {
        std::function<void()> job;
        {
            std::unique_lock<std::mutex> lock(mu_);
            cv_.wait(lock, [this] { return stopping_ || !queue_.empty() || !deferred_.empty(); });
            if (queue_.empty() && deferred_.empty()) return;  // stopping and drained
            job = takeLocked();
            ++running_;
        }
        job();  // jobs catch their own exceptions (the dispatcher's error boundary)
        bool drained = false;
        {
            std::lock_guard<std::mutex> lock(mu_);
            --running_;
            drained = queue_.empty() && deferred_.empty();
        }
        if (afterJob_) afterJob_(drained);
    }
}

}  // namespace authsvc::app
