#include "services/RecoveryService.h"

#include "common/Validation.h"
#include "services/OneTimeToken.h"

namespace authsvc::models {
namespace {

constexpr const char* kRevokeReason = "password_change";

Error invalidToken() {
    return makeError(ErrorCode::InvalidOneTimeToken,
                     "The link is invalid, expired or was already used");
}

}  // namespace

RecoveryService::RecoveryService(Database& db, const UserRepository& users,
                                 const RefreshTokenRepository& refreshTokens,
                                 const MailOutboxRepository& outbox,
                                 const OneTimeTokenRepository& tokens, const PasswordHasher& hasher,
                                 const verify::Clock& clock, RecoverySettings settings,
                                 AuthObserver& observer, std::function<void()> mailQueued,
                                 const LimitCounters& limitCounters)
    : db_(db),
      users_(users),
      refreshTokens_(refreshTokens),
      outbox_(outbox),
      tokens_(tokens),
      hasher_(hasher),
      clock_(clock),
      settings_(std::move(settings)),
      observer_(observer),
      mailQueued_(std::move(mailQueued)),
      limit_(settings_.perEmailPerHour, settings_.perIpPerHour, clock, limitCounters, "recovery") {}

bool RecoveryService::requestReset(const std::string& rawEmail, const std::string& clientIp) {
    return queueAddressedMail(db_, outbox_, limit_, clock_, kMailPasswordReset, rawEmail, clientIp,
                              mailQueued_);
}

Result<Unit> RecoveryService::reset(const std::string& token, const std::string& newPassword) {
    const auto hash = oneTimeTokenHash(token);
    if (!hash) return invalidToken();
    if (auto why = passwordProblem(newPassword, settings_.passwordMinLength)) {
        return makeError(ErrorCode::InvalidRequest, "Invalid field 'new_password': " + *why);
    }
    // A token that cannot be consumed is refused before the password is hashed.
    const int64_t before = clock_.nowMs();
    if (!db_.read([&](Connection& s) {
            return tokens_.exists(s, *hash, kPurposePasswordReset, before);
        })) {
        return invalidToken();
    }
    const std::string passwordHash = hasher_.hash(newPassword);
    const int64_t now = clock_.nowMs();
    const std::optional<int64_t> revoked = db_.write([&](Connection& s) -> std::optional<int64_t> {
        auto consumed = tokens_.consume(s, *hash, kPurposePasswordReset, now);
        if (!consumed) return std::nullopt;
        users_.updatePasswordHash(s, consumed->userId, passwordHash);
        const int64_t n = refreshTokens_.revokeAllForUser(s, consumed->userId, now, kRevokeReason,
                                                          /*keepFamilyId=*/"");
        outbox_.enqueue(s, kMailPasswordChanged, consumed->userId, std::nullopt, now);
        return n;
    });
    if (!revoked) return invalidToken();
    if (*revoked > 0) observer_.onFamiliesRevoked(*revoked, kRevokeReason);
    if (mailQueued_) mailQueued_();
    return Unit{};
}

Result<std::string> RecoveryService::resetLink(const std::string& rawEmail) {
    const std::string email = normalizeEmail(rawEmail);
    const MintedToken token = mintOneTimeToken();
    const int64_t now = clock_.nowMs();
    const bool found = db_.write([&](Connection& s) {
        auto user = users_.findByEmail(s, email);
        if (!user) return false;
        tokens_.replace(s, token.hashHex, kPurposePasswordReset, user->id, std::nullopt, now,
                        now + settings_.ttlMs);
        return true;
    });
    if (!found) return makeError(ErrorCode::InvalidRequest, "No user with email " + email);
    return settings_.linkBaseUrl + "/reset?token=" + token.token;
}

}  // namespace authsvc::models
