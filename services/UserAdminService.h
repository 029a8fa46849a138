// UserAdminService: the one owner of what operators (the `authsvc user` commands) and
// admins (GET /api/admin/users) do to users, by email: add a user, end every session,
// delete, set a password, grant and remove roles, list users a page at a time. Rules it
// shares with the users' own routes (registration, passwords, sessions) stay with
// AuthService and AccountService, which it calls. Blocking (database round trips, and
// argon2id for passwords): call it from worker threads or the CLI, never from the HTTP
// reactor. Thread-safe. Expected failures are Results (InvalidRequest for an unknown
// email); DatabaseUnavailable is thrown.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/Error.h"
#include "models/Database.h"
#include "models/UserRepository.h"
#include "services/AccountService.h"
#include "services/AuthService.h"

namespace authsvc::models {

// One page of users in id order; `next` is the `after` of the following page (nullopt:
// no user follows).
struct UserPage {
    std::vector<ListedUser> users;
    std::optional<int64_t> next;
};

class UserAdminService {
  public:
    UserAdminService(Database& db, const UserRepository& users, AuthService& auth,
                     AccountService& accounts)
        : db_(db), users_(users), auth_(auth), accounts_(accounts) {}

    static constexpr int64_t kMaxPageSize = 500;
    static constexpr int64_t kDefaultPageSize = 100;

    // A new user (the registration rules), even while registration is closed.
    Result<User> addUser(const std::string& rawEmail, const std::string& password);
    // Revokes every live session of the user ("logout_all"); returns the user.
    Result<User> revokeSessions(const std::string& rawEmail);
    // Deletes the user with every family and token; returns the user (no password hash).
    Result<User> deleteUser(const std::string& rawEmail);
    // Sets the password (registration rules) and revokes every session; returns how many.
    Result<int64_t> setPassword(const std::string& rawEmail, const std::string& password);
    // True if granted now, false if the user already had the role. InvalidRequest for an
    // unknown email or a role name that breaks the rule (Validation.h: roleProblem).
    // A role shows in access tokens from the user's next login or refresh on.
    Result<bool> grantRole(const std::string& rawEmail, const std::string& role);
    // True if removed now, false if the user did not have it. Errors as grantRole().
    Result<bool> removeRole(const std::string& rawEmail, const std::string& role);
    // Up to `limit` (1 to kMaxPageSize) users with an id above `afterId` (>= 0), else
    // InvalidRequest.
    Result<UserPage> listUsers(int64_t afterId, int64_t limit);

  private:
    Result<bool> changeRole(const std::string& rawEmail, const std::string& role, bool grant);

    Database& db_;
    const UserRepository& users_;
    AuthService& auth_;
    AccountService& accounts_;
};

}  // namespace authsvc::models
