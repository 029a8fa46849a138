#include "services/AccountService.h"

#include <algorithm>

#include "common/Validation.h"

namespace authsvc::models {
namespace {

constexpr const char* kPasswordChanged = "password_change";
constexpr const char* kUserRevoked = "user_revoked";

Error userGone() {
    return makeError(ErrorCode::InvalidToken, "The user no longer exists");
}
Error wrongPassword() {
    return makeError(ErrorCode::InvalidCredentials, "Invalid password");
}
Error noSuchSession() {
    return makeError(ErrorCode::NotFound, "No such session");
}

}  // namespace

bool isPlausibleFamilyId(const std::string& id) {
    return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_';
    });
}

AccountService::AccountService(Database& db, const UserRepository& users,
                               const RefreshTokenRepository& tokens, const PasswordHasher& hasher,
                               const verify::Clock& clock, int passwordMinLength,
                               AuthObserver& observer)
    : db_(db),
      users_(users),
      tokens_(tokens),
      hasher_(hasher),
      clock_(clock),
      passwordMinLength_(passwordMinLength),
      observer_(observer) {}

Result<User> AccountService::checkPassword(int64_t userId, const std::string& password) {
    auto user = db_.read([&](Connection& s) { return users_.findById(s, userId); });
    if (!user) return userGone();
    // Over-long passwords cannot match (registration refuses them): not worth a hash.
    if (password.size() > kMaxPasswordBytes || !hasher_.verify(password, user->passwordHash)) {
        return wrongPassword();
    }
    return *user;
}

int64_t AccountService::storePassword(int64_t userId, const std::string& password,
                                      const std::string& keepFamilyId) {
    const std::string hash = hasher_.hash(password);
    const int64_t now = clock_.nowMs();
    const int64_t revoked = db_.write([&](Connection& s) {
        users_.updatePasswordHash(s, userId, hash);
        return tokens_.revokeAllForUser(s, userId, now, kPasswordChanged, keepFamilyId);
    });
    if (revoked > 0) observer_.onFamiliesRevoked(revoked, kPasswordChanged);
    return revoked;
}

Result<Unit> AccountService::changePassword(int64_t userId, const std::string& keepFamilyId,
                                            const std::string& current, const std::string& next) {
    if (auto why = passwordProblem(next, passwordMinLength_)) {
        return makeError(ErrorCode::InvalidRequest, "Invalid field 'new_password': " + *why);
    }
    auto user = checkPassword(userId, current);
    if (!user) return user.error();
    // An access token without a session id keeps no session.
    (void)storePassword(userId, next, keepFamilyId);
    return Unit{};
}

Result<Unit> AccountService::deleteAccount(int64_t userId, const std::string& password) {
    auto user = checkPassword(userId, password);
    if (!user) return user.error();
    if (!db_.write([&](Connection& s) { return users_.remove(s, userId); })) return userGone();
    return Unit{};
}

std::vector<Session> AccountService::sessions(int64_t userId, const std::string& currentFamilyId) {
    const int64_t now = clock_.nowMs();
    auto records = db_.read(
        [&](Connection& s) { return tokens_.liveSessions(s, userId, now, kMaxSessionsListed); });
    std::vector<Session> out;
    out.reserve(records.size());
    for (auto& r : records) {
        const bool current = !currentFamilyId.empty() && r.familyId == currentFamilyId;
        out.push_back(Session{std::move(r), current});
    }
    return out;
}

Result<Unit> AccountService::revokeSession(int64_t userId, const std::string& familyId) {
    if (!isPlausibleFamilyId(familyId)) return noSuchSession();
    const int64_t now = clock_.nowMs();
    const bool revoked = db_.write([&](Connection& s) {
        return tokens_.revokeUserFamily(s, userId, familyId, now, kUserRevoked);
    });
    if (!revoked) return noSuchSession();
    observer_.onFamiliesRevoked(1, kUserRevoked);
    return Unit{};
}

Result<int64_t> AccountService::setPassword(int64_t userId, const std::string& password) {
    if (auto why = passwordProblem(password, passwordMinLength_)) {
        return makeError(ErrorCode::InvalidRequest, "Invalid password: " + *why);
    }
    return storePassword(userId, password, /*keepFamilyId=*/"");
}

}  // namespace authsvc::models
