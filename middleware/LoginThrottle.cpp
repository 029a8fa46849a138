#include "middleware/LoginThrottle.h"

#include <algorithm>

namespace authsvc::middleware {

LoginThrottle::LoginThrottle(int perIpPerMinute, int perAccountPerMinute,
                             const verify::Clock& clock, size_t maxKeys)
    : ip_{perIpPerMinute, {}, {}},
      email_{perAccountPerMinute, {}, {}},
      clock_(clock),
      maxKeys_(maxKeys) {}

std::optional<int64_t> LoginThrottle::blockedUntil(Dimension& d, const std::string& key,
                                                   int64_t now) {
    auto it = d.keys.find(key);
    if (it == d.keys.end()) return std::nullopt;
    auto& f = it->second.failures;
    while (!f.empty() && f.front() <= now - kWindowMs) f.pop_front();
    if (int(f.size()) < d.limit) return std::nullopt;
    return f.front() + kWindowMs;
}

std::optional<int> LoginThrottle::retryAfter(const std::string& ip, const std::string& email) {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t now = clock_.nowMs();
    int64_t until = 0;
    if (auto u = blockedUntil(ip_, ip, now)) until = std::max(until, *u);
    if (auto u = blockedUntil(email_, email, now)) until = std::max(until, *u);
    if (until == 0) return std::nullopt;
    return int(std::max<int64_t>(1, (until - now + 999) / 1000));
}

void LoginThrottle::record(Dimension& d, const std::string& key, int64_t now) {
    auto it = d.keys.find(key);
    if (it == d.keys.end()) {
        if (d.keys.size() >= maxKeys_) evict(d, now);
        it = d.keys.emplace(key, Window{}).first;
        d.insertion.push_back(key);
    }
    auto& f = it->second.failures;
    f.push_back(now);
    while (int(f.size()) > d.limit) f.pop_front();
}

void LoginThrottle::evict(Dimension& d, int64_t now) {
    // Drop keys with no failure inside the window, oldest insertions first; then, if
    // still full, the oldest keys regardless (a flood of distinct keys cannot grow memory).
    // Evicting down to 90% keeps the cost of a scan amortised over many insertions.
    std::deque<std::string> kept;
    for (auto& key : d.insertion) {
        auto it = d.keys.find(key);
        if (it == d.keys.end()) continue;
        if (it->second.failures.empty() || it->second.failures.back() <= now - kWindowMs) {
            d.keys.erase(it);
        } else {
            kept.push_back(key);
        }
    }
    d.insertion.swap(kept);
    while (d.keys.size() > maxKeys_ * 9 / 10 && !d.insertion.empty()) {
        d.keys.erase(d.insertion.front());
        d.insertion.pop_front();
    }
}

void LoginThrottle::recordFailure(const std::string& ip, const std::string& email) {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t now = clock_.nowMs();
    record(ip_, ip, now);
    record(email_, email, now);
}

size_t LoginThrottle::trackedKeys() {
    std::lock_guard<std::mutex> lock(mu_);
    return ip_.keys.size() + email_.keys.size();
}

}  // namespace authsvc::middleware
