#include "models/LimitCounterRepository.h"

#include "models/MysqlDialect.h"

namespace authsvc::models {
namespace {
constexpr const char* kBuckets =
    "SELECT counter_key, bucket_ms, hits, expires_ms FROM limit_counters "
    "WHERE counter_key IN (:k, :k2) AND expires_ms > :now ORDER BY bucket_ms";
// A bucket expires when its latest hit leaves the window.
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
// MySQL: no ON CONFLICT; VALUES(col) is the value the row would have been inserted with
// (deprecated in MySQL 8.0.20 for the row alias, which MariaDB does not have).
#define AUTHSVC_ADD_HIT_MYSQL                                 \
    " ON DUPLICATE KEY UPDATE hits = hits + 1, expires_ms = " \
    "GREATEST(expires_ms, VALUES(expires_ms))"
constexpr const char* kAddOneMysql =
    "INSERT INTO limit_counters (counter_key, bucket_ms, hits, expires_ms) "
    "VALUES (:k, :b, 1, :e)" AUTHSVC_ADD_HIT_MYSQL;
constexpr const char* kAddTwoMysql =
    "INSERT INTO limit_counters (counter_key, bucket_ms, hits, expires_ms) "
    "VALUES (:k, :b, 1, :e), (:k2, :b2, 1, :e2)" AUTHSVC_ADD_HIT_MYSQL;
#undef AUTHSVC_ADD_HIT_MYSQL
// The INSERT path checks the whole window (the row does not exist, or did not when the
// statement began: a conflict then takes the UPDATE path). The UPDATE path checks the row's
// own hits as locked (its latest version) plus the other live buckets of the key.
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
// MySQL (addBelowMysql, in the caller's transaction): no ON CONFLICT ... WHERE and no
// RETURNING, so three short statements instead of one. First the bucket's row is made to
// exist and is write-locked (a no-op update of an existing row still takes its lock), so
// that concurrent checks of one bucket on this server queue there; then the count is read
// (READ COMMITTED: a fresh read after the lock, so it sees the holder's committed hit);
// then the hit is added, or, when refused, a row the first step inserted is removed again.
// On Galera the lock is the local node's only: two nodes' checks both write the row (or
// both insert it), so one loses certification at COMMIT (1213) and Database::write() runs
// it again, seeing the winner's hit.
constexpr const char* kLockBucketMysql =
    "INSERT INTO limit_counters (counter_key, bucket_ms, hits, expires_ms) "
    "VALUES (:k, :b, 0, :e) ON DUPLICATE KEY UPDATE hits = hits";
constexpr const char* kCountMysql =
    "SELECT CAST(COALESCE(SUM(hits), 0) AS SIGNED), "
    "CAST(COALESCE(SUM(CASE WHEN bucket_ms = :b THEN hits ELSE 0 END), 0) AS SIGNED) "
    "FROM limit_counters WHERE counter_key = :k AND (bucket_ms = :b2 OR expires_ms > :now)";
constexpr const char* kAddHitMysql =
    "UPDATE limit_counters SET hits = hits + 1, expires_ms = GREATEST(expires_ms, :e) "
    "WHERE counter_key = :k AND bucket_ms = :b";
constexpr const char* kDropEmptyMysql =
    "DELETE FROM limit_counters WHERE counter_key = :k AND bucket_ms = :b AND hits = 0";
// MySQL has no LIMIT in an IN subquery, but a LIMIT on DELETE itself.
constexpr const char* kPurge =
    "DELETE FROM limit_counters WHERE (counter_key, bucket_ms) IN (SELECT counter_key, "
    "bucket_ms FROM limit_counters WHERE expires_ms <= :now ORDER BY expires_ms LIMIT :n)";
constexpr const char* kPurgeMysql =
    "DELETE FROM limit_counters WHERE expires_ms <= :now ORDER BY expires_ms LIMIT :n";

// The statement of this session's dialect (SQLite and PostgreSQL share theirs).
const char* counterSql(soci::session& s, const char* sqliteOrPg, const char* mysql) {
    return isMysql(s) ? mysql : sqliteOrPg;
}

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
        : st((s.prepare << counterSql(s, kAddOne, kAddOneMysql), soci::use(hit.key),
              soci::use(bucket), soci::use(expires))) {}
};

struct AddTwo {
    CounterHit hit, hit2;
    long long bucket = 0, expires = 0, bucket2 = 0, expires2 = 0;
    soci::statement st;
    explicit AddTwo(soci::session& s)
        : st((s.prepare << counterSql(s, kAddTwo, kAddTwoMysql), soci::use(hit.key),
              soci::use(bucket), soci::use(expires), soci::use(hit2.key), soci::use(bucket2),
              soci::use(expires2))) {}
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

// MySQL's check (see kLockBucketMysql): its statements, prepared once per pooled session.
struct AddBelowMysql {
    std::string key;
    long long bucket = 0, expires = 0, now = 0, total = 0, own = 0;
    soci::statement lock, count, add, dropEmpty;
    explicit AddBelowMysql(soci::session& s)
        : lock((s.prepare << kLockBucketMysql, soci::use(key), soci::use(bucket),
                soci::use(expires))),
          count((s.prepare << kCountMysql, soci::use(bucket), soci::use(key), soci::use(bucket),
                 soci::use(now), soci::into(total), soci::into(own))),
          add((s.prepare << kAddHitMysql, soci::use(expires), soci::use(key), soci::use(bucket))),
          dropEmpty((s.prepare << kDropEmptyMysql, soci::use(key), soci::use(bucket))) {}
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
    if (isMysql(c)) return addBelowMysql(c, key, bucketMs, expiresMs, nowMs, limit);
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

std::optional<int64_t> LimitCounterRepository::addBelowMysql(Connection& c, const std::string& key,
                                                             int64_t bucketMs, int64_t expiresMs,
                                                             int64_t nowMs, int64_t limit) const {
    auto& q = c.prepared<AddBelowMysql>();
    q.key = key;
    q.bucket = bucketMs;
    q.expires = expiresMs;
    q.now = nowMs;
    c.execute(q.lock);
    q.total = 0;
    q.own = 0;
    c.queryOne(q.count, [] {});
    if (q.total < limit) {
        c.execute(q.add);
        return q.own + 1;
    }
    if (q.own == 0) c.execute(q.dropEmpty);  // the row the lock inserted: nothing changed
    return std::nullopt;
}

int64_t LimitCounterRepository::purgeExpired(soci::session& s, int64_t nowMs, int64_t limit) const {
    long long now = nowMs, n = limit;
    soci::statement st =
        (s.prepare << counterSql(s, kPurge, kPurgeMysql), soci::use(now), soci::use(n));
    st.execute(true);
    return st.get_affected_rows();
}

}  // namespace authsvc::models
