// SlidingWindowCounter: the memory store of LimitCounter (per instance): with a limit of N, a
// key that holds N events younger than the window is blocked until the oldest of them
// leaves it. The mechanism of the login throttle and the registration limit.
// Memory is bounded in bytes: every key is charged for its text, its timestamps and the
// containers' nodes (kKeyOverheadBytes); when a new key would pass the bound, keys whose
// events have all left the window go first, then the oldest keys, down to 90% of it.
// Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "services/LimitCounter.h"

namespace authsvc::models {

class SlidingWindowCounter final : public LimitCounter {
  public:
    SlidingWindowCounter(int limit, int64_t windowMs, size_t maxBytes);

    // When a key is blocked at `nowMs`: the time (ms) its oldest event leaves the window.
    std::optional<int64_t> blockedUntil(const std::string& key, int64_t nowMs) override;
    void record(const std::string& key, int64_t nowMs) override;
    // blockedUntil(), and record() if it is not blocked, as one step.
    std::optional<int64_t> acquire(const std::string& key, int64_t nowMs) override;

    size_t keys();
    size_t bytes();  // what the bound counts

    // An unordered_map node (next pointer, cached hash, the key's std::string, the entry),
    // its bucket, a list node for the insertion order, and the allocator's headers of
    // those and of the timestamp array; measured with mallinfo2 (SlidingWindowTest).
    static constexpr size_t kKeyOverheadBytes = 192;

  private:
    struct Entry {
        std::vector<int64_t> times;  // oldest first, at most `limit`
        std::list<const std::string*>::iterator order;
    };
    using Map = std::unordered_map<std::string, Entry>;

    static size_t cost(const std::string& key, const Entry& e);
    std::optional<int64_t> blockedLocked(Map::iterator it, int64_t nowMs);
    void recordLocked(const std::string& key, int64_t nowMs);
    void erase(Map::iterator it);
    void evict(int64_t nowMs, const std::string* keep);

    const int limit_;
    const int64_t windowMs_;
    const size_t maxBytes_;
    std::mutex mu_;
    Map map_;
    std::list<const std::string*> order_;  // keys of map_, oldest insertion first
    size_t bytes_ = 0;
};

}  // namespace authsvc::models
