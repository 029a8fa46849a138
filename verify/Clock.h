// Clock: the only source of wall time in the model layer, injected so that expiry,
// grace windows and throttling are tested without sleeping. Implementations are
// thread-safe.
#pragma once

#include <atomic>
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

// A clock that moves only when told to; for tests.
class ManualClock final : public Clock {
  public:
    explicit ManualClock(int64_t startMs = 1'800'000'000'000) : now_(startMs) {}
    int64_t nowMs() const override { return now_.load(); }
    void advanceMs(int64_t ms) { now_ += ms; }
    void setMs(int64_t ms) { now_ = ms; }

  private:
    std::atomic<int64_t> now_;
};

}  // namespace authsvc::verify
