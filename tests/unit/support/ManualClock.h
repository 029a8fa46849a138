// ManualClock: a verify::Clock that moves only when a test tells it to, so that expiry,
// grace windows and throttling are tested without sleeping. Test-only: not part of the
// installed verify headers. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>

#include "verify/Clock.h"

namespace authsvc::verify {

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
