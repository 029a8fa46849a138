// UserRepository: the users table. SQL lives here and only here, always bound.
// Methods run on a session the caller leased from Database (inside read() or write()),
// so that a service can compose several of them in one transaction.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "models/Soci.h"

namespace authsvc::models {

struct User {
    int64_t id = 0;
    std::string email;
    std::string passwordHash;
    int64_t createdAt = 0;  // epoch seconds
};

class UserRepository {
  public:
    // The new id, or nullopt when the email is taken.
    std::optional<int64_t> insert(soci::session& s, const std::string& email,
                                  const std::string& passwordHash, int64_t createdAt) const;
    std::optional<User> findByEmail(soci::session& s, const std::string& email) const;
    std::optional<User> findById(soci::session& s, int64_t id) const;
    void updatePasswordHash(soci::session& s, int64_t id, const std::string& hash) const;
};

}  // namespace authsvc::models
