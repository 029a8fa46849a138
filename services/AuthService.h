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
#include <string>
#include <vector>

#include "services/AuthEvents.h"
#include "common/Crypto.h"
#include "models/Database.h"
#include "models/MailOutboxRepository.h"
#include "common/Error.h"
#include "services/PasswordHasher.h"
#include "models/RefreshTokenRepository.h"
#include "services/TokenService.h"
#include "models/UserRepository.h"
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
    // The user with this email (operator tasks), or InvalidRequest.
    Result<User> userForEmail(const std::string& rawEmail);
    // Unknown email and wrong password give the same error after about the same time.
    // The new family records the client (the User-Agent cut by sanitizeUserAgent()). A
    // stored hash with other argon2id parameters than the configured ones is replaced by a
    // new hash of the password, in the family's transaction: that login costs one more hash.
    Result<TokenPair> login(const std::string& rawEmail, const std::string& password,
                            const LoginClient& client = {});
    // `presented`: a refresh token; or, with an access-token verifier, an access token (a
    // JWS: two dots, which a refresh token never has) to renew.
    Result<TokenPair> refresh(const std::string& presented);
    // Revokes the token's family if the token is known; silent otherwise (idempotent).
    void logout(const std::string& presented);
    void logoutAll(int64_t userId);
    // The user named by an access token's subject, or InvalidToken.
    Result<User> userForSubject(const std::string& sub);
    // One bounded purge batch of expired and long-revoked families; returns rows deleted.
    int64_t purgeBatch(int64_t limit);

    static constexpr int64_t kRevokedRetentionMs = 24LL * 3600 * 1000;

  private:
    // nowMs: the time the operation was decided at, so refresh_expires_in is exact.
    TokenPair issuePair(int64_t userId, const std::string& familyId,
                        const std::vector<std::string>& roles, std::string refreshToken,
                        int64_t familyExpiresMs, int64_t nowMs) const;
    // A new access token of the family of the access token `presented`: the token fully
    // verified and unexpired (exp is not stretched by the leeway), its family live.
    Result<TokenPair> renew(const std::string& presented);
    std::string deriveSuccessor(const std::string& presented) const;

    Database& db_;
    const UserRepository& users_;
    const RefreshTokenRepository& tokens_;
    const PasswordHasher& hasher_;
    const TokenService& tokenService_;
    const verify::Clock& clock_;
    AuthSettings settings_;
    AuthObserver& observer_;
    crypto::HmacSha256 successorMac_;
    const verify::Verifier* accessTokens_;  // null: access tokens are not renewed
    const MailOutboxRepository* outbox_;     // null: no verification mail
};

// True for a string that has the shape of our refresh tokens (43 base64url chars).
bool isWellFormedRefreshToken(const std::string& token);

}  // namespace authsvc::models
