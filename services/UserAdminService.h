// UserAdminService: what operators (CLI) and admins (GET /api/admin/users) do to users:
// grant and remove roles, list users a page at a time. Blocking (database round trips):
// call it from worker threads or the CLI, never from the HTTP reactor. Thread-safe.
// Expected failures are Results; DatabaseUnavailable is thrown.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/Database.h"
#include "common/Error.h"
#include "models/UserRepository.h"

namespace authsvc::models {

// One page of users in id order; `next` is the `after` of the following page (nullopt:
// no user follows).
struct UserPage {
    std::vector<ListedUser> users;
    std::optional<int64_t> next;
};

class UserAdminService {
  public:
    UserAdminService(Database& db, const UserRepository& users) : db_(db), users_(users) {}

    static constexpr int64_t kMaxPageSize = 500;
    static constexpr int64_t kDefaultPageSize = 100;

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
};

}  // namespace authsvc::models
