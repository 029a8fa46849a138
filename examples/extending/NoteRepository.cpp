#include "extending/NoteRepository.h"

namespace notes {

namespace {
// RETURNING: PostgreSQL, and SQLite from 3.35 on (Debian 12 has 3.40).
constexpr const char* kInsert =
    "INSERT INTO example_notes (user_id, body, created_at) "
    "SELECT :u, :b, :t WHERE EXISTS (SELECT 1 FROM users WHERE id = :u2) RETURNING id";
constexpr const char* kByUser =
    "SELECT id, body, created_at FROM example_notes WHERE user_id = :u ORDER BY id";
}  // namespace

std::optional<int64_t> NoteRepository::insert(soci::session& s, int64_t userId,
                                              const std::string& body, int64_t createdAt) const {
    long long user = userId, at = createdAt, id = 0;
    s << kInsert, soci::use(user), soci::use(body), soci::use(at), soci::use(user), soci::into(id);
    if (!s.got_data()) return std::nullopt;
    return id;
}

std::vector<Note> NoteRepository::byUser(soci::session& s, int64_t userId) const {
    long long user = userId, id = 0, at = 0;
    std::string body;
    std::vector<Note> out;
    soci::statement st =
        (s.prepare << kByUser, soci::use(user), soci::into(id), soci::into(body), soci::into(at));
    st.execute();
    while (st.fetch()) out.push_back({id, userId, body, at});
    return out;
}

}  // namespace notes
