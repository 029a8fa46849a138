#include "app/ResponseNudger.h"

#include <pistache/stream.h>

namespace authsvc::app {

namespace {
constexpr auto kDelay = std::chrono::milliseconds(2);
}

ResponseNudger::ResponseNudger() : thread_([this] { run(); }) {}

ResponseNudger::~ResponseNudger() {
    stop();
}

void ResponseNudger::poke(std::weak_ptr<Pistache::Tcp::Peer> peer) {
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) return;
        items_.push_back({std::chrono::steady_clock::now() + kDelay, std::move(peer)});
    }
    cv_.notify_one();
}

void ResponseNudger::stop() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stopping_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
}

void ResponseNudger::run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_ || !items_.empty()) {
        if (items_.empty()) {
            cv_.wait(lock, [this] { return stopping_ || !items_.empty(); });
            continue;
        }
        auto due = items_.front().due;
        if (!stopping_ && std::chrono::steady_clock::now() < due) {
            cv_.wait_until(lock, due);
            continue;
        }
        auto peer = std::move(items_.front().peer);
        items_.pop_front();
        lock.unlock();
        if (auto p = peer.lock()) {
            try {
                p->send(Pistache::RawBuffer("", 0));
            } catch (...) {
                // The peer went away; nothing to drain.
            }
        }
        lock.lock();
    }
}

}  // namespace authsvc::app
