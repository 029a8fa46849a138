#include "models/LimitCounterRepository.h"

namespace authsvc::models {
namespace {
constexpr const char* kBuckets =
    "SELECT counter_key, bucket_ms, hits, expires_ms FROM limit_counters "
    "WHERE counter_key IN (:k, :k2) AND expires_ms > :now ORDER BY bucket_ms";
// A bucket expires when its latest hit leaves the window.
// MySQL: ON DUPLICATE KEY UPDATE hits = hits + 1, expires_ms = GREATEST(expires_ms,
// VALUES(expires_ms)) (or the row alias of 8.0.19+).
#define AUTHSVC_ADD_HIT                                                                    \
    " ON CONFLICT (counter_key, bucket_ms) DO UPDATE SET hits = limit_counters.hits + 1, " \
    "expires_ms = CASE WHEN excluded.expires_ms > limit_counters.expires_ms "              \
    "THEN excluded.expires_ms ELSE limit_counters.expires_ms END"
constexpr const char* kAddOne =
    "INSERT INTO limit_counters (counter_key, bucket_ms, hits, expires_ms) "
    "VALUES (:k, :b, 1, :e)" AUTHSVC_ADD_HIT;
// Two different keys (one row each: a command may not update one row twice).
constexpr const char* kAddTwo =
    "INSERT INTO limit_counters (counter_key, bucket_ms, hits, expires_ms) "
    "VALUES (:k, :b, 1, :e), (:k2, :b2, 1, :e2)" AUTHSVC_ADD_HIT;
#undef AUTHSVC_ADD_HIT
// The INSERT path checks the whole window (the row does not exist, or did not when the
// statement began: a conflict then takes the UPDATE path). The UPDATE path checks the row's
// own hits as locked (its latest version) plus the other live buckets of the key.
// MySQL: INSERT ... SELECT ... FROM DUAL WHERE ... ON DUPLICATE KEY UPDATE with each
// assignment IF(<cond>, new, old) (hits last: MySQL assigns left to right) and
// hits = LAST_INSERT_ID(...) for the count, since it has no RETURNING.
constexpr const char* kAddBelow =
    "INSERT INTO limit_counters (counter_key, bucket_ms, hits, expires_ms) "
    "SELECT :k, CAST(:b AS BIGINT), 1, CAST(:e AS BIGINT) "
    "WHERE (SELECT COALESCE(SUM(hits), 0) FROM limit_counters "
    "WHERE counter_key = :k2 AND expires_ms > :now) < :lim "
    "ON CONFLICT (counter_key, bucket_ms) DO UPDATE SET "
    "hits = limit_counters.hits + 1, expires_ms = CASE WHEN excluded.expires_ms > "
    "limit_counters.expires_ms THEN excluded.expires_ms ELSE limit_counters.expires_ms END "
    "WHERE limit_counters.hits + (SELECT COALESCE(SUM(o.hits), 0) FROM limit_counters o "
    "WHERE o.counter_key = :k3 AND o.expires_ms > :now2 AND o.bucket_ms <> :b2) < :lim2 "
    "RETURNING hits";
// MySQL has no LIMIT in an IN subquery: DELETE ... WHERE expires_ms <= ? ORDER BY
// expires_ms LIMIT ? there.
constexpr const char* kPurge =
    "DELETE FROM limit_counters WHERE (counter_key, bucket_ms) IN (SELECT counter_key, "
    "bucket_ms FROM limit_counters WHERE expires_ms <= :now ORDER BY expires_ms LIMIT :n)";

// The statements of a check, prepared once per pooled session (see Connection.h): each
// holds the variables it is bound to.
struct Buckets {
    std::string key, key2, rowKey;
    long long now = 0, bucket = 0, hits = 0, expires = 0;
    soci::statement st;
    explicit Buckets(soci::session& s)
        : st((s.prepare << kBuckets, soci::use(key), soci::use(key2), soci::use(now),
              soci::into(rowKey), soci::into(bucket), soci::into(hits), soci::into(expires))) {}
};

struct AddOne {
    CounterHit hit;
    long long bucket = 0, expires = 0;
    soci::statement st;
    explicit AddOne(soci::session& s)
        : st((s.prepare << kAddOne, soci::use(hit.key), soci::use(bucket), soci::use(expires))) {}
};

struct AddTwo {
    CounterHit hit, hit2;
    long long bucket = 0, expires = 0, bucket2 = 0, expires2 = 0;
    soci::statement st;
    explicit AddTwo(soci::session& s)
        : st((s.prepare << kAddTwo, soci::use(hit.key), soci::use(bucket), soci::use(expires),
              soci::use(hit2.key), soci::use(bucket2), soci::use(expires2))) {}
};

struct AddBelow {
    std::string key;
    long long bucket = 0, expires = 0, now = 0, limit = 0, hits = 0;
    soci::statement st;
    explicit AddBelow(soci::session& s)
        : st((s.prepare << kAddBelow, soci::use(key), soci::use(bucket), soci::use(expires),
              soci::use(key), soci::use(now), soci::use(limit), soci::use(key), soci::use(now),
              soci::use(bucket), soci::use(limit), soci::into(hits))) {}
};

}  // namespace

std::vector<CounterBucket> LimitCounterRepository::buckets(Connection& c, const std::string& key,
                                                           const std::string& key2,
                                                           int64_t nowMs) const {
    auto& q = c.prepared<Buckets>();
    q.key = key;
    q.key2 = key2;
    q.now = nowMs;
    std::vector<CounterBucket> out;
    if (!q.st.execute(true)) return out;  // runs to its end below: no open read left behind
    do {
        out.push_back({q.rowKey, q.bucket, q.hits, q.expires});
    } while (q.st.fetch());
    return out;
}

void LimitCounterRepository::add(Connection& c, const CounterHit& hit) const {
    auto& q = c.prepared<AddOne>();
    q.hit = hit;
    q.bucket = hit.bucketMs;
    q.expires = hit.expiresMs;
    c.execute(q.st);
}

void LimitCounterRepository::add(Connection& c, const CounterHit& hit,
                                 const CounterHit& hit2) const {
    auto& q = c.prepared<AddTwo>();
    q.hit = hit;
    q.hit2 = hit2;
    q.bucket = hit.bucketMs;
    q.expires = hit.expiresMs;
    q.bucket2 = hit2.bucketMs;
    q.expires2 = hit2.expiresMs;
    c.execute(q.st);
}

std::optional<int64_t> LimitCounterRepository::addBelow(Connection& c, const std::string& key,
                                                        int64_t bucketMs, int64_t expiresMs,
                                                        int64_t nowMs, int64_t limit) const {
    auto& q = c.prepared<AddBelow>();
    q.key = key;
    q.bucket = bucketMs;
    q.expires = expiresMs;
    q.now = nowMs;
    q.limit = limit;
    std::optional<int64_t> hits;
    c.queryOne(q.st, [&] { hits = q.hits; });
    return hits;
}

int64_t LimitCounterRepository::purgeExpired(soci::session& s, int64_t nowMs, int64_t limit) const {
    long long now = nowMs, n = limit;
    soci::statement st = (s.prepare << kPurge, soci::use(now), soci::use(n));
    st.execute(true);
    return st.get_affected_rows();
}

}  // namespace authsvc::models
