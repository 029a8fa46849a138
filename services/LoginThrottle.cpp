#include "services/LoginThrottle.h"

#include <algorithm>

#include "common/IpAddress.h"

namespace authsvc::models {

int retryAfterSeconds(int64_t untilMs, int64_t nowMs) {
    return int(std::max<int64_t>(1, (untilMs - nowMs + 999) / 1000));
}

LoginThrottle::LoginThrottle(int perIpPerMinute, int perAccountPerMinute,
                             const verify::Clock& clock, size_t maxBytesPerDimension)
    : ip_(memoryLimitCounters().make("login_ip", perIpPerMinute, kWindowMs, maxBytesPerDimension)),
      email_(memoryLimitCounters().make("login_account", perAccountPerMinute, kWindowMs,
                                        maxBytesPerDimension)),
      clock_(clock) {}

LoginThrottle::LoginThrottle(int perIpPerMinute, int perAccountPerMinute,
                             const verify::Clock& clock, const LimitCounters& counters)
    : ip_(counters.make("login_ip", perIpPerMinute, kWindowMs, kMaxBytesPerDimension)),
      email_(counters.make("login_account", perAccountPerMinute, kWindowMs, kMaxBytesPerDimension)),
      clock_(clock) {}

std::optional<int> LoginThrottle::retryAfter(const std::string& ip, const std::string& email) {
    const int64_t now = clock_.nowMs();
    auto until = ip_->laterBlockedUntil(addressKey(ip), *email_, email, now);
    if (!until) return std::nullopt;
    return retryAfterSeconds(*until, now);
}

void LoginThrottle::recordFailure(const std::string& ip, const std::string& email) {
    const int64_t now = clock_.nowMs();
    ip_->recordBoth(addressKey(ip), *email_, email, now);
}

Error tooManyFailedLogins(int seconds) {
    return makeError(ErrorCode::TooManyRequests, "Too many failed login attempts; try again later",
                     seconds);
}

}  // namespace authsvc::models
