// MfaService: the second factor, TOTP (RFC 6238: SHA-1, 6 digits, 30 s) with recovery codes.
// Enrolment (the password again), confirmation with a first code (then 10 recovery codes,
// shown once, stored as keyed hashes), disabling and new recovery codes (a code each), and
// the two-step login: AuthService asks challenge() after a correct password, which answers
// MfaRequired with an mfa_token (single use, auth.mfa token lifetime, voided by five wrong
// codes); completeLogin() then starts the session with amr ["pwd", "otp"].
//
// Secrets are sealed with libsodium's XChaCha20-Poly1305 (a random nonce per secret, the
// user id as associated data) under auth.mfa.encryption_key, never stored in clear. A code
// is accepted for its step and the steps either side, and once: the last accepted step is
// stored with a compare-and-set, so the same code, or an earlier step's, is refused after.
// Blocking (argon2id, database): call from worker threads. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/Crypto.h"
#include "common/Error.h"
#include "models/Database.h"
#include "models/MfaRepository.h"
#include "models/UserRepository.h"
#include "services/AuthService.h"
#include "services/PasswordHasher.h"
#include "verify/Clock.h"

namespace authsvc::models {

struct MfaSettings {
    std::string encryptionKey;  // 32 raw bytes (auth.mfa.encryption_key, decoded)
    std::string issuer = "authsvc";
    int64_t tokenTtlMs = 300 * 1000;
    int maxFailures = 5;
    int recoveryCodes = 10;
};

struct TotpEnrolment {
    std::string secret;      // base32, for typing into an app
    std::string otpauthUri;  // otpauth://totp/<issuer>:<email>?secret=…&issuer=…
};

// Who a login's second step is for.
struct PendingLogin {
    int64_t userId = 0;
    std::string email;
};

// The proof a second step or a change presents: a TOTP code or a recovery code.
struct MfaProof {
    std::string code;
    bool recoveryCode = false;
};

class MfaService final : public SecondFactor {
  public:
    // Throws std::invalid_argument unless the key has 32 bytes.
    MfaService(Database& db, const UserRepository& users, const MfaRepository& mfa,
               const PasswordHasher& hasher, AuthService& auth, const verify::Clock& clock,
               MfaSettings settings);

    // A new pending secret (replacing a pending one); InvalidCredentials for a wrong
    // password; InvalidRequest when TOTP is already on.
    Result<TotpEnrolment> enrol(int64_t userId, const std::string& password);
    // Turns the pending secret on with its first code: the recovery codes.
    // InvalidRequest when nothing is pending; InvalidCode for a wrong or used code.
    Result<std::vector<std::string>> confirm(int64_t userId, const std::string& code);
    // Removes the user's TOTP and recovery codes: InvalidCredentials, InvalidRequest (TOTP
    // not on), InvalidCode.
    Result<bool> disable(int64_t userId, const std::string& password, const std::string& code);
    // A new set of recovery codes (the old ones stop working).
    Result<std::vector<std::string>> newRecoveryCodes(int64_t userId, const std::string& code);

    // SecondFactor: MfaRequired with a new mfa_token when the user has TOTP on.
    std::optional<Error> challenge(int64_t userId) override;
    std::vector<std::string> sessionAmr(const std::string& familyId) override;

    // The user an unused, unexpired mfa_token is for; else InvalidGrant.
    Result<PendingLogin> pending(const std::string& mfaToken);
    // The login's second step: the token pair, amr ["pwd", "otp"]. InvalidGrant for a
    // voided, used, expired or unknown token; InvalidCode for a wrong, replayed or used code
    // (counted: the token is void after maxFailures of them).
    Result<TokenPair> completeLogin(const std::string& mfaToken, const MfaProof& proof,
                                    const LoginClient& client);

    // The operator's reset (`authsvc user mfa reset`): true if the user had TOTP.
    bool reset(int64_t userId);
    // Deletes expired mfa_tokens; returns how many.
    int64_t purgeExpired();

  private:
    std::string seal(int64_t userId, const std::string& secret) const;
    std::optional<std::string> open(int64_t userId, const std::string& sealed) const;
    // True if `code` is the code of a step within ±1 of now that is later than the last
    // accepted one; records that step (compare-and-set) in the caller's transaction.
    bool acceptCode(soci::session& s, int64_t userId, const TotpRecord& totp,
                    const std::string& code) const;
    std::string recoveryHash(int64_t userId, const std::string& code) const;
    // New codes; their hashes stored in the caller's transaction.
    std::vector<std::string> storeRecoveryCodes(soci::session& s, int64_t userId) const;
    // Checks a code of a confirmed TOTP in a write transaction (InvalidRequest when TOTP is
    // not on, InvalidCode), then runs `then` in that transaction.
    template <typename F>
    Result<bool> withCode(int64_t userId, const std::string& code, F&& then);

    Database& db_;
    const UserRepository& users_;
    const MfaRepository& mfa_;
    const PasswordHasher& hasher_;
    AuthService& auth_;
    const verify::Clock& clock_;
    MfaSettings settings_;
    crypto::HmacSha256 recoveryMac_;
};

}  // namespace authsvc::models
