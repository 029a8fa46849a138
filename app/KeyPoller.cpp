#include "app/KeyPoller.h"

namespace authsvc::app {

KeyPoller::KeyPoller(models::DatabaseKeys& keys, std::chrono::milliseconds period,
                     spdlog::logger& log, std::function<void()> changed)
    : keys_(keys), period_(period), log_(log), changed_(std::move(changed)) {}

KeyPoller::~KeyPoller() {
    stop();
}

void KeyPoller::start() {
    thread_ = std::thread([this] { run(); });
}

void KeyPoller::wake() {
    std::lock_guard<std::mutex> lock(mu_);
    woken_ = true;
    cv_.notify_all();
}

void KeyPoller::stop() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
        cv_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
}

bool KeyPoller::pollOnce() {
    try {
        const models::KeySync done = keys_.sync();
        for (const auto& step : done.steps) log_.info("signing keys: {}", step);
        if (!lastError_.empty()) log_.info("signing keys: the key store answers again");
        lastError_.clear();
        if (done.changed && changed_) changed_();
        return true;
    } catch (const std::exception& e) {
        if (lastError_ != e.what()) {
            log_.error("signing keys not polled, the keys in force stay: {}", e.what());
        }
        lastError_ = e.what();
        return false;
    }
}

void KeyPoller::run() {
    auto next = std::chrono::steady_clock::now() + period_;
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
        cv_.wait_until(lock, next, [this] { return stop_ || woken_; });
        if (stop_) break;
        woken_ = false;
        lock.unlock();
        // The period counts from each turn's start: a slow poll does not stretch it.
        next = std::chrono::steady_clock::now() + period_;
        pollOnce();
        lock.lock();
    }
}

}  // namespace authsvc::app
