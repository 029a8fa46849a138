// RefreshTokenRepository: refresh-token families and their tokens. Stores only SHA-256
// hashes of tokens (every hash here is the 32 bytes of crypto::sha256, not hex), times in
// epoch milliseconds. Methods run on a caller's session
// (see UserRepository); the rotation's compare-and-set is markUsed().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/Connection.h"
#include "models/Database.h"
#include "models/Soci.h"

namespace authsvc::models {

struct RefreshTokenRecord {
    int64_t id = 0;
    std::string familyId;
    std::optional<int64_t> usedMs;
    std::string successorHash;  // 32 bytes; empty until used
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

// A live family as its owner sees it (GET /api/sessions).
struct SessionRecord {
    std::string familyId;
    int64_t createdMs = 0;
    int64_t lastUsedMs = 0;  // when its newest token was issued (login or last rotation)
    int64_t expiresMs = 0;
    std::optional<std::string> userAgent;  // null for families older than these columns
    std::optional<std::string> ip;
};

class RefreshTokenRepository {
  public:
    // userAgent and ip: as seen at the login; empty ones are stored as NULL.
    void createFamily(soci::session& s, const std::string& familyId, int64_t userId, int64_t nowMs,
                      int64_t expiresMs, const std::string& userAgent = "",
                      const std::string& ip = "") const;
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
    // A rotation's common case, a fresh token, at once where the database can: on
    // PostgreSQL rotateIfFresh() in a transaction of its own; on SQLite nothing (nullopt),
    // where a transaction costs no round trips. nullopt: nothing changed; the caller takes
    // the general path (findByHash, markUsed, insertToken in one transaction).
    std::optional<RefreshTokenRecord> rotateFreshAtOnce(Database& db, const std::string& hash,
                                                        const std::string& successorHash,
                                                        int64_t nowMs) const;
    // PostgreSQL only, one statement (so one round trip, in a transaction of its own): if
    // the token with this hash is unused and its family live (not revoked, expiresMs >
    // nowMs), marks it used with successorHash (the same compare-and-set as markUsed) and
    // inserts the successor. Returns the rotated token's record then (as findByHash found
    // it before, with the user's roles), nullopt when it was not fresh and nothing changed.
    std::optional<RefreshTokenRecord> rotateIfFresh(Connection& c, const std::string& hash,
                                                    const std::string& successorHash,
                                                    int64_t nowMs) const;
    // Compare-and-set: marks the token (tokenId of familyId, as findByHash read them) used
    // only if it is unused. True if this call did.
    bool markUsed(Connection& c, const std::string& familyId, int64_t tokenId, int64_t nowMs,
                  const std::string& successorHash) const;
    void setFamilyExpiry(Connection& c, const std::string& familyId, int64_t expiresMs) const;
    // True if the family was live and is now revoked.
    bool revokeFamily(Connection& c, const std::string& familyId, int64_t nowMs,
                      const std::string& reason) const;
    // Revokes every live family of the user but `keepFamilyId` (none when empty). Returns
    // the number of families revoked.
    int64_t revokeAllForUser(soci::session& s, int64_t userId, int64_t nowMs,
                             const std::string& reason, const std::string& keepFamilyId = "") const;
    // Revokes the family if it is the user's and live (not revoked, not expired at nowMs).
    // True if this call revoked it.
    bool revokeUserFamily(soci::session& s, int64_t userId, const std::string& familyId,
                          int64_t nowMs, const std::string& reason) const;
    // The user's live families at nowMs, newest first, at most `limit`. Reads the user's
    // families in (user_id, created_ms) index order and, per listed family, its tokens
    // through their family index; writes nothing (a rotation does not record its time
    // anywhere else).
    std::vector<SessionRecord> liveSessions(soci::session& s, int64_t userId, int64_t nowMs,
                                            int limit) const;
    // Deletes up to `limit` families (with their tokens) that expired before `nowMs` or
    // were revoked before `revokedBeforeMs`. Returns how many.
    int64_t purge(soci::session& s, int64_t nowMs, int64_t revokedBeforeMs, int64_t limit) const;
};

}  // namespace authsvc::models
