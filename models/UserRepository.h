// UserRepository: the users table. SQL lives here and only here, always bound.
// Methods run on a session the caller leased from Database (inside read() or write()),
// so that a service can compose several of them in one transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "models/Soci.h"

namespace authsvc::models {

struct User {
    int64_t id = 0;
    std::string email;
    std::string passwordHash;
    int64_t createdAt = 0;  // epoch seconds
    bool emailVerified = true;  // read by findByEmail/findById; true elsewhere
};

// A user as listed for admins: no password hash; roles sorted.
struct ListedUser {
    User user;
    std::vector<std::string> roles;
};

class UserRepository {
  public:
    // The new id, or nullopt when the email is taken.
    std::optional<int64_t> insert(soci::session& s, const std::string& email,
                                  const std::string& passwordHash, int64_t createdAt,
                                  bool emailVerified = true) const;
    // Sets the user's address (verified) unless another user has it; false then, or when
    // the user is gone.
    bool changeEmail(soci::session& s, int64_t id, const std::string& email) const;
    // Marks the user's address verified; true if the user exists.
    bool setEmailVerified(soci::session& s, int64_t id) const;
    std::optional<User> findByEmail(soci::session& s, const std::string& email) const;
    std::optional<User> findById(soci::session& s, int64_t id) const;
    void updatePasswordHash(soci::session& s, int64_t id, const std::string& hash) const;
    // Deletes the user and, by ON DELETE CASCADE, their refresh families and tokens.
    // True if there was such a user.
    bool remove(soci::session& s, int64_t id) const;
    // The password hashes' parameter prefixes (the PHC string without salt and hash, e.g.
    // "$argon2id$v=19$m=19456,t=2,p=1"; "" for a string too short to have one) with how many
    // users have each, most common first, at most `limit`. One scan of the users table.
    std::vector<std::pair<std::string, int64_t>> hashParameterCounts(soci::session& s,
                                                                     int limit) const;

    // The user's roles, sorted (one indexed query on user_roles' primary key).
    std::vector<std::string> roles(soci::session& s, int64_t userId) const;
    // True if the role was added (false: the user already had it).
    bool addRole(soci::session& s, int64_t userId, const std::string& role) const;
    // True if the role was removed (false: the user did not have it).
    bool removeRole(soci::session& s, int64_t userId, const std::string& role) const;
    // Up to `limit` users with id > afterId in id order, with their roles (email, created_at
    // and roles; no password hash): one query for the page and one for its roles.
    std::vector<ListedUser> page(soci::session& s, int64_t afterId, int64_t limit) const;
};

// A space-separated role list as the repositories aggregate it in SQL (role names have no
// spaces), sorted.
std::vector<std::string> splitRoleList(const std::string& list);

}  // namespace authsvc::models
