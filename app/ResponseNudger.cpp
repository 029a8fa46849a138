#include "app/ResponseNudger.h"

#include <pistache/stream.h>

#include <algorithm>

namespace authsvc::app {

ResponseNudger::ResponseNudger(std::chrono::milliseconds delay, Send send)
    : delay_(delay),
      send_(send ? std::move(send)
                 : Send([](Pistache::Tcp::Peer& p) { p.send(Pistache::RawBuffer("", 0)); })),
      thread_([this] { run(); }) {}

ResponseNudger::~ResponseNudger() {
    stop();
}

void ResponseNudger::poke(std::weak_ptr<Pistache::Tcp::Peer> peer, Reactor reactor) {
    bool opened = false;
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) return;
        auto [it, fresh] = windows_.try_emplace(reactor);
        if (fresh) it->second.due = std::chrono::steady_clock::now() + delay_;
        it->second.peers.push_back(std::move(peer));
        opened = fresh;
    }
    // Only a new window changes what the thread waits for: later pokes cost no wake-up.
    if (opened) cv_.notify_one();
}

void ResponseNudger::stop() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stopping_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
}

void ResponseNudger::nudge(Window& w) {
    for (auto it = w.peers.rbegin(); it != w.peers.rend(); ++it) {
        if (auto p = it->lock()) {
            try {
                send_(*p);
                return;
            } catch (...) {
                // This peer is going away; an older one of the same reactor will do.
            }
        }
    }
}

void ResponseNudger::run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_ || !windows_.empty()) {
        if (windows_.empty()) {
            cv_.wait(lock, [this] { return stopping_ || !windows_.empty(); });
            continue;
        }
        auto next = std::min_element(windows_.begin(), windows_.end(),
                                     [](auto& a, auto& b) { return a.second.due < b.second.due; });
        const auto due = next->second.due;
        if (!stopping_ && std::chrono::steady_clock::now() < due) {
            cv_.wait_until(lock, due);
            continue;
        }
        Window w = std::move(next->second);
        windows_.erase(next);
        lock.unlock();
        nudge(w);
        lock.lock();
    }
}

}  // namespace authsvc::app
