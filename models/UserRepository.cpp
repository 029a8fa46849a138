#include "models/UserRepository.h"

namespace authsvc::models {
namespace {
constexpr const char* kInsert =
    "INSERT INTO users (email, password_hash, created_at) VALUES (:e, :h, :t) "
    "ON CONFLICT (email) DO NOTHING RETURNING id";
constexpr const char* kByEmail =
    "SELECT id, email, password_hash, created_at FROM users WHERE email = :e";
constexpr const char* kById =
    "SELECT id, email, password_hash, created_at FROM users WHERE id = :id";
constexpr const char* kUpdateHash = "UPDATE users SET password_hash = :h WHERE id = :id";
constexpr const char* kDelete = "DELETE FROM users WHERE id = :id";
constexpr const char* kListAfter =
    "SELECT id, email, created_at FROM users WHERE id > :after ORDER BY id LIMIT :n";

std::optional<User> fetchOne(soci::session& s, const char* sql, auto key) {
    User u;
    long long id = 0, created = 0;
    s << sql, soci::use(key), soci::into(id), soci::into(u.email), soci::into(u.passwordHash),
        soci::into(created);
    if (!s.got_data()) return std::nullopt;
    u.id = id;
    u.createdAt = created;
    return u;
}
}  // namespace

std::optional<int64_t> UserRepository::insert(soci::session& s, const std::string& email,
                                              const std::string& passwordHash,
                                              int64_t createdAt) const {
    long long id = 0;
    long long t = createdAt;
    s << kInsert, soci::use(email), soci::use(passwordHash), soci::use(t), soci::into(id);
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

bool UserRepository::remove(soci::session& s, int64_t id) const {
    long long key = id;
    soci::statement st = (s.prepare << kDelete, soci::use(key));
    st.execute(true);
    return st.get_affected_rows() > 0;
}

std::vector<User> UserRepository::listAfter(soci::session& s, int64_t afterId, int limit) const {
    long long after = afterId, n = limit, id = 0, created = 0;
    std::string email;
    soci::statement st = (s.prepare << kListAfter, soci::use(after), soci::use(n), soci::into(id),
                          soci::into(email), soci::into(created));
    st.execute();
    std::vector<User> out;
    while (st.fetch()) out.push_back(User{id, email, "", created});
    return out;
}

}  // namespace authsvc::models
