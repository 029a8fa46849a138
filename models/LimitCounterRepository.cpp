#include "models/LimitCounterRepository.h"

namespace authsvc::models {
namespace {
constexpr const char* kBuckets =
    "SELECT bucket_ms, hits, expires_ms FROM limit_counters "
    "WHERE counter_key = :k AND expires_ms > :now ORDER BY bucket_ms";
// A bucket expires when its latest hit leaves the window.
constexpr const char* kAdd =
    "INSERT INTO limit_counters (counter_key, bucket_ms, hits, expires_ms) "
    "VALUES (:k, :b, 1, :e) ON CONFLICT (counter_key, bucket_ms) DO UPDATE SET "
    "hits = limit_counters.hits + 1, expires_ms = CASE WHEN excluded.expires_ms > "
    "limit_counters.expires_ms THEN excluded.expires_ms ELSE limit_counters.expires_ms END";
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
constexpr const char* kPurge =
    "DELETE FROM limit_counters WHERE (counter_key, bucket_ms) IN (SELECT counter_key, "
    "bucket_ms FROM limit_counters WHERE expires_ms <= :now ORDER BY expires_ms LIMIT :n)";
}  // namespace

std::vector<CounterBucket> LimitCounterRepository::buckets(soci::session& s, const std::string& key,
                                                           int64_t nowMs) const {
    long long now = nowMs, bucket = 0, hits = 0, expires = 0;
    soci::statement st = (s.prepare << kBuckets, soci::use(key), soci::use(now), soci::into(bucket),
                          soci::into(hits), soci::into(expires));
    st.execute();
    std::vector<CounterBucket> out;
    while (st.fetch()) out.push_back({bucket, hits, expires});
    return out;
}

void LimitCounterRepository::add(soci::session& s, const std::string& key, int64_t bucketMs,
                                 int64_t expiresMs) const {
    long long bucket = bucketMs, expires = expiresMs;
    s << kAdd, soci::use(key), soci::use(bucket), soci::use(expires);
}

std::optional<int64_t> LimitCounterRepository::addBelow(soci::session& s, const std::string& key,
                                                        int64_t bucketMs, int64_t expiresMs,
                                                        int64_t nowMs, int64_t limit) const {
    long long bucket = bucketMs, expires = expiresMs, now = nowMs, lim = limit, hits = 0;
    s << kAddBelow, soci::use(key), soci::use(bucket), soci::use(expires), soci::use(key),
        soci::use(now), soci::use(lim), soci::use(key), soci::use(now), soci::use(bucket),
        soci::use(lim), soci::into(hits);
    if (!s.got_data()) return std::nullopt;
    return hits;
}

int64_t LimitCounterRepository::purgeExpired(soci::session& s, int64_t nowMs, int64_t limit) const {
    long long now = nowMs, n = limit;
    soci::statement st = (s.prepare << kPurge, soci::use(now), soci::use(n));
    st.execute(true);
    return st.get_affected_rows();
}

}  // namespace authsvc::models
