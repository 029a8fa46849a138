// Test peers: what tests read of a production class's inside, through a friend the class
// names, so that the class's public interface holds only what production code calls.
#pragma once

#include <cstddef>
#include <mutex>

#include "models/Database.h"
#include "services/LoginThrottle.h"
#include "services/SlidingWindow.h"

namespace authsvc::models {

struct DatabaseTestPeer {
    // How many writeTogether() calls wait for a batch to take them.
    static size_t waitingTogether(Database& db) {
        std::lock_guard<std::mutex> lock(db.groupMu_);
        return db.groupQueue_.size();
    }
};

struct LoginThrottleTestPeer {
    // Keys (addresses and emails) the throttle remembers, and the bytes its bound counts.
    // (of a throttle in memory)
    static size_t trackedKeys(LoginThrottle& t) {
        return memory(t.ip_).keys() + memory(t.email_).keys();
    }
    static size_t trackedBytes(LoginThrottle& t) {
        return memory(t.ip_).bytes() + memory(t.email_).bytes();
    }
    static SlidingWindowCounter& memory(const std::unique_ptr<LimitCounter>& c) {
        return dynamic_cast<SlidingWindowCounter&>(*c);
    }
};

}  // namespace authsvc::models
