#include "services/DatabaseLimitCounter.h"

#include <algorithm>

#include "common/Crypto.h"

namespace authsvc::models {

DatabaseLimitCounter::DatabaseLimitCounter(Database& db, const LimitCounterRepository& repo,
                                           std::string scope, int limit, int64_t windowMs)
    : db_(db),
      repo_(repo),
      scope_(std::move(scope)),
      limit_(std::max(1, limit)),
      windowMs_(windowMs),
      bucketMs_(std::max<int64_t>(1000, windowMs / 60)) {}

std::string DatabaseLimitCounter::storedKey(const std::string& key) const {
    std::string input = "authsvc limit counter";
    input.push_back('\0');
    input += scope_;
    input.push_back('\0');
    input += key;
    return crypto::sha256Hex(input).substr(0, 32);
}

// One statement that writes: on SQLite inside the group commit (writers never wait for
// each other in the busy handler); elsewhere by itself, one round trip.
template <typename F>
auto DatabaseLimitCounter::writeOne(F&& f) {
    if (db_.dialect() == Dialect::Sqlite) return db_.writeTogether(std::forward<F>(f));
    return db_.autocommit(std::forward<F>(f));
}

std::optional<int64_t> DatabaseLimitCounter::blockedUntil(const std::string& key, int64_t nowMs) {
    const std::string stored = storedKey(key);
    auto rows = db_.read([&](Connection& s) { return repo_.buckets(s, stored, nowMs); });
    // The key is blocked until enough of its oldest buckets have left that fewer than
    // limit_ events remain: until the bucket that holds the limit_-th most recent leaves.
    int64_t remaining = 0;
    for (const auto& r : rows) remaining += r.hits;
    for (const auto& r : rows) {
        if (remaining < limit_) break;
        if (remaining - r.hits < limit_) return r.expiresMs;
        remaining -= r.hits;
    }
    return std::nullopt;
}

void DatabaseLimitCounter::record(const std::string& key, int64_t nowMs) {
    const std::string stored = storedKey(key);
    const int64_t bucket = nowMs - nowMs % bucketMs_;
    writeOne([&](Connection& s) { repo_.add(s, stored, bucket, nowMs + windowMs_); });
}

std::optional<int64_t> DatabaseLimitCounter::acquire(const std::string& key, int64_t nowMs) {
    const std::string stored = storedKey(key);
    const int64_t bucket = nowMs - nowMs % bucketMs_;
    auto hits = writeOne([&](Connection& s) {
        return repo_.addBelow(s, stored, bucket, nowMs + windowMs_, nowMs, limit_);
    });
    if (hits) return std::nullopt;
    // Refused: the wait. Should the rows have changed meanwhile (another instance's
    // events left the window), one bucket.
    return blockedUntil(key, nowMs).value_or(nowMs + bucketMs_);
}

std::unique_ptr<LimitCounter> DatabaseLimitCounters::make(const std::string& scope, int limit,
                                                          int64_t windowMs,
                                                          size_t /*maxBytes*/) const {
    return std::make_unique<DatabaseLimitCounter>(db_, repo_, scope, limit, windowMs);
}

int64_t DatabaseLimitCounters::purge(int64_t nowMs, int64_t limit) const {
    return db_.write([&](Connection& s) { return repo_.purgeExpired(s, nowMs, limit); });
}

}  // namespace authsvc::models
