#include "models/MailOutboxRepository.h"

#include "models/MysqlDialect.h"

namespace authsvc::models {
namespace {
constexpr const char* kEnqueue =
    "INSERT INTO mail_outbox (kind, status, user_id, address, created_ms, next_attempt_ms, "
    "attempts) VALUES (:k, 'queued', :u, :a, :c, :n, 0) RETURNING id";
constexpr const char* kDue =
    "SELECT id FROM mail_outbox WHERE status = 'queued' AND next_attempt_ms <= :now "
    "AND (lease_expires_ms IS NULL OR lease_expires_ms <= :now2) ORDER BY id LIMIT :n";
// The lease: only one of several senders that run this for one row changes it.
constexpr const char* kClaim =
    "UPDATE mail_outbox SET lease_owner = :o, lease_expires_ms = :until "
    "WHERE id = :id AND status = 'queued' AND next_attempt_ms <= :now "
    "AND (lease_expires_ms IS NULL OR lease_expires_ms <= :now2)";
constexpr const char* kRow =
    "SELECT kind, user_id, address, created_ms, attempts FROM mail_outbox "
    "WHERE id = :id AND lease_owner = :o";
constexpr const char* kHolds =
    "SELECT COUNT(*) FROM mail_outbox WHERE id = :id AND status = 'queued' "
    "AND lease_owner = :o AND lease_expires_ms > :now";
constexpr const char* kFinish =
    "UPDATE mail_outbox SET status = :st, done_ms = :now, attempts = attempts + 1, "
    "lease_owner = NULL, lease_expires_ms = NULL, last_error = NULL "
    "WHERE id = :id AND status = 'queued' AND lease_owner = :o";
constexpr const char* kFail =
    "UPDATE mail_outbox SET status = :st, attempts = attempts + 1, last_error = :e, "
    "next_attempt_ms = :next, done_ms = :done, lease_owner = NULL, lease_expires_ms = NULL "
    "WHERE id = :id AND status = 'queued' AND lease_owner = :o";
constexpr const char* kCount = "SELECT COUNT(*) FROM mail_outbox WHERE status = :st";
constexpr const char* kOldest = "SELECT MIN(created_ms) FROM mail_outbox WHERE status = 'queued'";
constexpr const char* kRetryDead =
    "UPDATE mail_outbox SET status = 'queued', attempts = 0, next_attempt_ms = :now, "
    "done_ms = NULL, lease_owner = NULL, lease_expires_ms = NULL WHERE status = 'dead'";
constexpr const char* kPurgeDone =
    "DELETE FROM mail_outbox WHERE id IN (SELECT id FROM mail_outbox "
    "WHERE status IN ('sent', 'skipped') AND done_ms < :before ORDER BY id LIMIT :n)";
// MySQL has no LIMIT in an IN subquery, but a single-table DELETE takes one.
constexpr const char* kPurgeDoneMysql =
    "DELETE FROM mail_outbox WHERE status IN ('sent', 'skipped') AND done_ms < :before "
    "ORDER BY id LIMIT :n";
constexpr const char* kDeadErrors =
    "SELECT id, kind, last_error FROM mail_outbox WHERE status = 'dead' ORDER BY id DESC "
    "LIMIT :n";

constexpr const char* kVoidOlder =
    "DELETE FROM one_time_tokens WHERE user_id = :u AND purpose = :p";
constexpr const char* kInsertToken =
    "INSERT INTO one_time_tokens (token_hash, purpose, user_id, data, created_ms, expires_ms) "
    "VALUES (:h, :p, :u, :d, :c, :e)";
constexpr const char* kConsume =
    "DELETE FROM one_time_tokens WHERE token_hash = :h AND purpose = :p AND expires_ms > :now "
    "RETURNING user_id, data";
constexpr const char* kTokenExists =
    "SELECT COUNT(*) FROM one_time_tokens WHERE token_hash = :h AND purpose = :p "
    "AND expires_ms > :now";
constexpr const char* kPurgeTokens = "DELETE FROM one_time_tokens WHERE expires_ms <= :now";

long long changed(soci::statement& st) {
    st.execute(true);
    return st.get_affected_rows();
}
}  // namespace

int64_t MailOutboxRepository::enqueue(soci::session& s, const std::string& kind,
                                      std::optional<int64_t> userId,
                                      const std::optional<std::string>& address,
                                      int64_t nowMs) const {
    long long id = 0, user = userId.value_or(0), now = nowMs;
    std::string addr = address.value_or("");
    soci::indicator userInd = userId ? soci::i_ok : soci::i_null;
    soci::indicator addrInd = address ? soci::i_ok : soci::i_null;
    s << kEnqueue, soci::use(kind), soci::use(user, userInd), soci::use(addr, addrInd),
        soci::use(now), soci::use(now), soci::into(id);
    return id;
}

std::vector<int64_t> MailOutboxRepository::due(soci::session& s, int64_t nowMs, int limit) const {
    long long now = nowMs, n = limit, id = 0;
    soci::statement st =
        (s.prepare << kDue, soci::use(now), soci::use(now), soci::use(n), soci::into(id));
    st.execute();
    std::vector<int64_t> out;
    while (st.fetch()) out.push_back(id);
    return out;
}

std::optional<OutboxRow> MailOutboxRepository::claim(soci::session& s, int64_t id,
                                                     const std::string& owner, int64_t nowMs,
                                                     int64_t leaseUntilMs) const {
    long long key = id, now = nowMs, until = leaseUntilMs;
    soci::statement st = (s.prepare << kClaim, soci::use(owner), soci::use(until), soci::use(key),
                          soci::use(now), soci::use(now));
    if (changed(st) != 1) return std::nullopt;
    OutboxRow row;
    row.id = id;
    long long user = 0, created = 0;
    int attempts = 0;
    std::string address;
    soci::indicator userInd = soci::i_ok, addrInd = soci::i_ok;
    s << kRow, soci::use(key), soci::use(owner), soci::into(row.kind), soci::into(user, userInd),
        soci::into(address, addrInd), soci::into(created), soci::into(attempts);
    if (!s.got_data()) return std::nullopt;
    if (userInd == soci::i_ok) row.userId = user;
    if (addrInd == soci::i_ok) row.address = address;
    row.createdMs = created;
    row.attempts = attempts;
    return row;
}

bool MailOutboxRepository::holds(soci::session& s, int64_t id, const std::string& owner,
                                 int64_t nowMs) const {
    long long key = id, now = nowMs, n = 0;
    s << kHolds, soci::use(key), soci::use(owner), soci::use(now), soci::into(n);
    return n == 1;
}

bool MailOutboxRepository::finish(soci::session& s, int64_t id, const std::string& owner,
                                  const std::string& status, int64_t nowMs) const {
    long long key = id, now = nowMs;
    soci::statement st =
        (s.prepare << kFinish, soci::use(status), soci::use(now), soci::use(key), soci::use(owner));
    return changed(st) == 1;
}

bool MailOutboxRepository::fail(soci::session& s, int64_t id, const std::string& owner,
                                const std::string& error, int64_t nextAttemptMs, bool dead,
                                int64_t nowMs) const {
    long long key = id, next = nextAttemptMs, done = nowMs;
    const std::string status = dead ? "dead" : "queued";
    soci::indicator doneInd = dead ? soci::i_ok : soci::i_null;
    soci::statement st = (s.prepare << kFail, soci::use(status), soci::use(error), soci::use(next),
                          soci::use(done, doneInd), soci::use(key), soci::use(owner));
    return changed(st) == 1;
}

OutboxStatus MailOutboxRepository::status(soci::session& s) const {
    OutboxStatus out;
    long long n = 0;
    std::string st = "queued";
    s << kCount, soci::use(st), soci::into(n);
    out.queued = n;
    st = "dead";
    s << kCount, soci::use(st), soci::into(n);
    out.dead = n;
    long long oldest = 0;
    soci::indicator ind = soci::i_null;
    s << kOldest, soci::into(oldest, ind);
    if (s.got_data() && ind == soci::i_ok) out.oldestQueuedMs = oldest;
    return out;
}

int64_t MailOutboxRepository::retryDead(soci::session& s, int64_t nowMs) const {
    long long now = nowMs;
    soci::statement st = (s.prepare << kRetryDead, soci::use(now));
    return changed(st);
}

int64_t MailOutboxRepository::purgeDone(soci::session& s, int64_t beforeMs, int limit) const {
    long long before = beforeMs, n = limit;
    soci::statement st =
        (s.prepare << (isMysql(s) ? kPurgeDoneMysql : kPurgeDone), soci::use(before), soci::use(n));
    return changed(st);
}

std::vector<std::pair<int64_t, std::string>> MailOutboxRepository::deadErrors(soci::session& s,
                                                                              int limit) const {
    long long n = limit, id = 0;
    std::string kind, error;
    soci::indicator errorInd = soci::i_ok;
    soci::statement st = (s.prepare << kDeadErrors, soci::use(n), soci::into(id), soci::into(kind),
                          soci::into(error, errorInd));
    st.execute();
    std::vector<std::pair<int64_t, std::string>> out;
    while (st.fetch()) {
        out.emplace_back(id, kind + ": " + (errorInd == soci::i_ok ? error : std::string()));
    }
    return out;
}

void OneTimeTokenRepository::replace(soci::session& s, const std::string& tokenHashHex,
                                     const std::string& purpose, int64_t userId,
                                     const std::optional<std::string>& data, int64_t nowMs,
                                     int64_t expiresMs) const {
    long long user = userId, now = nowMs, expires = expiresMs;
    s << kVoidOlder, soci::use(user), soci::use(purpose);
    std::string d = data.value_or("");
    soci::indicator dataInd = data ? soci::i_ok : soci::i_null;
    s << kInsertToken, soci::use(tokenHashHex), soci::use(purpose), soci::use(user),
        soci::use(d, dataInd), soci::use(now), soci::use(expires);
}

std::optional<OneTimeToken> OneTimeTokenRepository::consume(soci::session& s,
                                                            const std::string& tokenHashHex,
                                                            const std::string& purpose,
                                                            int64_t nowMs) const {
    long long now = nowMs, user = 0;
    std::string data;
    soci::indicator dataInd = soci::i_null;
    s << kConsume, soci::use(tokenHashHex), soci::use(purpose), soci::use(now), soci::into(user),
        soci::into(data, dataInd);
    if (!s.got_data()) return std::nullopt;
    OneTimeToken t;
    t.userId = user;
    if (dataInd == soci::i_ok) t.data = data;
    return t;
}

bool OneTimeTokenRepository::exists(soci::session& s, const std::string& tokenHashHex,
                                    const std::string& purpose, int64_t nowMs) const {
    long long now = nowMs, n = 0;
    s << kTokenExists, soci::use(tokenHashHex), soci::use(purpose), soci::use(now), soci::into(n);
    return n > 0;
}

int64_t OneTimeTokenRepository::purgeExpired(soci::session& s, int64_t nowMs) const {
    long long now = nowMs;
    soci::statement st = (s.prepare << kPurgeTokens, soci::use(now));
    return changed(st);
}

}  // namespace authsvc::models
