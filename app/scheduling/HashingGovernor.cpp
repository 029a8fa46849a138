#include "app/scheduling/HashingGovernor.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>

namespace authsvc::app {

HashingMode GovernorRule::next(const GovernorSample& s, Clock::time_point now) {
    const HashingMode before = mode_;
    if (mode_ == HashingMode::Shared) {
        if (now >= sharedUntil_ && s.reactorBusy >= settings_.busyAt) {
            mode_ = HashingMode::Background;
        }
    } else if (s.reactorBusy < settings_.calmBelow) {
        mode_ = HashingMode::Shared;
        hold_ = settings_.sharedHold;
    } else if (s.fullWindow && now - since_ >= settings_.starvedWindow && s.poolHadWork &&
               s.poolCpu < settings_.starvedBelow && s.reactorWaited >= settings_.waitedAt) {
        // Judged only on a window spent wholly in Background, with work all along.
        if (now - since_ >= settings_.stableBackground) hold_ = settings_.sharedHold;
        mode_ = HashingMode::Shared;
        sharedUntil_ = now + hold_;
        hold_ = std::min(hold_ * 2, settings_.maxSharedHold);
    }
    if (mode_ != before) since_ = now;
    return mode_;
}

ReactorThreads::~ReactorThreads() {
    for (int fd : schedstat_) {
        if (fd >= 0) ::close(fd);
    }
}

void ReactorThreads::addCurrentThread() {
    const pthread_t self = pthread_self();
    std::lock_guard<std::mutex> lock(mu_);
    for (const pthread_t t : threads_) {
        if (pthread_equal(t, self)) return;
    }
    threads_.push_back(self);
    // Kept open and read again from offset 0 at every tick (an open per read cost more
    // than the rest of a tick).
    const std::string path = "/proc/self/task/" + std::to_string(gettid()) + "/schedstat";
    schedstat_.push_back(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
}

std::vector<ReactorThreads::Times> ReactorThreads::times() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Times> out(schedstat_.size());
    for (size_t i = 0; i < schedstat_.size(); ++i) {
        // "schedstat": nanoseconds on a CPU, nanoseconds runnable but waiting, time
        // slices. Parsed here: no library reads it.
        char buf[96];
        const ssize_t n = schedstat_[i] >= 0 ? ::pread(schedstat_[i], buf, sizeof buf - 1, 0) : -1;
        if (n <= 0) continue;
        buf[n] = '\0';
        long long cpu = 0, wait = 0;
        if (std::sscanf(buf, "%lld %lld", &cpu, &wait) == 2) out[i] = {cpu, wait};
    }
    return out;
}

HashingGovernor::HashingGovernor(WorkerPool& pool, ReactorThreads& reactors,
                                 std::shared_ptr<spdlog::logger> log,
                                 GovernorRule::Settings settings)
    : pool_(pool), reactors_(reactors), log_(std::move(log)), rule_(settings) {}

HashingGovernor::~HashingGovernor() {
    stop();
}

bool HashingGovernor::start() {
    if (!WorkerPool::canLeaveIdle()) {
        log_->info(
            "hashing pool stays at nice +10: this process may not leave SCHED_IDLE (no "
            "CAP_SYS_NICE, RLIMIT_NICE below 10), so a login storm can add a few ms to token "
            "verification on busy cores (README, deployment)");
        return false;
    }
    thread_ = std::thread([this] { run(); });
    pthread_setname_np(thread_.native_handle(), "hash-governor");
    return true;
}

void HashingGovernor::stop() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    if (rule_.mode() == HashingMode::Background) pool_.setIdle(false);
}

void HashingGovernor::run() {
    std::unique_lock<std::mutex> lock(mu_);
    auto period = kPeriod;
    while (!cv_.wait_for(lock, period, [this] { return stopping_; })) {
        lock.unlock();
        const bool watching = tick(Clock::now()) == HashingMode::Background || !history_.empty();
        period = watching ? kPeriod : kIdlePeriod;
        lock.lock();
    }
}

HashingMode HashingGovernor::tick(Clock::time_point now) {
    const bool work = pool_.hasWork();
    if (!work && rule_.mode() == HashingMode::Shared) {
        // Nothing to schedule: the windows start again with the next job.
        history_.clear();
        return HashingMode::Shared;
    }
    history_.push_back({now, reactors_.times(), pool_.cpuNanos(), work});
    const auto& settings = rule_.settings();
    // The oldest snapshot kept is the newest one at least starvedWindow old.
    while (history_.size() > 2 && now - history_[1].at >= settings.starvedWindow) {
        history_.pop_front();
    }
    const Snapshot& last = history_.back();
    GovernorSample s;
    // Reactors: from the newest snapshot at least busyWindow old.
    const Snapshot* first = &history_.front();
    for (const Snapshot& x : history_) {
        if (now - x.at < settings.busyWindow) break;
        first = &x;
    }
    const double busyWall = std::chrono::duration<double, std::nano>(last.at - first->at).count();
    // Busy: on a CPU or waiting for one, i.e. with work to do.
    const auto busy = [](const ReactorThreads::Times& t) { return t.cpuNanos + t.waitNanos; };
    if (busyWall > 0) {
        for (size_t i = 0; i < last.reactors.size(); ++i) {
            // A reactor that showed itself during the window counts from 0: a bound.
            const int64_t before = i < first->reactors.size() ? busy(first->reactors[i]) : 0;
            s.reactorBusy =
                std::max(s.reactorBusy, double(busy(last.reactors[i]) - before) / busyWall);
        }
    }
    const Snapshot& oldest = history_.front();
    const double wall = std::chrono::duration<double, std::nano>(last.at - oldest.at).count();
    if (wall > 0) {
        s.poolCpu = double(last.poolNanos - oldest.poolNanos) / wall;
        for (size_t i = 0; i < last.reactors.size(); ++i) {
            const int64_t before = i < oldest.reactors.size() ? oldest.reactors[i].waitNanos : 0;
            s.reactorWaited =
                std::max(s.reactorWaited, double(last.reactors[i].waitNanos - before) / wall);
        }
    }
    s.poolHadWork = std::all_of(history_.begin(), history_.end(),
                                [](const Snapshot& x) { return x.poolHasWork; });
    s.fullWindow = now - oldest.at >= settings.starvedWindow;

    const HashingMode before = rule_.mode();
    const HashingMode mode = rule_.next(s, now);
    if (mode != before) {
        const bool idle = mode == HashingMode::Background;
        if (!pool_.setIdle(idle)) {
            log_->warn("hashing pool: could not change its scheduling");
        }
        log_->info(
            "hashing pool: {} (busiest reactor {:.0f}% of a core; over {} ms the pool {:.0f}%, "
            "a reactor waited {:.0f}%)",
            idle ? "background (SCHED_IDLE), token verification is near capacity"
                 : "shared (nice +10)",
            s.reactorBusy * 100, rule_.settings().starvedWindow.count(), s.poolCpu * 100,
            s.reactorWaited * 100);
    }
    return mode;
}

}  // namespace authsvc::app
