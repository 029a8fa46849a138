#include "models/UserRepository.h"

#include <algorithm>

#include "models/MysqlDialect.h"

namespace authsvc::models {
namespace {
constexpr const char* kInsert =
    "INSERT INTO users (email, password_hash, created_at, email_verified) "
    "VALUES (:e, :h, :t, :v) ON CONFLICT (email) DO NOTHING RETURNING id";
// MySQL has no ON CONFLICT: the INSERT fails with a duplicate key (1062), which only
// rolls that statement back, and insert() says "taken" as on the others. (INSERT IGNORE
// would also turn other errors, a foreign key or a too long value, into warnings.)
constexpr const char* kInsertMysql =
    "INSERT INTO users (email, password_hash, created_at, email_verified) "
    "VALUES (:e, :h, :t, :v) RETURNING id";
constexpr const char* kByEmail =
    "SELECT id, email, password_hash, created_at, email_verified FROM users WHERE email = :e";
constexpr const char* kById =
    "SELECT id, email, password_hash, created_at, email_verified FROM users WHERE id = :id";
constexpr const char* kUpdateHash = "UPDATE users SET password_hash = :h WHERE id = :id";
constexpr const char* kSetVerified = "UPDATE users SET email_verified = 1 WHERE id = :id";
constexpr const char* kChangeEmail =
    "UPDATE users SET email = :e, email_verified = 1 WHERE id = :id "
    "AND NOT EXISTS (SELECT 1 FROM users WHERE email = :e2)";
constexpr const char* kDelete = "DELETE FROM users WHERE id = :id";
constexpr const char* kRoles = "SELECT role FROM user_roles WHERE user_id = :u ORDER BY role";
constexpr const char* kAddRole =
    "INSERT INTO user_roles (user_id, role) VALUES (:u, :r) ON CONFLICT DO NOTHING";
constexpr const char* kAddRoleMysql = "INSERT INTO user_roles (user_id, role) VALUES (:u, :r)";
constexpr const char* kRemoveRole = "DELETE FROM user_roles WHERE user_id = :u AND role = :r";
// Keyset pagination: the primary key's range scan, no OFFSET.
constexpr const char* kPage =
    "SELECT id, email, created_at FROM users WHERE id > :a ORDER BY id LIMIT :n";
constexpr const char* kRolesBetween =
    "SELECT user_id, role FROM user_roles WHERE user_id >= :a AND user_id <= :b "
    "ORDER BY user_id, role";

// The stored hashes' parameter prefixes ("$argon2id$v=19$m=..,t=..,p=1"): libsodium's
// strings end in "$" + 22 characters of salt + "$" + 43 of hash, 67 in all.
constexpr const char* kHashParameters =
    "SELECT p, COUNT(*) AS n FROM (SELECT CASE WHEN length(password_hash) > 67 "
    "THEN substr(password_hash, 1, length(password_hash) - 67) ELSE '' END AS p FROM users) "
    "AS h GROUP BY p ORDER BY n DESC, p LIMIT :lim";

std::optional<User> fetchOne(soci::session& s, const char* sql, auto key) {
    User u;
    long long id = 0, created = 0;
    int verified = 1;
    s << sql, soci::use(key), soci::into(id), soci::into(u.email), soci::into(u.passwordHash),
        soci::into(created), soci::into(verified);
    if (!s.got_data()) return std::nullopt;
    u.id = id;
    u.createdAt = created;
    u.emailVerified = verified != 0;
    return u;
}
}  // namespace

std::optional<int64_t> UserRepository::insert(soci::session& s, const std::string& email,
                                              const std::string& passwordHash, int64_t createdAt,
                                              bool emailVerified) const {
    long long id = 0;
    long long t = createdAt;
    int verified = emailVerified ? 1 : 0;
    if (isMysql(s)) {
        try {
            s << kInsertMysql, soci::use(email), soci::use(passwordHash), soci::use(t),
                soci::use(verified), soci::into(id);
        } catch (const soci::soci_error& e) {
            if (isMysqlDuplicateKey(e)) return std::nullopt;
            throw;
        }
        return id;
    }
    s << kInsert, soci::use(email), soci::use(passwordHash), soci::use(t), soci::use(verified),
        soci::into(id);
    if (!s.got_data()) return std::nullopt;
    return id;
}

std::optional<User> UserRepository::findByEmail(soci::session& s, const std::string& email) const {
    return fetchOne(s, kByEmail, email);
}

std::optional<User> UserRepository::findById(soci::session& s, int64_t id) const {
    return fetchOne(s, kById, static_cast<long long>(id));
}

void UserRepository::updatePasswordHash(soci::session& s, int64_t id,
                                        const std::string& hash) const {
    long long key = id;
    s << kUpdateHash, soci::use(hash), soci::use(key);
}

bool UserRepository::changeEmail(soci::session& s, int64_t id, const std::string& email) const {
    long long key = id;
    soci::statement st =
        (s.prepare << kChangeEmail, soci::use(email), soci::use(key), soci::use(email));
    st.execute(true);
    return st.get_affected_rows() > 0;
}

bool UserRepository::setEmailVerified(soci::session& s, int64_t id) const {
    long long key = id;
    soci::statement st = (s.prepare << kSetVerified, soci::use(key));
    st.execute(true);
    return st.get_affected_rows() > 0;
}

bool UserRepository::remove(soci::session& s, int64_t id) const {
    long long key = id;
    soci::statement st = (s.prepare << kDelete, soci::use(key));
    st.execute(true);
    return st.get_affected_rows() > 0;
}

std::vector<std::pair<std::string, int64_t>> UserRepository::hashParameterCounts(soci::session& s,
                                                                                 int limit) const {
    long long lim = limit, n = 0;
    std::string prefix;
    soci::statement st =
        (s.prepare << kHashParameters, soci::use(lim), soci::into(prefix), soci::into(n));
    st.execute();
    std::vector<std::pair<std::string, int64_t>> out;
    while (st.fetch()) out.emplace_back(prefix, n);
    return out;
}

std::vector<std::string> UserRepository::roles(soci::session& s, int64_t userId) const {
    long long u = userId;
    std::string role;
    soci::statement st = (s.prepare << kRoles, soci::use(u), soci::into(role));
    st.execute();
    std::vector<std::string> out;
    while (st.fetch()) out.push_back(role);
    return out;
}

bool UserRepository::addRole(soci::session& s, int64_t userId, const std::string& role) const {
    long long u = userId;
    const bool mysql = isMysql(s);
    soci::statement st =
        (s.prepare << (mysql ? kAddRoleMysql : kAddRole), soci::use(u), soci::use(role));
    try {
        st.execute(true);
    } catch (const soci::soci_error& e) {
        if (mysql && isMysqlDuplicateKey(e)) return false;  // had it already
        throw;
    }
    return st.get_affected_rows() == 1;
}

bool UserRepository::removeRole(soci::session& s, int64_t userId, const std::string& role) const {
    long long u = userId;
    soci::statement st = (s.prepare << kRemoveRole, soci::use(u), soci::use(role));
    st.execute(true);
    return st.get_affected_rows() == 1;
}

std::vector<ListedUser> UserRepository::page(soci::session& s, int64_t afterId,
                                             int64_t limit) const {
    std::vector<ListedUser> out;
    {
        long long after = afterId, n = limit, id = 0, created = 0;
        std::string email;
        soci::statement st = (s.prepare << kPage, soci::use(after), soci::use(n), soci::into(id),
                              soci::into(email), soci::into(created));
        st.execute();
        while (st.fetch()) out.push_back({User{id, email, "", created}, {}});
    }
    if (out.empty()) return out;
    long long first = out.front().user.id, last = out.back().user.id, user = 0;
    std::string role;
    soci::statement st = (s.prepare << kRolesBetween, soci::use(first), soci::use(last),
                          soci::into(user), soci::into(role));
    st.execute();
    auto it = out.begin();
    while (st.fetch()) {
        while (it != out.end() && it->user.id < user) ++it;
        if (it == out.end()) break;
        if (it->user.id == user) it->roles.push_back(role);
    }
    return out;
}

std::vector<std::string> splitRoleList(const std::string& list) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start < list.size()) {
        size_t end = list.find(' ', start);
        if (end == std::string::npos) end = list.size();
        if (end > start) out.emplace_back(list, start, end - start);
        start = end + 1;
    }
    // Usually sorted already (the primary key's order): then this costs one pass.
    if (!std::is_sorted(out.begin(), out.end())) std::sort(out.begin(), out.end());
    return out;
}

}  // namespace authsvc::models
