#include "models/RefreshTokenRepository.h"

#include "common/Crypto.h"
#include "models/MysqlDialect.h"
#include "models/UserRepository.h"

namespace authsvc::models {
namespace {
constexpr const char* kCreateFamily =
    "INSERT INTO refresh_families (id, user_id, created_ms, expires_ms, user_agent, ip) "
    "VALUES (:id, :u, :c, :e, :ua, :ip)";
// Token hashes are stored as their 32 bytes (SQLite BLOB, PostgreSQL bytea, MySQL BINARY(32)).
// SOCI 4.0 binds a std::string as text on all: SQLite keeps its bytes but as TEXT, which never
// equals a BLOB, hence the CAST; PostgreSQL takes text parameters as C strings (a 0 byte would
// end one), hence hex there, decoded by the server, and read back as hex; MySQL (a utf8mb4
// literal, which raw bytes are not) likewise with UNHEX()/HEX().
// SQLite's refresh_tokens is kept in family order (migration 0009): a token's id is the
// largest of its family plus one, read from the leaf page the insert then writes.
constexpr const char* kInsertTokenSqlite =
    "INSERT INTO refresh_tokens (family_id, id, token_hash, parent_id, issued_ms) "
    "VALUES (:f, (SELECT COALESCE(MAX(id), 0) + 1 FROM refresh_tokens WHERE family_id = :f2), "
    "CAST(:h AS BLOB), :p, :t)";
constexpr const char* kInsertTokenPg =
    "INSERT INTO refresh_tokens (family_id, token_hash, parent_id, issued_ms) "
    "VALUES (:f, decode(:h, 'hex'), :p, :t)";
constexpr const char* kInsertTokenMysql =
    "INSERT INTO refresh_tokens (family_id, token_hash, parent_id, issued_ms) "
    "VALUES (:f, UNHEX(:h), :p, :t)";
// The user's roles ride along with a token or family (a rotation issues an access token
// with them), aggregated in the same statement: no extra round trip. rolesOf() writes the
// aggregate for the dialect. Role names have no spaces.
constexpr const char* kFindByHashHeadSqlite =
    "SELECT t.id, t.family_id, t.used_ms, t.successor_hash, f.user_id, f.expires_ms, "
    "f.revoked_ms, ";
constexpr const char* kFindByHashTailSqlite =
    " FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id "
    "WHERE t.token_hash = CAST(:h AS BLOB)";
constexpr const char* kFindByHashHeadPg =
    "SELECT t.id, t.family_id, t.used_ms, encode(t.successor_hash, 'hex'), f.user_id, "
    "f.expires_ms, f.revoked_ms, ";
constexpr const char* kFindByHashTailPg =
    " FROM refresh_tokens t JOIN refresh_families f "
    "ON f.id = t.family_id WHERE t.token_hash = decode(:h, 'hex')";
constexpr const char* kFindByHashHeadMysql =
    "SELECT t.id, t.family_id, t.used_ms, LOWER(HEX(t.successor_hash)), f.user_id, "
    "f.expires_ms, f.revoked_ms, ";
constexpr const char* kFindByHashTailMysql =
    " FROM refresh_tokens t JOIN refresh_families f "
    "ON f.id = t.family_id WHERE t.token_hash = UNHEX(:h)";
constexpr const char* kLiveFamilyHead = "SELECT f.user_id, f.expires_ms, ";
constexpr const char* kLiveFamilyTail =
    " FROM refresh_families f WHERE f.id = :id AND f.revoked_ms IS NULL AND f.expires_ms > :now";
constexpr const char* kMarkUsedSqlite =
    "UPDATE refresh_tokens SET used_ms = :now, successor_hash = CAST(:s AS BLOB) "
    "WHERE family_id = :f AND id = :id AND used_ms IS NULL";
constexpr const char* kMarkUsedPg =
    "UPDATE refresh_tokens SET used_ms = :now, successor_hash = decode(:s, 'hex') "
    "WHERE family_id = :f AND id = :id AND used_ms IS NULL";
constexpr const char* kMarkUsedMysql =
    "UPDATE refresh_tokens SET used_ms = :now, successor_hash = UNHEX(:s) "
    "WHERE family_id = :f AND id = :id AND used_ms IS NULL";
// PostgreSQL's data-modifying WITH; SQLite has none. Every :name occurrence is its own
// parameter for SOCI's PostgreSQL backend, hence the numbered repeats.
constexpr const char* kRotateIfFresh =
    "WITH used AS ("
    "UPDATE refresh_tokens t SET used_ms = :now, successor_hash = decode(:s, 'hex') "
    "FROM refresh_families f "
    "WHERE t.token_hash = decode(:h, 'hex') AND t.used_ms IS NULL AND f.id = t.family_id "
    "AND f.revoked_ms IS NULL AND f.expires_ms > :now2 "
    "RETURNING t.id, t.family_id, f.user_id, f.expires_ms), "
    "successor AS ("
    "INSERT INTO refresh_tokens (family_id, token_hash, parent_id, issued_ms) "
    "SELECT family_id, decode(:s2, 'hex'), id, :now3 FROM used) "
    "SELECT id, family_id, user_id, expires_ms, "
    "(SELECT string_agg(r.role, ' ') FROM user_roles r WHERE r.user_id = used.user_id) "
    "FROM used";
constexpr const char* kSetExpiry = "UPDATE refresh_families SET expires_ms = :e WHERE id = :id";
constexpr const char* kRevokeFamily =
    "UPDATE refresh_families SET revoked_ms = :now, revoke_reason = :r "
    "WHERE id = :id AND revoked_ms IS NULL";
constexpr const char* kRevokeUser =
    "UPDATE refresh_families SET revoked_ms = :now, revoke_reason = :r "
    "WHERE user_id = :u AND revoked_ms IS NULL AND expires_ms > :now2 AND id <> :keep";
constexpr const char* kRevokeUserFamily =
    "UPDATE refresh_families SET revoked_ms = :now, revoke_reason = :r "
    "WHERE id = :id AND user_id = :u AND revoked_ms IS NULL AND expires_ms > :now2";
// The newest token of a family is the one issued last: its issued_ms is the family's last
// use, found through refresh_tokens_family. The families come in index order
// (refresh_families_user_created), so the LIMIT stops the walk.
constexpr const char* kLiveSessions =
    "SELECT f.id, f.created_ms, f.expires_ms, f.user_agent, f.ip, "
    "(SELECT MAX(t.issued_ms) FROM refresh_tokens t WHERE t.family_id = f.id) "
    "FROM refresh_families f "
    "WHERE f.user_id = :u AND f.revoked_ms IS NULL AND f.expires_ms > :now "
    "ORDER BY f.created_ms DESC LIMIT :n";
// Bounded batches: each walks one index range and stops after :n rows (a UNION would
// have to collect both ranges whole before its LIMIT). Tokens go by ON DELETE CASCADE.
constexpr const char* kPurgeExpired =
    "DELETE FROM refresh_families WHERE id IN ("
    "SELECT id FROM refresh_families WHERE expires_ms < :now LIMIT :n)";
constexpr const char* kPurgeRevoked =
    "DELETE FROM refresh_families WHERE id IN ("
    "SELECT id FROM refresh_families WHERE revoked_ms < :rb LIMIT :n)";
// MySQL has no LIMIT in an IN subquery, but a single-table DELETE takes one.
constexpr const char* kPurgeExpiredMysql =
    "DELETE FROM refresh_families WHERE expires_ms < :now LIMIT :n";
constexpr const char* kPurgeRevokedMysql =
    "DELETE FROM refresh_families WHERE revoked_ms < :rb LIMIT :n";

bool isSqlite(soci::session& s) {
    return s.get_backend_name() == "sqlite3";
}
// A hash as it is bound on this backend (see above).
std::string hashParam(bool sqlite, const std::string& hash) {
    return sqlite ? hash : crypto::hex(hash);
}

// The statements of a rotation, prepared once per pooled session (see Connection.h):
// each holds the variables it is bound to.
// The statement of this session's dialect.
const char* bySql(soci::session& s, const char* sqlite, const char* pg, const char* mysql) {
    return isSqlite(s) ? sqlite : isMysql(s) ? mysql : pg;
}

struct InsertToken {
    const bool sqlite;
    std::string familyId, tokenHash;
    long long parent = 0, issued = 0;
    soci::indicator parentInd = soci::i_null;
    soci::statement st;
    explicit InsertToken(soci::session& s)
        : sqlite(isSqlite(s)),
          st(sqlite ? (s.prepare << kInsertTokenSqlite, soci::use(familyId), soci::use(familyId),
                       soci::use(tokenHash), soci::use(parent, parentInd), soci::use(issued))
                    : (s.prepare << bySql(s, kInsertTokenSqlite, kInsertTokenPg, kInsertTokenMysql),
                       soci::use(familyId), soci::use(tokenHash), soci::use(parent, parentInd),
                       soci::use(issued))) {}
};

// The roles of the user in `userColumn` as one space-separated string (NULL for none).
std::string rolesOf(soci::session& s, const char* userColumn) {
    return std::string("(SELECT ") +
           bySql(s, "group_concat(r.role, ' ')", "string_agg(r.role, ' ')",
                 "GROUP_CONCAT(r.role ORDER BY r.role SEPARATOR ' ')") +
           " FROM user_roles r WHERE r.user_id = " + userColumn + ")";
}
std::vector<std::string> rolesOf(const std::string& list, soci::indicator ind) {
    if (ind != soci::i_ok) return {};
    return splitRoleList(list);
}

struct FindByHash {
    const bool sqlite;
    std::string hash, familyId, successor, roles;
    long long id = 0, used = 0, user = 0, expires = 0, revoked = 0;
    soci::indicator usedInd = soci::i_null, succInd = soci::i_null, revokedInd = soci::i_null,
                    rolesInd = soci::i_null;
    soci::statement st;
    explicit FindByHash(soci::session& s)
        : sqlite(isSqlite(s)),
          st((s.prepare << std::string(bySql(s, kFindByHashHeadSqlite, kFindByHashHeadPg,
                                             kFindByHashHeadMysql)) +
                               rolesOf(s, "f.user_id") +
                               bySql(s, kFindByHashTailSqlite, kFindByHashTailPg,
                                     kFindByHashTailMysql),
              soci::use(hash), soci::into(id), soci::into(familyId), soci::into(used, usedInd),
              soci::into(successor, succInd), soci::into(user), soci::into(expires),
              soci::into(revoked, revokedInd), soci::into(roles, rolesInd))) {}
};

struct RotateIfFresh {
    long long now = 0, id = 0, user = 0, expires = 0;
    std::string hash, successorHash, familyId, roles;
    soci::indicator rolesInd = soci::i_null;
    soci::statement st;
    explicit RotateIfFresh(soci::session& s)
        : st((s.prepare << kRotateIfFresh, soci::use(now), soci::use(successorHash),
              soci::use(hash), soci::use(now), soci::use(successorHash), soci::use(now),
              soci::into(id), soci::into(familyId), soci::into(user), soci::into(expires),
              soci::into(roles, rolesInd))) {}
};

struct LiveFamily {
    std::string familyId, roles;
    long long now = 0, user = 0, expires = 0;
    soci::indicator rolesInd = soci::i_null;
    soci::statement st;
    explicit LiveFamily(soci::session& s)
        : st((s.prepare << kLiveFamilyHead + rolesOf(s, "f.user_id") + kLiveFamilyTail,
              soci::use(familyId), soci::use(now), soci::into(user), soci::into(expires),
              soci::into(roles, rolesInd))) {}
};

struct MarkUsed {
    const bool sqlite;
    long long now = 0, id = 0;
    std::string successorHash, familyId;
    soci::statement st;
    explicit MarkUsed(soci::session& s)
        : sqlite(isSqlite(s)),
          st((s.prepare << bySql(s, kMarkUsedSqlite, kMarkUsedPg, kMarkUsedMysql), soci::use(now),
              soci::use(successorHash), soci::use(familyId), soci::use(id))) {}
};

struct SetExpiry {
    long long expires = 0;
    std::string familyId;
    soci::statement st;
    explicit SetExpiry(soci::session& s)
        : st((s.prepare << kSetExpiry, soci::use(expires), soci::use(familyId))) {}
};

struct RevokeFamily {
    long long now = 0;
    std::string reason, familyId;
    soci::statement st;
    explicit RevokeFamily(soci::session& s)
        : st((s.prepare << kRevokeFamily, soci::use(now), soci::use(reason), soci::use(familyId))) {
    }
};

}  // namespace

void RefreshTokenRepository::createFamily(soci::session& s, const std::string& familyId,
                                          int64_t userId, int64_t nowMs, int64_t expiresMs,
                                          const std::string& userAgent,
                                          const std::string& ip) const {
    long long u = userId, c = nowMs, e = expiresMs;
    soci::indicator uaInd = userAgent.empty() ? soci::i_null : soci::i_ok;
    soci::indicator ipInd = ip.empty() ? soci::i_null : soci::i_ok;
    s << kCreateFamily, soci::use(familyId), soci::use(u), soci::use(c), soci::use(e),
        soci::use(userAgent, uaInd), soci::use(ip, ipInd);
}

void RefreshTokenRepository::insertToken(Connection& c, const std::string& familyId,
                                         const std::string& tokenHash,
                                         std::optional<int64_t> parentId, int64_t nowMs) const {
    auto& q = c.prepared<InsertToken>();
    q.familyId = familyId;
    q.tokenHash = hashParam(q.sqlite, tokenHash);
    q.parent = parentId.value_or(0);
    q.parentInd = parentId ? soci::i_ok : soci::i_null;
    q.issued = nowMs;
    c.execute(q.st);
}

std::optional<RefreshTokenRecord> RefreshTokenRepository::findByHash(
    Connection& c, const std::string& hash) const {
    auto& q = c.prepared<FindByHash>();
    q.hash = hashParam(q.sqlite, hash);
    RefreshTokenRecord r;
    const bool found = c.queryOne(q.st, [&] {
        r.id = q.id;
        r.familyId = q.familyId;
        if (q.usedInd == soci::i_ok) r.usedMs = q.used;
        if (q.succInd == soci::i_ok) {
            r.successorHash = q.sqlite ? q.successor : crypto::unhex(q.successor).value_or("");
        }
        r.userId = q.user;
        r.familyExpiresMs = q.expires;
        if (q.revokedInd == soci::i_ok) r.familyRevokedMs = q.revoked;
        r.roles = rolesOf(q.roles, q.rolesInd);
    });
    if (!found) return std::nullopt;
    return r;
}

std::optional<RefreshTokenRecord> RefreshTokenRepository::rotateFreshAtOnce(
    Database& db, const std::string& hash, const std::string& successorHash, int64_t nowMs) const {
    if (db.dialect() != Dialect::Postgresql) return std::nullopt;
    return db.autocommit(
        [&](Connection& c) { return rotateIfFresh(c, hash, successorHash, nowMs); });
}

std::optional<RefreshTokenRecord> RefreshTokenRepository::rotateIfFresh(
    Connection& c, const std::string& hash, const std::string& successorHash, int64_t nowMs) const {
    auto& q = c.prepared<RotateIfFresh>();
    q.now = nowMs;
    q.hash = crypto::hex(hash);  // PostgreSQL only
    q.successorHash = crypto::hex(successorHash);
    RefreshTokenRecord r;
    const bool rotated = c.queryOne(q.st, [&] {
        r.id = q.id;
        r.familyId = q.familyId;
        r.userId = q.user;
        r.familyExpiresMs = q.expires;
        r.roles = rolesOf(q.roles, q.rolesInd);
    });
    if (!rotated) return std::nullopt;
    return r;
}

std::optional<LiveFamilyRecord> RefreshTokenRepository::liveFamily(Connection& c,
                                                                   const std::string& familyId,
                                                                   int64_t nowMs) const {
    auto& q = c.prepared<LiveFamily>();
    q.familyId = familyId;
    q.now = nowMs;
    LiveFamilyRecord r;
    const bool found = c.queryOne(q.st, [&] {
        r.userId = q.user;
        r.expiresMs = q.expires;
        r.roles = rolesOf(q.roles, q.rolesInd);
    });
    if (!found) return std::nullopt;
    return r;
}

bool RefreshTokenRepository::markUsed(Connection& c, const std::string& familyId, int64_t tokenId,
                                      int64_t nowMs, const std::string& successorHash) const {
    auto& q = c.prepared<MarkUsed>();
    q.now = nowMs;
    q.successorHash = hashParam(q.sqlite, successorHash);
    q.familyId = familyId;
    q.id = tokenId;
    return c.change(q.st) == 1;
}

void RefreshTokenRepository::setFamilyExpiry(Connection& c, const std::string& familyId,
                                             int64_t expiresMs) const {
    auto& q = c.prepared<SetExpiry>();
    q.expires = expiresMs;
    q.familyId = familyId;
    c.execute(q.st);
}

bool RefreshTokenRepository::revokeFamily(Connection& c, const std::string& familyId, int64_t nowMs,
                                          const std::string& reason) const {
    auto& q = c.prepared<RevokeFamily>();
    q.now = nowMs;
    q.reason = reason;
    q.familyId = familyId;
    return c.change(q.st) > 0;
}

int64_t RefreshTokenRepository::revokeAllForUser(soci::session& s, int64_t userId, int64_t nowMs,
                                                 const std::string& reason,
                                                 const std::string& keepFamilyId) const {
    long long now = nowMs, u = userId, now2 = nowMs;
    soci::statement st = (s.prepare << kRevokeUser, soci::use(now), soci::use(reason), soci::use(u),
                          soci::use(now2), soci::use(keepFamilyId));
    st.execute(true);
    return st.get_affected_rows();
}

bool RefreshTokenRepository::revokeUserFamily(soci::session& s, int64_t userId,
                                              const std::string& familyId, int64_t nowMs,
                                              const std::string& reason) const {
    long long now = nowMs, u = userId, now2 = nowMs;
    soci::statement st = (s.prepare << kRevokeUserFamily, soci::use(now), soci::use(reason),
                          soci::use(familyId), soci::use(u), soci::use(now2));
    st.execute(true);
    return st.get_affected_rows() > 0;
}

std::vector<SessionRecord> RefreshTokenRepository::liveSessions(soci::session& s, int64_t userId,
                                                                int64_t nowMs, int limit) const {
    long long u = userId, now = nowMs, n = limit, created = 0, expires = 0, lastUsed = 0;
    std::string id, userAgent, ip;
    soci::indicator uaInd = soci::i_null, ipInd = soci::i_null, lastInd = soci::i_null;
    soci::statement st =
        (s.prepare << kLiveSessions, soci::use(u), soci::use(now), soci::use(n), soci::into(id),
         soci::into(created), soci::into(expires), soci::into(userAgent, uaInd),
         soci::into(ip, ipInd), soci::into(lastUsed, lastInd));
    st.execute();
    std::vector<SessionRecord> out;
    while (st.fetch()) {
        SessionRecord r;
        r.familyId = id;
        r.createdMs = created;
        r.expiresMs = expires;
        r.lastUsedMs = lastInd == soci::i_ok ? lastUsed : created;
        if (uaInd == soci::i_ok) r.userAgent = userAgent;
        if (ipInd == soci::i_ok) r.ip = ip;
        out.push_back(std::move(r));
    }
    return out;
}

int64_t RefreshTokenRepository::purge(soci::session& s, int64_t nowMs, int64_t revokedBeforeMs,
                                      int64_t limit) const {
    long long now = nowMs, rb = revokedBeforeMs, n = limit;
    soci::statement expired =
        (s.prepare << bySql(s, kPurgeExpired, kPurgeExpired, kPurgeExpiredMysql), soci::use(now),
         soci::use(n));
    expired.execute(true);
    const long long deleted = expired.get_affected_rows();
    if (deleted >= limit) return deleted;
    long long rest = limit - deleted;
    soci::statement revoked =
        (s.prepare << bySql(s, kPurgeRevoked, kPurgeRevoked, kPurgeRevokedMysql), soci::use(rb),
         soci::use(rest));
    revoked.execute(true);
    return deleted + revoked.get_affected_rows();
}

}  // namespace authsvc::models
