// RefreshTokenRepository: refresh-token families and their tokens. Stores only SHA-256
// hashes of tokens, times in epoch milliseconds. Methods run on a caller's session
// (see UserRepository); the rotation's compare-and-set is markUsed().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/Connection.h"
#include "models/Soci.h"

namespace authsvc::models {

struct RefreshTokenRecord {
    int64_t id = 0;
    std::string familyId;
    std::optional<int64_t> usedMs;
    std::string successorHash;  // empty until used
    // from the family
    int64_t userId = 0;
    int64_t familyExpiresMs = 0;
    std::optional<int64_t> familyRevokedMs;
    std::vector<std::string> roles;  // the user's roles now, sorted
};

struct LiveFamilyRecord {
    int64_t userId = 0;
    int64_t expiresMs = 0;
    std::vector<std::string> roles;  // the user's roles now, sorted
};

class RefreshTokenRepository {
  public:
    void createFamily(soci::session& s, const std::string& familyId, int64_t userId, int64_t nowMs,
                      int64_t expiresMs) const;
    // The methods of a rotation take a Connection: their statements are prepared once per
    // pooled session.
    void insertToken(Connection& c, const std::string& familyId, const std::string& tokenHash,
                     std::optional<int64_t> parentId, int64_t nowMs) const;
    // The token with its family and its user's roles (one statement).
    std::optional<RefreshTokenRecord> findByHash(Connection& c, const std::string& hash) const;
    // The family if it is live (not revoked, expiresMs > nowMs), with its user's roles (one
    // statement); nullopt otherwise.
    std::optional<LiveFamilyRecord> liveFamily(Connection& c, const std::string& familyId,
                                               int64_t nowMs) const;
    // PostgreSQL only, one statement (so one round trip, in a transaction of its own): if
    // the token with this hash is unused and its family live (not revoked, expiresMs >
    // nowMs), marks it used with successorHash (the same compare-and-set as markUsed) and
    // inserts the successor. Returns the rotated token's record then (as findByHash found
    // it before, with the user's roles), nullopt when it was not fresh and nothing changed.
    std::optional<RefreshTokenRecord> rotateIfFresh(Connection& c, const std::string& hash,
                                                    const std::string& successorHash,
                                                    int64_t nowMs) const;
    // Compare-and-set: marks the token used only if it is unused. True if this call did.
    bool markUsed(Connection& c, int64_t tokenId, int64_t nowMs,
                  const std::string& successorHash) const;
    void setFamilyExpiry(Connection& c, const std::string& familyId, int64_t expiresMs) const;
    // True if the family was live and is now revoked.
    bool revokeFamily(Connection& c, const std::string& familyId, int64_t nowMs,
                      const std::string& reason) const;
    // Number of families revoked.
    int64_t revokeAllForUser(soci::session& s, int64_t userId, int64_t nowMs,
                             const std::string& reason) const;
    // Deletes up to `limit` families (with their tokens) that expired before `nowMs` or
    // were revoked before `revokedBeforeMs`. Returns how many.
    int64_t purge(soci::session& s, int64_t nowMs, int64_t revokedBeforeMs, int64_t limit) const;
};

}  // namespace authsvc::models
