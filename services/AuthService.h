// AuthService: the rules of accounts and sessions: register, login, refresh-token
// rotation with idempotent retry and reuse detection, logout. Blocking (argon2id and
// database round trips): call it from worker threads, never from the HTTP reactor.
// Thread-safe. Expected failures are Results; DatabaseUnavailable is thrown.
//
// A login starts a refresh family. Rotation is one write transaction whose
// compare-and-set marks the presented token used only if it is still unused, so of
// many concurrent refreshes exactly one rotates. The successor is derived as
// HMAC(server key, presented token), so a retry inside the grace window gets the same
// successor again although only hashes are stored. Any other presentation of a used
// token revokes the whole family. On SQLite, concurrent rotations share one transaction
// (Database::writeTogether: group commit, each isolated in a savepoint); a rotation is
// answered only after its transaction committed.
//
// Access tokens carry the user's roles as read from the database when they are issued
// (login, every refresh): a role granted or removed shows from the next refresh on.
// With an access-token verifier (refresh.accept_access_token), refresh() also renews a
// still-valid access token of a live family: a new access token, no refresh token.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/Crypto.h"
#include "common/Error.h"
#include "models/Database.h"
#include "models/MailOutboxRepository.h"
#include "models/RefreshTokenRepository.h"
#include "models/UserRepository.h"
#include "services/AuthEvents.h"
#include "services/PasswordHasher.h"
#include "services/TokenService.h"
#include "verify/AccessClaims.h"
#include "verify/Clock.h"
#include "verify/Verifier.h"

namespace authsvc::models {

// auth.email_verification: Off (today's behaviour), Optional (a verification mail at
// registration, tokens as usual), Required (a login of an unverified user is refused).
enum class EmailVerification { Off, Optional, Required };

struct AuthSettings {
    bool registrationOpen = true;
    int passwordMinLength = 8;
    int64_t refreshTtlMs = 14LL * 24 * 3600 * 1000;
    int64_t reuseGraceMs = 10 * 1000;
    bool sliding = false;
    std::string successorKey;  // secret key material for deriving successors
    EmailVerification emailVerification = EmailVerification::Off;
};

struct TokenPair {
    std::string accessToken;
    int64_t expiresIn = 0;
    std::string refreshToken;  // empty when an access token was renewed
    int64_t refreshExpiresIn = 0;
};

// Who logged in, as the session list shows it: the User-Agent header as sent and the
// client address (empty: unknown).
struct LoginClient {
    std::string userAgent;
    std::string ip;
};

// A second factor that a correct password must be followed by (services/MfaService).
// Called from worker threads; implementations are thread-safe.
class SecondFactor {
  public:
    virtual ~SecondFactor() = default;
    // nullopt when the user has none; else the error that answers the password step
    // (MfaRequired, with the token of the second step).
    virtual std::optional<Error> challenge(int64_t userId) = 0;
    // The amr values (RFC 8176) of a session family, as its login stored them.
    virtual std::vector<std::string> sessionAmr(const std::string& familyId) = 0;
};

// Runs in the transaction that creates a session's family (e.g. to store its amr).
using FamilyHook = std::function<void(soci::session&, const std::string& familyId)>;

class AuthService {
  public:
    AuthService(Database& db, const UserRepository& users, const RefreshTokenRepository& tokens,
                const PasswordHasher& hasher, const TokenService& tokenService,
                const verify::Clock& clock, AuthSettings settings, AuthObserver& observer,
                const verify::Verifier* accessTokens = nullptr,
                const MailOutboxRepository* outbox = nullptr);

    // operatorOverride: an operator adds the user even while registration is closed.
    // With email verification on, a user who registers starts unverified and a
    // verification mail is queued (with `outbox`) in the transaction that stores them; a
    // user an operator adds counts as verified.
    // Login with EmailVerification::Required: a correct password of an unverified user is
    // EmailNotVerified (403). With verification on, access tokens carry `email_verified`
    // (read from the user at login and at every refresh).
    Result<User> registerUser(const std::string& rawEmail, const std::string& password,
                              bool operatorOverride = false);
    // The user with this email (UserAdminService's operator tasks find users by it), or
    // InvalidRequest.
    Result<User> userForEmail(const std::string& rawEmail);
    // Unknown email and wrong password give the same error after about the same time.
    // The new family records the client (the User-Agent cut by sanitizeUserAgent()). A
    // stored hash with other argon2id parameters than the configured ones is replaced by a
    // new hash of the password, in the family's transaction: that login costs one more hash.
    // With a second factor (useSecondFactor) that the user has on, a correct password is
    // answered with the factor's challenge (MfaRequired) and no tokens.
    Result<TokenPair> login(const std::string& rawEmail, const std::string& password,
                            const LoginClient& client = {});
    // Set once at wiring, before any request: logins of users with a second factor take
    // two steps, and access tokens carry their session's amr as the factor stored it.
    void useSecondFactor(SecondFactor* factor) { secondFactor_ = factor; }
    // A new session of a user who proved `amr` (a login's second step): a new family
    // (`hook` runs in its transaction) and its first token pair.
    Result<TokenPair> startSession(int64_t userId, const LoginClient& client,
                                   const std::vector<std::string>& amr, const FamilyHook& hook);
    // `presented`: a refresh token; or, with an access-token verifier and
    // `mayRenewAccessToken`, an access token (a JWS: two dots, which a refresh token never
    // has) to renew. POST /oauth/token passes false: there it is an invalid grant (counted
    // as the outcome `invalid`, as every refused presentation).
    Result<TokenPair> refresh(const std::string& presented, bool mayRenewAccessToken = true);
    // refresh() without this thread waiting for the rotation's COMMIT: done(error, result)
    // gets what refresh() would have returned (result) or thrown (error: result empty). On
    // SQLite the rotation joins the group commit (Database::writeTogetherLater) and done runs
    // on the thread that committed it, after this returned; otherwise (PostgreSQL, MariaDB,
    // a token that is not a refresh token) refresh() runs here and done before this returns.
    // done must not throw.
    using RefreshDone = std::function<void(std::exception_ptr, std::optional<Result<TokenPair>>)>;
    void refreshLater(const std::string& presented, RefreshDone done,
                      bool mayRenewAccessToken = true);
    // Revokes the token's family if the token is known; silent otherwise (idempotent).
    void logout(const std::string& presented);
    void logoutAll(int64_t userId);
    // The user named by an access token's subject, or InvalidToken.
    Result<User> userForSubject(const std::string& sub);
    // The roles the user of an access token holds now, when the token's session (its
    // `sid` family) is live and the token's subject's: for the routes that require a role
    // (middleware/AuthChecks.h, LiveSession), so that a revoked or expired session, a
    // deleted user or a removed role counts at once, not at the token's exp. Else
    // InvalidToken ("The session has ended"; a token without a session has none to show).
    // One statement.
    Result<std::vector<std::string>> liveSessionRoles(const verify::AccessClaims& claims);
    // One bounded purge batch of expired and long-revoked families; returns rows deleted.
    int64_t purgeBatch(int64_t limit);
    // The dummy hash that an unknown email's login verifies (so that timing does not tell
    // which emails have accounts) takes the most common argon2id parameters among the
    // stored hashes, not the configured ones: after a parameter change most known emails
    // still verify with the old ones until they log in again. Reads them (one scan of the
    // users table) and, when they changed, hashes a new dummy (one argon2id hash): call it
    // at start and now and then from a background thread, never per request. Returns the
    // new parameters when they changed. Until the first call: the configured parameters.
    std::optional<Argon2Params> refreshDummyHash();
    Argon2Params dummyParameters() const;

    static constexpr int64_t kRevokedRetentionMs = 24LL * 3600 * 1000;

  private:
    // A presented refresh token's hash, its successor and the successor's hash, and the
    // time the rotation is judged at.
    struct Rotation {
        std::string hash, successor, successorHash;
        int64_t nowMs = 0;
    };
    // What the rotation transaction decided; tokens are built after it commits.
    struct RotationResult {
        RefreshOutcome outcome = RefreshOutcome::Invalid;
        std::string reason;
        std::string familyId;
        int64_t userId = 0;
        int64_t familyExpiresMs = 0;
        std::vector<std::string> roles;
    };
    Rotation prepareRotation(const std::string& presented) const;
    // The rotation's reads and writes, inside the caller's transaction.
    RotationResult rotateIn(Connection& s, const Rotation& p) const;
    // After the COMMIT: the metrics and events, and the tokens of a rotation.
    Result<TokenPair> afterRotation(const RotationResult& r, const Rotation& p);
    // nowMs: the time the operation was decided at, so refresh_expires_in is exact.
    // amr: the session's; empty: read through the second factor (["pwd"] without one).
    TokenPair issuePair(int64_t userId, const std::string& familyId,
                        const std::vector<std::string>& roles, std::string refreshToken,
                        int64_t familyExpiresMs, int64_t nowMs,
                        std::vector<std::string> amr = {}) const;
    // A new family of the user and its token pair; `rehashed`: a new password hash to store
    // in the same transaction (empty: none).
    TokenPair openFamily(int64_t userId, const LoginClient& client, const std::string& rehashed,
                         const std::vector<std::string>& amr, const FamilyHook& hook);
    // A new access token of the family of the access token `presented`: the token fully
    // verified and unexpired (exp is not stretched by the leeway), its family live.
    Result<TokenPair> renew(const std::string& presented);
    std::string deriveSuccessor(const std::string& presented) const;
    // The family of the token's sid when it is live and the token's subject's.
    std::optional<LiveFamilyRecord> liveFamilyOf(const verify::AccessClaims& claims, int64_t nowMs);
    // Verifies `password` against the dummy hash; always false.
    bool verifyDummy(const std::string& password) const;

    Database& db_;
    const UserRepository& users_;
    const RefreshTokenRepository& tokens_;
    const PasswordHasher& hasher_;
    const TokenService& tokenService_;
    const verify::Clock& clock_;
    AuthSettings settings_;
    AuthObserver& observer_;
    crypto::HmacSha256 successorMac_;
    mutable std::mutex dummyMu_;
    Argon2Params dummyParams_;                  // guarded by dummyMu_
    std::shared_ptr<const std::string> dummy_;  // guarded by dummyMu_; null: the hasher's own
    const verify::Verifier* accessTokens_;      // null: access tokens are not renewed
    const MailOutboxRepository* outbox_;        // null: no verification mail
    SecondFactor* secondFactor_ = nullptr;      // null: password logins only
};

// True for a string that has the shape of our refresh tokens (43 base64url chars).
bool isWellFormedRefreshToken(const std::string& token);

}  // namespace authsvc::models
