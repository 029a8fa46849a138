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
// each other in the busy handler); on MySQL in a transaction (a check is three statements
// there, and a Galera certification loss runs it again); elsewhere by itself, one round trip.
template <typename F>
auto DatabaseLimitCounter::writeOne(F&& f) {
    if (db_.dialect() == Dialect::Sqlite) return db_.writeTogether(std::forward<F>(f));
    if (db_.dialect() == Dialect::Mysql) return db_.write(std::forward<F>(f));
    return db_.autocommit(std::forward<F>(f));
}

// Of the rows (oldest first), those of `stored`: blocked until enough of its oldest
// buckets have left that fewer than limit_ events remain, i.e. until the bucket that holds
// the limit_-th most recent leaves.
std::optional<int64_t> DatabaseLimitCounter::blockedBy(const std::vector<CounterBucket>& rows,
                                                       const std::string& stored) const {
    int64_t remaining = 0;
    for (const auto& r : rows) {
        if (r.key == stored) remaining += r.hits;
    }
    for (const auto& r : rows) {
        if (remaining < limit_) break;
        if (r.key != stored) continue;
        if (remaining - r.hits < limit_) return r.expiresMs;
        remaining -= r.hits;
    }
    return std::nullopt;
}

CounterHit DatabaseLimitCounter::hit(const std::string& key, int64_t nowMs) const {
    return {storedKey(key), nowMs - nowMs % bucketMs_, nowMs + windowMs_};
}

DatabaseLimitCounter* DatabaseLimitCounter::sameDatabase(LimitCounter& other) const {
    auto* o = dynamic_cast<DatabaseLimitCounter*>(&other);
    return o && &o->db_ == &db_ && o->scope_ != scope_ ? o : nullptr;
}

std::optional<int64_t> DatabaseLimitCounter::blockedUntil(const std::string& key, int64_t nowMs) {
    const std::string stored = storedKey(key);
    auto rows = db_.read([&](Connection& c) { return repo_.buckets(c, stored, stored, nowMs); });
    return blockedBy(rows, stored);
}

std::optional<int64_t> DatabaseLimitCounter::laterBlockedUntil(const std::string& key,
                                                               LimitCounter& other,
                                                               const std::string& otherKey,
                                                               int64_t nowMs) {
    auto* o = sameDatabase(other);
    if (!o) return LimitCounter::laterBlockedUntil(key, other, otherKey, nowMs);
    const std::string mine = storedKey(key), theirs = o->storedKey(otherKey);
    auto rows = db_.read([&](Connection& c) { return repo_.buckets(c, mine, theirs, nowMs); });
    auto a = blockedBy(rows, mine), b = o->blockedBy(rows, theirs);
    if (a && b) return std::max(*a, *b);
    return a ? a : b;
}

void DatabaseLimitCounter::record(const std::string& key, int64_t nowMs) {
    writeOne([&](Connection& c) { repo_.add(c, hit(key, nowMs)); });
}

void DatabaseLimitCounter::recordBoth(const std::string& key, LimitCounter& other,
                                      const std::string& otherKey, int64_t nowMs) {
    auto* o = sameDatabase(other);
    if (!o) return LimitCounter::recordBoth(key, other, otherKey, nowMs);
    writeOne([&](Connection& c) { repo_.add(c, hit(key, nowMs), o->hit(otherKey, nowMs)); });
}

std::optional<int64_t> DatabaseLimitCounter::acquire(const std::string& key, int64_t nowMs) {
    const CounterHit h = hit(key, nowMs);
    auto hits = writeOne([&](Connection& c) {
        return repo_.addBelow(c, h.key, h.bucketMs, h.expiresMs, nowMs, limit_);
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
