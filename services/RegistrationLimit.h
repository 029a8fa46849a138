// RegistrationLimit: registration attempts per client address in a sliding hour, in memory
// (per instance) or in the database (shared: LimitCounters), counted by addressKey() (IPv6
// by /64). With a limit of N, attempt N+1
// inside the hour is refused; every attempt that is not refused counts, whatever its
// outcome. A limit of 0 turns it off. Memory: at most kMaxBytes (SlidingWindowCounter).
// Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "services/LimitCounter.h"
#include "verify/Clock.h"

namespace authsvc::models {

class RegistrationLimit {
  public:
    RegistrationLimit(int perIpPerHour, const verify::Clock& clock, size_t maxBytes = kMaxBytes);
    RegistrationLimit(int perIpPerHour, const verify::Clock& clock, const LimitCounters& counters);

    // Counts an attempt from `ip`; seconds to wait when it is refused (and not counted).
    std::optional<int> acquire(const std::string& ip);

    static constexpr size_t kMaxBytes = 16 << 20;
    static constexpr int64_t kWindowMs = 3600 * 1000;

  private:
    bool enabled_;
    std::unique_ptr<LimitCounter> ip_;
    const verify::Clock& clock_;
};

}  // namespace authsvc::models
