// LimitCounterRepository: the limit_counters table (migration 0008), the counters of the
// limits when auth.limits_store is database. A counter key is opaque here (the caller
// hashes it); a row counts the hits of one key in one time bucket. SQL lives here and only
// here, always bound; the statements of a check are prepared once per pooled session
// (Connection::prepared). Every method is ONE statement on SQLite and PostgreSQL, so it is
// atomic on its own and may run outside a transaction (one round trip on PostgreSQL); there
// are no row locks of ours (no SELECT ... FOR UPDATE). On MySQL, addBelow() is three
// statements and needs the caller's transaction (it locks its bucket's row by writing it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/Connection.h"
#include "models/Soci.h"

namespace authsvc::models {

struct CounterBucket {
    std::string key;
    int64_t bucketMs = 0;
    int64_t hits = 0;
    int64_t expiresMs = 0;  // when the latest of its hits leaves the window
};

// One hit to add: in (key, bucketMs), which then expires at expiresMs (or later, if it did).
struct CounterHit {
    std::string key;
    int64_t bucketMs = 0;
    int64_t expiresMs = 0;
};

class LimitCounterRepository {
  public:
    // The buckets of `key` and of `key2` (may be the same) that have not expired at nowMs,
    // oldest first.
    std::vector<CounterBucket> buckets(Connection& c, const std::string& key,
                                       const std::string& key2, int64_t nowMs) const;
    // Adds the hit; the second form two hits of two different keys in one statement.
    void add(Connection& c, const CounterHit& hit) const;
    void add(Connection& c, const CounterHit& hit, const CounterHit& hit2) const;
    // One more hit in (key, bucketMs), as add() does, only if the buckets of `key` that
    // have not expired at nowMs hold fewer than `limit` hits together: the new count of
    // the bucket, or nullopt when
    // refused (nothing changed). One conditional upsert: concurrent calls for one bucket are
    // serialised on its row (PostgreSQL re-evaluates the condition on the row's latest
    // version), so they never pass the limit together.
    std::optional<int64_t> addBelow(Connection& c, const std::string& key, int64_t bucketMs,
                                    int64_t expiresMs, int64_t nowMs, int64_t limit) const;
    // Deletes at most `limit` rows expired at nowMs; returns how many.
    int64_t purgeExpired(soci::session& s, int64_t nowMs, int64_t limit) const;

  private:
    // addBelow() on MySQL: three statements (see the .cpp), so it must run in the caller's
    // write transaction (Database::write(), which runs it again after a Galera
    // certification loss).
    std::optional<int64_t> addBelowMysql(Connection& c, const std::string& key, int64_t bucketMs,
                                         int64_t expiresMs, int64_t nowMs, int64_t limit) const;
};

}  // namespace authsvc::models
