// MfaRepository: the second factor's rows (migration 0006): a user's TOTP (encrypted secret,
// confirmed flag, last accepted time step), hashed recovery codes, the mfa_tokens of
// logins' second steps, and a session family's amr. Stores what the caller encrypted or
// hashed; no crypto here. Methods run on a caller's session (see UserRepository); times in
// epoch ms.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/Soci.h"

namespace authsvc::models {

struct TotpRecord {
    std::string sealedSecret;  // as stored (hex of nonce and ciphertext)
    bool confirmed = false;
    std::optional<int64_t> lastStep;
};

struct MfaTokenRecord {
    int64_t userId = 0;
    int64_t expiresMs = 0;
    int failures = 0;
    bool used = false;
};

class MfaRepository {
  public:
    std::optional<TotpRecord> findTotp(soci::session& s, int64_t userId) const;
    // Stores a pending (unconfirmed) TOTP, replacing any pending or confirmed one.
    void putPendingTotp(soci::session& s, int64_t userId, const std::string& sealedSecret,
                        int64_t nowMs) const;
    // Compare-and-set: records `step` as the last accepted step only if it is later than the
    // stored one (or none is). True if this call did: the code of that step is used now.
    bool acceptStep(soci::session& s, int64_t userId, int64_t step) const;
    void confirmTotp(soci::session& s, int64_t userId) const;
    // Removes the user's TOTP and recovery codes; true if there was a TOTP.
    bool removeTotp(soci::session& s, int64_t userId) const;
    // True when the user has a confirmed TOTP (a login needs the second step).
    bool hasConfirmedTotp(soci::session& s, int64_t userId) const;

    // Replaces the user's recovery codes with these hashes.
    void replaceRecoveryCodes(soci::session& s, int64_t userId,
                              const std::vector<std::string>& hashes) const;
    // Deletes the code if it is the user's; true if this call did (a code works once).
    bool consumeRecoveryCode(soci::session& s, int64_t userId, const std::string& hash) const;

    void insertMfaToken(soci::session& s, const std::string& tokenHash, int64_t userId,
                        int64_t expiresMs) const;
    std::optional<MfaTokenRecord> findMfaToken(soci::session& s,
                                               const std::string& tokenHash) const;
    // Counts a wrong code; `limit` of them mark the token used (void). Returns the count.
    int addMfaFailure(soci::session& s, const std::string& tokenHash, int limit,
                      int64_t nowMs) const;
    // Compare-and-set: marks the token used if it is unused and unexpired; true if this call did.
    bool useMfaToken(soci::session& s, const std::string& tokenHash, int64_t nowMs) const;
    int64_t purgeMfaTokens(soci::session& s, int64_t nowMs) const;

    // The session family's amr ("pwd" when none was stored).
    void setFamilyAmr(soci::session& s, const std::string& familyId, const std::string& amr) const;
    std::string familyAmr(soci::session& s, const std::string& familyId) const;
};

}  // namespace authsvc::models
