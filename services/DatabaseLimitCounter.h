// DatabaseLimitCounter: the database store of LimitCounter (auth.limits_store: database):
// the events of a limit are counted in limit_counters, shared by every instance on the
// database, so that N instances together allow what one allows.
// - A key is stored as the SHA-256 of the scope and the key (32 hex characters): no
//   address or email in clear. It is pseudonymous, not secret: whoever reads the table can
//   confirm a guessed address.
// - Events are counted per bucket of max(1 s, window / 60); a bucket's row keeps the time
//   its latest event leaves the window (expires_ms), and counts while that is in the
//   future. So the answers are those of the memory store, except that the events of one
//   bucket leave the window together with its latest one (later by less than a bucket: a
//   wait is never shorter, a limit never looser). Rows past expires_ms are deleted by the
//   maintenance thread (DatabaseLimitCounters::purge).
// - Each call is one statement, one round trip: blockedUntil() a SELECT of the key's rows
//   (laterBlockedUntil() of two keys' rows: the login throttle's check), record() an upsert
//   (recordBoth() of two rows), acquire() a conditional upsert (a refusal then reads the
//   rows for the wait). The statements are prepared once per pooled connection. Concurrent
//   acquire() of one key in one bucket are serialised on its row (never more than the limit); two
//   at the very same moment on either side of a bucket boundary write two rows and may both pass.
// - A database error throws (DatabaseUnavailable: 503): the limits fail closed, see
//   docs/API.md.
// Blocking (database): call from worker threads. Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "models/Database.h"
#include "models/LimitCounterRepository.h"
#include "services/LimitCounter.h"

namespace authsvc::models {

class DatabaseLimitCounter final : public LimitCounter {
  public:
    DatabaseLimitCounter(Database& db, const LimitCounterRepository& repo, std::string scope,
                         int limit, int64_t windowMs);

    std::optional<int64_t> blockedUntil(const std::string& key, int64_t nowMs) override;
    void record(const std::string& key, int64_t nowMs) override;
    std::optional<int64_t> acquire(const std::string& key, int64_t nowMs) override;
    // One round trip for both when `other` is a DatabaseLimitCounter on the same Database.
    std::optional<int64_t> laterBlockedUntil(const std::string& key, LimitCounter& other,
                                             const std::string& otherKey, int64_t nowMs) override;
    void recordBoth(const std::string& key, LimitCounter& other, const std::string& otherKey,
                    int64_t nowMs) override;

    // The stored form of `key` (for tests that look at the table).
    std::string storedKey(const std::string& key) const;
    int64_t bucketMs() const { return bucketMs_; }

  private:
    template <typename F>
    auto writeOne(F&& f);
    std::optional<int64_t> blockedBy(const std::vector<CounterBucket>& rows,
                                     const std::string& stored) const;
    CounterHit hit(const std::string& key, int64_t nowMs) const;
    DatabaseLimitCounter* sameDatabase(LimitCounter& other) const;

    Database& db_;
    const LimitCounterRepository& repo_;
    const std::string scope_;
    const int limit_;
    const int64_t windowMs_;
    const int64_t bucketMs_;
};

class DatabaseLimitCounters final : public LimitCounters {
  public:
    DatabaseLimitCounters(Database& db, const LimitCounterRepository& repo)
        : db_(db), repo_(repo) {}
    std::unique_ptr<LimitCounter> make(const std::string& scope, int limit, int64_t windowMs,
                                       size_t maxBytes) const override;
    // Deletes at most `limit` rows whose window has passed at nowMs; returns how many.
    int64_t purge(int64_t nowMs, int64_t limit) const;

  private:
    Database& db_;
    const LimitCounterRepository& repo_;
};

}  // namespace authsvc::models
