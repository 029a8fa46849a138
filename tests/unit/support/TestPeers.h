// Test peers: what tests read of a production class's inside, through a friend the class
// names, so that the class's public interface holds only what production code calls.
#pragma once

#include <cstddef>
#include <mutex>

#include "models/Database.h"
#include "services/LoginThrottle.h"

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
    static size_t trackedKeys(LoginThrottle& t) { return t.ip_.keys() + t.email_.keys(); }
    static size_t trackedBytes(LoginThrottle& t) { return t.ip_.bytes() + t.email_.bytes(); }
};

}  // namespace authsvc::models
