#include "services/RegistrationLimit.h"

#include "common/IpAddress.h"
#include "services/LoginThrottle.h"

namespace authsvc::models {

RegistrationLimit::RegistrationLimit(int perIpPerHour, const verify::Clock& clock, size_t maxBytes)
    : enabled_(perIpPerHour > 0),
      ip_(memoryLimitCounters().make("register_ip", perIpPerHour, kWindowMs, maxBytes)),
      clock_(clock) {}

RegistrationLimit::RegistrationLimit(int perIpPerHour, const verify::Clock& clock,
                                     const LimitCounters& counters)
    : enabled_(perIpPerHour > 0),
      ip_(counters.make("register_ip", perIpPerHour, kWindowMs, kMaxBytes)),
      clock_(clock) {}

std::optional<int> RegistrationLimit::acquire(const std::string& ip) {
    if (!enabled_) return std::nullopt;
    const int64_t now = clock_.nowMs();
    if (auto until = ip_->acquire(addressKey(ip), now)) return retryAfterSeconds(*until, now);
    return std::nullopt;
}

}  // namespace authsvc::models
