#include "services/SlidingWindow.h"

#include <algorithm>

namespace authsvc::models {

SlidingWindowCounter::SlidingWindowCounter(int limit, int64_t windowMs, size_t maxBytes)
    : limit_(std::max(1, limit)), windowMs_(windowMs), maxBytes_(maxBytes) {}

size_t SlidingWindowCounter::cost(const std::string& key, const Entry& e) {
    // A key longer than the small-string buffer lives on the heap.
    const size_t keyHeap = key.size() > 15 ? key.capacity() + 1 : 0;
    return kKeyOverheadBytes + keyHeap + e.times.capacity() * sizeof(int64_t);
}

std::optional<int64_t> SlidingWindowCounter::blockedLocked(Map::iterator it, int64_t nowMs) {
    if (it == map_.end()) return std::nullopt;
    auto& t = it->second.times;
    const auto fresh =
        std::find_if(t.begin(), t.end(), [&](int64_t at) { return at > nowMs - windowMs_; });
    t.erase(t.begin(), fresh);  // capacity (and so the cost) unchanged
    if (int(t.size()) < limit_) return std::nullopt;
    return t.front() + windowMs_;
}

std::optional<int64_t> SlidingWindowCounter::blockedUntil(const std::string& key, int64_t nowMs) {
    std::lock_guard<std::mutex> lock(mu_);
    return blockedLocked(map_.find(key), nowMs);
}

void SlidingWindowCounter::recordLocked(const std::string& key, int64_t nowMs) {
    auto it = map_.find(key);
    if (it == map_.end()) {
        it = map_.emplace(key, Entry{}).first;
        it->second.order = order_.insert(order_.end(), &it->first);
    } else {
        bytes_ -= cost(it->first, it->second);
    }
    auto& t = it->second.times;
    if (int(t.size()) >= limit_) t.erase(t.begin(), t.end() - (limit_ - 1));
    t.push_back(nowMs);
    bytes_ += cost(it->first, it->second);
    if (bytes_ > maxBytes_) evict(nowMs, &it->first);
}

void SlidingWindowCounter::record(const std::string& key, int64_t nowMs) {
    std::lock_guard<std::mutex> lock(mu_);
    recordLocked(key, nowMs);
}

std::optional<int64_t> SlidingWindowCounter::acquire(const std::string& key, int64_t nowMs) {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto until = blockedLocked(map_.find(key), nowMs)) return until;
    recordLocked(key, nowMs);
    return std::nullopt;
}

void SlidingWindowCounter::erase(Map::iterator it) {
    bytes_ -= cost(it->first, it->second);
    order_.erase(it->second.order);
    map_.erase(it);
}

void SlidingWindowCounter::evict(int64_t nowMs, const std::string* keep) {
    // Keys with no event inside the window first, then the oldest keys, down to 90% of the
    // bound, so that the cost of a scan is shared by many insertions. `keep` (the key just
    // recorded) stays.
    const size_t target = maxBytes_ / 10 * 9;
    for (auto o = order_.begin(); o != order_.end();) {
        const std::string* key = *o++;
        if (key == keep) continue;
        auto it = map_.find(*key);
        const auto& t = it->second.times;
        if (t.empty() || t.back() <= nowMs - windowMs_) erase(it);
    }
    for (auto o = order_.begin(); bytes_ > target && o != order_.end();) {
        const std::string* key = *o++;
        if (key != keep) erase(map_.find(*key));
    }
}

size_t SlidingWindowCounter::keys() {
    std::lock_guard<std::mutex> lock(mu_);
    return map_.size();
}

size_t SlidingWindowCounter::bytes() {
    std::lock_guard<std::mutex> lock(mu_);
    return bytes_;
}

std::unique_ptr<LimitCounter> MemoryLimitCounters::make(const std::string& /*scope*/, int limit,
                                                        int64_t windowMs, size_t maxBytes) const {
    return std::make_unique<SlidingWindowCounter>(limit, windowMs, maxBytes);
}

const LimitCounters& memoryLimitCounters() {
    static const MemoryLimitCounters memory;  // no state
    return memory;
}

}  // namespace authsvc::models
