// LimitCounter: events per key in a sliding window, the mechanism of every limit (the
// login throttle, the registration limit, the recovery and verification mail limits). With
// a limit of N, a key that holds N events younger than the window is blocked until the
// N-th most recent of them leaves it. Two stores, chosen by auth.limits_store in app/:
// memory (SlidingWindowCounter: per instance) and database (DatabaseLimitCounter: shared by
// every instance on the database). Implementations are thread-safe.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace authsvc::models {

class LimitCounter {
  public:
    virtual ~LimitCounter() = default;
    // When a key is blocked at `nowMs`: the time (ms) it stops being blocked.
    virtual std::optional<int64_t> blockedUntil(const std::string& key, int64_t nowMs) = 0;
    virtual void record(const std::string& key, int64_t nowMs) = 0;
    // blockedUntil(), and record() if it is not blocked, as one step.
    virtual std::optional<int64_t> acquire(const std::string& key, int64_t nowMs) = 0;

    // The later of blockedUntil(key) and other.blockedUntil(otherKey); the database store
    // reads both in one round trip when `other` counts in the same database.
    virtual std::optional<int64_t> laterBlockedUntil(const std::string& key, LimitCounter& other,
                                                     const std::string& otherKey, int64_t nowMs) {
        auto a = blockedUntil(key, nowMs), b = other.blockedUntil(otherKey, nowMs);
        if (a && b) return std::max(*a, *b);
        return a ? a : b;
    }
    // record(key) and other.record(otherKey); likewise one round trip where it can.
    virtual void recordBoth(const std::string& key, LimitCounter& other,
                            const std::string& otherKey, int64_t nowMs) {
        record(key, nowMs);
        other.record(otherKey, nowMs);
    }
};

// Makes the counters of the limits. `scope` names the limit (one counter per scope and
// store; two limits never share counts); maxBytes bounds a counter held in memory.
class LimitCounters {
  public:
    virtual ~LimitCounters() = default;
    virtual std::unique_ptr<LimitCounter> make(const std::string& scope, int limit,
                                               int64_t windowMs, size_t maxBytes) const = 0;
};

// The memory store: a SlidingWindowCounter per limit, in this instance only.
class MemoryLimitCounters final : public LimitCounters {
  public:
    std::unique_ptr<LimitCounter> make(const std::string& scope, int limit, int64_t windowMs,
                                       size_t maxBytes) const override;
};
const LimitCounters& memoryLimitCounters();

}  // namespace authsvc::models
