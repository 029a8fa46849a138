#include "extending/NoteService.h"

#include <charconv>

namespace notes {

using authsvc::models::ErrorCode;
using authsvc::models::makeError;

namespace {
// The user id a token's subject names.
authsvc::models::Result<int64_t> userIdOf(const std::string& subject) {
    int64_t userId = 0;
    auto [end, ec] = std::from_chars(subject.data(), subject.data() + subject.size(), userId);
    if (subject.empty() || ec != std::errc() || end != subject.data() + subject.size()) {
        return makeError(ErrorCode::InvalidToken, "the token names no user");
    }
    return userId;
}
}  // namespace

authsvc::models::Result<Note> NoteService::add(const std::string& subject,
                                               const std::string& body) {
    if (body.empty() || body.size() > kMaxBytes) {
        return makeError(ErrorCode::InvalidRequest, "body must be 1 to 500 bytes of text");
    }
    auto user = userIdOf(subject);
    if (!user) return user.error();
    const int64_t userId = *user;
    const int64_t now = clock_.nowSeconds();
    const auto id = db_.write([&](soci::session& s) { return repo_.insert(s, userId, body, now); });
    if (!id) return makeError(ErrorCode::InvalidToken, "the token's user no longer exists");
    return Note{*id, userId, body, now};
}

authsvc::models::Result<std::vector<Note>> NoteService::list(const std::string& subject) {
    auto user = userIdOf(subject);
    if (!user) return user.error();
    return db_.read([&](soci::session& s) { return repo_.byUser(s, *user); });
}

}  // namespace notes
