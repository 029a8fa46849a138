#include "services/UserAdminService.h"

#include "common/Validation.h"

namespace authsvc::models {

namespace {
Error noSuchEmail(const std::string& email) {
    return makeError(ErrorCode::InvalidRequest, "No user with email " + email);
}
}  // namespace

Result<User> UserAdminService::addUser(const std::string& rawEmail, const std::string& password) {
    return auth_.registerUser(rawEmail, password, /*operatorOverride=*/true);
}

Result<User> UserAdminService::revokeSessions(const std::string& rawEmail) {
    auto user = auth_.userForEmail(rawEmail);
    if (user) auth_.logoutAll(user->id);
    return user;
}

Result<User> UserAdminService::deleteUser(const std::string& rawEmail) {
    const std::string email = normalizeEmail(rawEmail);
    auto user = db_.write([&](Connection& s) -> std::optional<User> {
        auto found = users_.findByEmail(s, email);
        if (found && users_.remove(s, found->id)) return found;
        return std::nullopt;
    });
    if (!user) return noSuchEmail(email);
    user->passwordHash.clear();
    return *user;
}

Result<int64_t> UserAdminService::setPassword(const std::string& rawEmail,
                                              const std::string& password) {
    auto user = auth_.userForEmail(rawEmail);
    if (!user) return user.error();
    return accounts_.setPassword(user->id, password);
}

Result<bool> UserAdminService::grantRole(const std::string& rawEmail, const std::string& role) {
    return changeRole(rawEmail, role, true);
}

Result<bool> UserAdminService::removeRole(const std::string& rawEmail, const std::string& role) {
    return changeRole(rawEmail, role, false);
}

Result<bool> UserAdminService::changeRole(const std::string& rawEmail, const std::string& role,
                                          bool grant) {
    if (auto why = roleProblem(role)) {
        return makeError(ErrorCode::InvalidRequest, "Invalid role '" + role + "': " + *why);
    }
    const std::string email = normalizeEmail(rawEmail);
    std::optional<bool> changed = db_.write([&](Connection& s) -> std::optional<bool> {
        auto user = users_.findByEmail(s, email);
        if (!user) return std::nullopt;
        return grant ? users_.addRole(s, user->id, role) : users_.removeRole(s, user->id, role);
    });
    if (!changed) return noSuchEmail(email);
    return *changed;
}

Result<UserPage> UserAdminService::listUsers(int64_t afterId, int64_t limit) {
    if (limit < 1 || limit > kMaxPageSize) {
        return makeError(ErrorCode::InvalidRequest, "limit must be an integer from 1 to 500");
    }
    if (afterId < 0) {
        return makeError(ErrorCode::InvalidRequest, "after must be a user id (an integer >= 0)");
    }
    UserPage page;
    // One row more than asked tells whether another page follows.
    page.users = db_.read([&](Connection& s) { return users_.page(s, afterId, limit + 1); });
    if (int64_t(page.users.size()) > limit) {
        page.users.pop_back();
        page.next = page.users.back().user.id;
    }
    return page;
}

}  // namespace authsvc::models
