// LoginThrottle: failed logins per client address and per email in a sliding minute,
// counted in memory (per instance) or in the database (shared: LimitCounters). With a
// limit of N, attempt N+1 inside the minute is refused before any password check.
// Addresses are counted by addressKey() (IPv6 by /64). In memory, each of the two
// dimensions holds at most kMaxBytesPerDimension bytes (SlidingWindowCounter's bound); the
// caller refuses emails over 254 characters before they become keys. With the database
// store a check (both dimensions) is one round trip, and so is a record; a database error
// throws (DatabaseUnavailable).
// Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/Error.h"
#include "services/LimitCounter.h"
#include "verify/Clock.h"

namespace authsvc::models {

class LoginThrottle {
  public:
    // In memory.
    LoginThrottle(int perIpPerMinute, int perAccountPerMinute, const verify::Clock& clock,
                  size_t maxBytesPerDimension = kMaxBytesPerDimension);
    LoginThrottle(int perIpPerMinute, int perAccountPerMinute, const verify::Clock& clock,
                  const LimitCounters& counters);

    // Seconds to wait when the next attempt must be refused; nullopt when allowed.
    std::optional<int> retryAfter(const std::string& ip, const std::string& email);
    void recordFailure(const std::string& ip, const std::string& email);

    static constexpr size_t kMaxBytesPerDimension = 16 << 20;
    static constexpr int64_t kWindowMs = 60000;

  private:
    friend struct LoginThrottleTestPeer;  // tests/unit/support/TestPeers.h
    std::unique_ptr<LimitCounter> ip_, email_;
    const verify::Clock& clock_;
};

// The answer to a request the throttle refuses: TooManyRequests, retry after `seconds`.
models::Error tooManyFailedLogins(int seconds);

// Whole seconds from nowMs until untilMs, at least 1 (a Retry-After value).
int retryAfterSeconds(int64_t untilMs, int64_t nowMs);

}  // namespace authsvc::models
