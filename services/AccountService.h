// AccountService: what a signed-in user does to their own account and sessions (change the
// password, delete the account, list and end sessions); the operator's commands reach the
// same rules through UserAdminService. Blocking (argon2id and database round trips): call it from
// worker threads. Thread-safe. Expected failures are Results; DatabaseUnavailable is thrown.
//
// A session is a refresh family. The methods for a signed-in user take the user id that
// AuthService::userForSubject() found for the access token (whose InvalidToken answers a
// deleted user). Throttling
// failed password checks is the caller's (it knows the client address): wrong passwords
// are InvalidCredentials, checked only after the cheap rules passed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/Error.h"
#include "models/Database.h"
#include "models/RefreshTokenRepository.h"
#include "models/UserRepository.h"
#include "services/AuthService.h"
#include "services/PasswordHasher.h"
#include "verify/Clock.h"

namespace authsvc::models {

struct Session {
    SessionRecord record;
    bool current = false;  // the family of the access token that asked
};

class AccountService {
  public:
    AccountService(Database& db, const UserRepository& users, const RefreshTokenRepository& tokens,
                   const PasswordHasher& hasher, const verify::Clock& clock, int passwordMinLength,
                   AuthObserver& observer);

    // The new password must pass the registration rules (InvalidRequest naming
    // new_password, checked first, nothing hashed); then `current` must match
    // (InvalidCredentials). Stores the new hash and revokes every live family of the user
    // but `keepFamilyId` (the caller's session), in one transaction.
    Result<Unit> changePassword(int64_t userId, const std::string& keepFamilyId,
                                const std::string& current, const std::string& next);
    // If `password` matches (else InvalidCredentials; InvalidToken if the user is gone),
    // deletes the user with every family and token. User ids are never reused, so their access
    // tokens name nobody afterwards.
    Result<Unit> deleteAccount(int64_t userId, const std::string& password);
    // The user's live families, newest first, at most kMaxSessionsListed; `current` marks
    // `currentFamilyId`.
    std::vector<Session> sessions(int64_t userId, const std::string& currentFamilyId);
    // Revokes one live family of the user ("user_revoked"). NotFound when it is unknown,
    // another user's, already revoked or expired: the answer does not tell which.
    Result<Unit> revokeSession(int64_t userId, const std::string& familyId);

    // Sets the user's password (the registration rules: InvalidRequest) without the
    // current one, and revokes every session; returns how many (UserAdminService, for the
    // operator).
    Result<int64_t> setPassword(int64_t userId, const std::string& password);

    static constexpr int kMaxSessionsListed = 100;

  private:
    // The user with the hash, if `password` matches it; else InvalidCredentials (or
    // InvalidToken when the user is gone).
    Result<User> checkPassword(int64_t userId, const std::string& password);
    // Hashes `password` and stores it, revoking the user's live families but keepFamilyId;
    // returns how many it revoked.
    int64_t storePassword(int64_t userId, const std::string& password,
                          const std::string& keepFamilyId);

    Database& db_;
    const UserRepository& users_;
    const RefreshTokenRepository& tokens_;
    const PasswordHasher& hasher_;
    const verify::Clock& clock_;
    int passwordMinLength_;
    AuthObserver& observer_;
};

// True for a string that can be a family id (base64url, 1..64 characters): anything else
// is answered NotFound without a database round trip.
bool isPlausibleFamilyId(const std::string& id);

}  // namespace authsvc::models
