// Clock: the only source of wall time in the model layer, injected so that expiry,
// grace windows and throttling are tested without sleeping. Implementations are
// thread-safe.
#pragma once

#include <chrono>
#include <cstdint>

namespace authsvc::verify {

class Clock {
  public:
    virtual ~Clock() = default;
    // Milliseconds since the Unix epoch.
    virtual int64_t nowMs() const = 0;
    int64_t nowSeconds() const { return nowMs() / 1000; }
};

class SystemClock final : public Clock {
  public:
    int64_t nowMs() const override {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
};

}  // namespace authsvc::verify
