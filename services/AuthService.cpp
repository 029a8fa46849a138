#include "services/AuthService.h"

#include <algorithm>
#include <charconv>

#include "common/Validation.h"
#include "verify/Base64Url.h"
#include "verify/Sha256.h"

namespace authsvc::models {
namespace {

constexpr size_t kRefreshTokenBytes = 32;
constexpr size_t kFamilyIdBytes = 16;

Error invalidRequest(std::string message) {
    return makeError(ErrorCode::InvalidRequest, std::move(message));
}
Error invalidCredentials() {
    return makeError(ErrorCode::InvalidCredentials, "Invalid email or password");
}
Error invalidGrant(std::string message) {
    return makeError(ErrorCode::InvalidGrant, std::move(message));
}

// A JWS compact serialization has exactly two dots; a refresh token (base64url) none.
bool looksLikeJws(const std::string& token) {
    return std::count(token.begin(), token.end(), '.') == 2;
}

}  // namespace

bool isWellFormedRefreshToken(const std::string& token) {
    if (token.size() != 43) return false;
    auto bytes = verify::base64UrlDecode(token);
    return bytes && bytes->size() == kRefreshTokenBytes;
}

AuthService::AuthService(Database& db, const UserRepository& users,
                         const RefreshTokenRepository& tokens, const PasswordHasher& hasher,
                         const TokenService& tokenService, const verify::Clock& clock,
                         AuthSettings settings, AuthObserver& observer,
                         const verify::Verifier* accessTokens, const MailOutboxRepository* outbox)
    : db_(db),
      users_(users),
      tokens_(tokens),
      hasher_(hasher),
      tokenService_(tokenService),
      clock_(clock),
      settings_(std::move(settings)),
      observer_(observer),
      successorMac_(verify::sha256("authsvc refresh successor v1\n" + settings_.successorKey)),
      dummyParams_(hasher.parameters()),
      accessTokens_(accessTokens),
      outbox_(outbox) {}

Result<User> AuthService::registerUser(const std::string& rawEmail, const std::string& password,
                                       bool operatorOverride) {
    if (!settings_.registrationOpen && !operatorOverride) {
        return makeError(ErrorCode::RegistrationClosed, "Registration is closed");
    }
    const std::string email = normalizeEmail(rawEmail);
    if (auto why = emailProblem(email)) return invalidRequest("Invalid field 'email': " + *why);
    if (auto why = passwordProblem(password, settings_.passwordMinLength)) {
        return invalidRequest("Invalid field 'password': " + *why);
    }
    const std::string hash = hasher_.hash(password);
    const int64_t now = clock_.nowSeconds();
    const bool verified = operatorOverride || settings_.emailVerification == EmailVerification::Off;
    auto id = db_.write([&](Connection& s) {
        auto inserted = users_.insert(s, email, hash, now, verified);
        if (inserted && !verified && outbox_) {
            outbox_->enqueue(s, kMailVerifyEmail, *inserted, std::nullopt, clock_.nowMs());
        }
        return inserted;
    });
    if (!id) return makeError(ErrorCode::EmailTaken, "An account with this email already exists");
    User u{*id, email, "", now};
    u.emailVerified = verified;
    return u;
}

Result<TokenPair> AuthService::login(const std::string& rawEmail, const std::string& password,
                                     const LoginClient& client) {
    const std::string email = normalizeEmail(rawEmail);
    auto user = db_.read([&](Connection& s) { return users_.findByEmail(s, email); });
    // Over-long passwords cannot match (registration refuses them); hashing them would
    // only cost time.
    const bool verified =
        password.size() <= kMaxPasswordBytes &&
        (user ? hasher_.verify(password, user->passwordHash) : verifyDummy(password));
    observer_.onLogin(verified);
    if (!verified) return invalidCredentials();
    if (settings_.emailVerification == EmailVerification::Required && !user->emailVerified) {
        return makeError(ErrorCode::EmailNotVerified,
                         "The email address is not verified: open the link in the verification "
                         "mail (POST /api/email/verify/resend sends a new one)");
    }

    if (secondFactor_) {
        if (auto challenge = secondFactor_->challenge(user->id)) return *challenge;
    }
    const std::string rehashed =
        hasher_.needsRehash(user->passwordHash) ? hasher_.hash(password) : std::string();
    return openFamily(user->id, client, rehashed, {"pwd"}, nullptr);
}

Result<TokenPair> AuthService::startSession(int64_t userId, const LoginClient& client,
                                            const std::vector<std::string>& amr,
                                            const FamilyHook& hook) {
    return openFamily(userId, client, "", amr, hook);
}

TokenPair AuthService::openFamily(int64_t userId, const LoginClient& client,
                                  const std::string& rehashed, const std::vector<std::string>& amr,
                                  const FamilyHook& hook) {
    const std::string userAgent = sanitizeUserAgent(client.userAgent);
    const std::string familyId = verify::base64UrlEncode(crypto::randomBytes(kFamilyIdBytes));
    std::string refresh = verify::base64UrlEncode(crypto::randomBytes(kRefreshTokenBytes));
    const int64_t now = clock_.nowMs();
    const int64_t expires = now + settings_.refreshTtlMs;
    std::vector<std::string> roles;
    db_.write([&](Connection& s) {
        if (!rehashed.empty()) users_.updatePasswordHash(s, userId, rehashed);
        tokens_.createFamily(s, familyId, userId, now, expires, userAgent, client.ip);
        tokens_.insertToken(s, familyId, verify::sha256(refresh), std::nullopt, now);
        if (hook) hook(s, familyId);
        roles = users_.roles(s, userId);
    });
    return issuePair(userId, familyId, roles, std::move(refresh), expires, now, amr);
}

bool AuthService::verifyDummy(const std::string& password) const {
    std::shared_ptr<const std::string> dummy;
    {
        std::lock_guard<std::mutex> lock(dummyMu_);
        dummy = dummy_;
    }
    if (!dummy) return hasher_.verifyDummy(password);
    (void)hasher_.verify(password, *dummy);
    return false;
}

std::optional<Argon2Params> AuthService::refreshDummyHash() {
    // A few of the most common prefixes: the first that parses wins (a foreign or
    // malformed hash string does not count).
    const auto counts = db_.read([&](Connection& s) { return users_.hashParameterCounts(s, 8); });
    std::optional<Argon2Params> common;
    for (const auto& [prefix, n] : counts) {
        if ((common = PasswordHasher::parseParameters(prefix))) break;
    }
    if (!common || *common == dummyParameters()) return std::nullopt;
    auto dummy = std::make_shared<const std::string>(
        hasher_.hash(verify::base64UrlEncode(crypto::randomBytes(24)), *common));
    std::lock_guard<std::mutex> lock(dummyMu_);
    dummyParams_ = *common;
    dummy_ = std::move(dummy);
    return common;
}

Argon2Params AuthService::dummyParameters() const {
    std::lock_guard<std::mutex> lock(dummyMu_);
    return dummyParams_;
}

std::string AuthService::deriveSuccessor(const std::string& presented) const {
    return verify::base64UrlEncode(successorMac_.mac(presented));
}

Result<TokenPair> AuthService::refresh(const std::string& presented, bool mayRenewAccessToken) {
    if (!isWellFormedRefreshToken(presented)) {
        if (mayRenewAccessToken && accessTokens_ && looksLikeJws(presented)) {
            return renew(presented);
        }
        observer_.onRefresh(RefreshOutcome::Invalid);
        return invalidGrant("Malformed refresh token");
    }
    const Rotation p = prepareRotation(presented);
    const std::string& hash = p.hash;
    const std::string& successor = p.successor;
    const std::string& successorHash = p.successorHash;
    const int64_t now = p.nowMs;

    // The common case, a fresh token, at once where the store can (one statement and one
    // round trip on PostgreSQL); anything else takes the full path below, which judges the
    // token as it is then. Sliding expiry moves the family's expiry: always the full path.
    if (!settings_.sliding) {
        auto rotated = tokens_.rotateFreshAtOnce(db_, hash, successorHash, now);
        if (rotated) {
            observer_.onRefresh(RefreshOutcome::Rotated);
            return issuePair(rotated->userId, rotated->familyId, rotated->roles, successor,
                             rotated->familyExpiresMs, now);
        }
    }

    const RotationResult r = db_.writeTogether([&](Connection& s) { return rotateIn(s, p); });
    return afterRotation(r, p);
}

void AuthService::refreshLater(const std::string& presented, RefreshDone done,
                               bool mayRenewAccessToken) {
    if (db_.dialect() != Dialect::Sqlite || !isWellFormedRefreshToken(presented)) {
        // No group commit to join (or nothing to store): as refresh(), on this thread.
        std::optional<Result<TokenPair>> result;
        std::exception_ptr error;
        try {
            result.emplace(refresh(presented, mayRenewAccessToken));
        } catch (...) {
            error = std::current_exception();
        }
        done(error, std::move(result));
        return;
    }
    auto p = std::make_shared<const Rotation>(prepareRotation(presented));
    auto r = std::make_shared<RotationResult>();
    db_.writeTogetherLater([this, p, r](Connection& s) { *r = rotateIn(s, *p); },
                           [this, p, r, done = std::move(done)](std::exception_ptr error) {
                               std::optional<Result<TokenPair>> result;
                               if (!error) {
                                   try {
                                       result.emplace(afterRotation(*r, *p));
                                   } catch (...) {
                                       error = std::current_exception();
                                   }
                               }
                               done(error, std::move(result));
                           });
}

AuthService::Rotation AuthService::prepareRotation(const std::string& presented) const {
    Rotation p;
    p.hash = verify::sha256(presented);
    p.successor = deriveSuccessor(presented);
    p.successorHash = verify::sha256(p.successor);
    p.nowMs = clock_.nowMs();
    return p;
}

AuthService::RotationResult AuthService::rotateIn(Connection& s, const Rotation& p) const {
    const std::string& hash = p.hash;
    const std::string& successorHash = p.successorHash;
    const int64_t now = p.nowMs;
    RotationResult out;
    auto refuse = [&out](const char* why) {
        out.outcome = RefreshOutcome::Invalid;
        out.reason = why;
        return out;
    };
    auto rec = tokens_.findByHash(s, hash);
    if (!rec) return refuse("Unknown refresh token");
    out.familyId = rec->familyId;
    out.userId = rec->userId;
    out.familyExpiresMs = rec->familyExpiresMs;
    out.roles = std::move(rec->roles);
    if (rec->familyRevokedMs) return refuse("Refresh token has been revoked");
    if (now >= rec->familyExpiresMs) return refuse("Refresh token has expired");

    if (!rec->usedMs) {
        if (tokens_.markUsed(s, rec->familyId, rec->id, now, successorHash)) {
            tokens_.insertToken(s, rec->familyId, successorHash, rec->id, now);
            if (settings_.sliding) {
                out.familyExpiresMs = now + settings_.refreshTtlMs;
                tokens_.setFamilyExpiry(s, rec->familyId, out.familyExpiresMs);
            }
            out.outcome = RefreshOutcome::Rotated;
            return out;
        }
        // Another transaction rotated it between our read and our write (possible
        // on PostgreSQL's READ COMMITTED): judge the presentation against its result.
        rec = tokens_.findByHash(s, hash);
        if (!rec || !rec->usedMs) return refuse("Unknown refresh token");
    }

    const bool withinGrace = now - *rec->usedMs < settings_.reuseGraceMs;
    if (withinGrace && crypto::constantTimeEquals(rec->successorHash, successorHash)) {
        auto next = tokens_.findByHash(s, successorHash);
        if (next && !next->usedMs) {
            out.outcome = RefreshOutcome::Retried;
            return out;
        }
    } else if (withinGrace) {
        // The server key changed since the rotation (e.g. a random per-start secret
        // and a restart): the successor cannot be re-derived. Refuse without
        // treating an honest retry as theft.
        return refuse("Refresh token has already been used");
    }
    tokens_.revokeFamily(s, rec->familyId, now, "reuse");
    out.outcome = RefreshOutcome::Reused;
    out.reason = "Refresh token has already been used";
    return out;
}

Result<TokenPair> AuthService::afterRotation(const RotationResult& r, const Rotation& p) {
    const std::string& successor = p.successor;
    const int64_t now = p.nowMs;
    observer_.onRefresh(r.outcome);
    switch (r.outcome) {
        case RefreshOutcome::Rotated:
        case RefreshOutcome::Retried:
            return issuePair(r.userId, r.familyId, r.roles, successor, r.familyExpiresMs, now);
        case RefreshOutcome::Reused:
            observer_.onReuseDetected(r.familyId, r.userId);
            observer_.onFamiliesRevoked(1, "reuse");
            return invalidGrant(r.reason);
        case RefreshOutcome::Invalid:
        case RefreshOutcome::Renewed:  // not an outcome of a rotation
            break;
    }
    return invalidGrant(r.reason);
}

Result<TokenPair> AuthService::renew(const std::string& presented) {
    auto refuse = [this](std::string why) -> Result<TokenPair> {
        observer_.onRefresh(RefreshOutcome::Invalid);
        return invalidGrant(std::move(why));
    };
    const verify::Verified verified = accessTokens_->verifyToken(presented);
    if (!verified)
        return refuse(std::string("Invalid access token: ") + verify::reasonText(verified.reason));
    const verify::AccessClaims& claims = *verified.claims;
    const int64_t now = clock_.nowMs();
    // The verifier allows the clock leeway past exp; a renewal never does.
    if (now / 1000 >= claims.exp) return refuse("Access token has expired");
    if (claims.sid.empty()) return refuse("Access token without a session");
    auto family = liveFamilyOf(claims, now);
    if (!family) return refuse("The session has ended");
    observer_.onRefresh(RefreshOutcome::Renewed);
    return issuePair(family->userId, claims.sid, family->roles, "", family->expiresMs, now);
}

std::optional<LiveFamilyRecord> AuthService::liveFamilyOf(const verify::AccessClaims& claims,
                                                          int64_t nowMs) {
    if (claims.sid.empty()) return std::nullopt;
    auto family = db_.read([&](Connection& c) { return tokens_.liveFamily(c, claims.sid, nowMs); });
    if (!family || std::to_string(family->userId) != claims.sub) return std::nullopt;
    return family;
}

Result<std::vector<std::string>> AuthService::liveSessionRoles(const verify::AccessClaims& claims) {
    if (claims.sid.empty()) {
        return makeError(ErrorCode::InvalidToken, "Access token without a session");
    }
    auto family = liveFamilyOf(claims, clock_.nowMs());
    if (!family) return makeError(ErrorCode::InvalidToken, "The session has ended");
    return std::move(family->roles);
}

void AuthService::logout(const std::string& presented) {
    if (!isWellFormedRefreshToken(presented)) return;
    const std::string hash = verify::sha256(presented);
    const int64_t now = clock_.nowMs();
    bool revoked = db_.write([&](Connection& s) {
        auto rec = tokens_.findByHash(s, hash);
        return rec && tokens_.revokeFamily(s, rec->familyId, now, "logout");
    });
    if (revoked) observer_.onFamiliesRevoked(1, "logout");
}

void AuthService::logoutAll(int64_t userId) {
    const int64_t now = clock_.nowMs();
    int64_t n = db_.write(
        [&](Connection& s) { return tokens_.revokeAllForUser(s, userId, now, "logout_all"); });
    if (n > 0) observer_.onFamiliesRevoked(n, "logout_all");
}

Result<User> AuthService::userForSubject(const std::string& sub) {
    int64_t id = 0;
    auto [p, ec] = std::from_chars(sub.data(), sub.data() + sub.size(), id);
    if (ec != std::errc() || p != sub.data() + sub.size() || id <= 0) {
        return makeError(ErrorCode::InvalidToken, "Unknown subject");
    }
    auto user = db_.read([&](Connection& s) { return users_.findById(s, id); });
    if (!user) return makeError(ErrorCode::InvalidToken, "The user no longer exists");
    user->passwordHash.clear();
    return *user;
}

Result<User> AuthService::userForEmail(const std::string& rawEmail) {
    const std::string email = normalizeEmail(rawEmail);
    auto user = db_.read([&](Connection& s) { return users_.findByEmail(s, email); });
    if (!user) return invalidRequest("No user with email " + email);
    user->passwordHash.clear();
    return *user;
}

int64_t AuthService::purgeBatch(int64_t limit) {
    const int64_t now = clock_.nowMs();
    return db_.write(
        [&](Connection& s) { return tokens_.purge(s, now, now - kRevokedRetentionMs, limit); });
}

TokenPair AuthService::issuePair(int64_t userId, const std::string& familyId,
                                 const std::vector<std::string>& roles, std::string refreshToken,
                                 int64_t familyExpiresMs, int64_t nowMs,
                                 std::vector<std::string> amr) const {
    TokenPair p;
    if (amr.empty()) {
        amr = secondFactor_ ? secondFactor_->sessionAmr(familyId) : std::vector<std::string>{"pwd"};
    }
    std::optional<bool> emailVerified;
    if (settings_.emailVerification != EmailVerification::Off) {
        auto user = db_.read([&](Connection& s) { return users_.findById(s, userId); });
        emailVerified = user && user->emailVerified;
    }
    p.accessToken =
        tokenService_.issue(std::to_string(userId), familyId, roles, emailVerified, amr);
    p.expiresIn = tokenService_.accessTtlSeconds();
    p.refreshToken = std::move(refreshToken);
    p.refreshExpiresIn = std::max<int64_t>(0, (familyExpiresMs - nowMs) / 1000);
    return p;
}

}  // namespace authsvc::models
