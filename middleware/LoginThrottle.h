// LoginThrottle: failed logins per client IP and per email in a sliding minute, in
// memory (per instance). With a limit of N, attempt N+1 inside the minute is refused
// before any password check. Memory is bounded: at most kMaxKeys keys per dimension;
// when full, keys whose failures have all left the window are dropped, and if that is
// not enough the oldest keys go. Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "verify/Clock.h"

namespace authsvc::middleware {

class LoginThrottle {
  public:
    LoginThrottle(int perIpPerMinute, int perAccountPerMinute, const verify::Clock& clock,
                  size_t maxKeys = kMaxKeys);

    // Seconds to wait when the next attempt must be refused; nullopt when allowed.
    std::optional<int> retryAfter(const std::string& ip, const std::string& email);
    void recordFailure(const std::string& ip, const std::string& email);
    size_t trackedKeys();

    static constexpr size_t kMaxKeys = 100000;
    static constexpr int64_t kWindowMs = 60000;

  private:
    struct Window {
        std::deque<int64_t> failures;  // at most `limit` timestamps, oldest first
    };
    struct Dimension {
        int limit;
        std::unordered_map<std::string, Window> keys;
        std::deque<std::string> insertion;  // for eviction when over the bound
    };
    std::optional<int64_t> blockedUntil(Dimension& d, const std::string& key, int64_t now);
    void record(Dimension& d, const std::string& key, int64_t now);
    void evict(Dimension& d, int64_t now);

    std::mutex mu_;
    Dimension ip_, email_;
    const verify::Clock& clock_;
    size_t maxKeys_;
};

}  // namespace authsvc::middleware
