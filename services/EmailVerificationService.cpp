#include "services/EmailVerificationService.h"

#include "common/Validation.h"
#include "services/OneTimeToken.h"

namespace authsvc::models {

EmailVerificationService::EmailVerificationService(
    Database& db, const UserRepository& users, const MailOutboxRepository& outbox,
    const OneTimeTokenRepository& tokens, const PasswordHasher& hasher, const verify::Clock& clock,
    int perEmailPerHour, int perIpPerHour, std::function<void()> mailQueued,
    const LimitCounters& limitCounters)
    : db_(db),
      users_(users),
      outbox_(outbox),
      tokens_(tokens),
      hasher_(hasher),
      clock_(clock),
      limit_(perEmailPerHour, perIpPerHour, clock, limitCounters, "verify"),
      mailQueued_(std::move(mailQueued)) {}

Result<Unit> EmailVerificationService::verify(const std::string& token) {
    enum class Outcome { Invalid, Verified, Taken };
    const auto hash = oneTimeTokenHash(token);
    const int64_t now = clock_.nowMs();
    const Outcome outcome = !hash ? Outcome::Invalid : db_.write([&](Connection& s) {
        if (auto t = tokens_.consume(s, *hash, kPurposeVerifyEmail, now)) {
            return users_.setEmailVerified(s, t->userId) ? Outcome::Verified : Outcome::Invalid;
        }
        auto t = tokens_.consume(s, *hash, kPurposeChangeEmail, now);
        if (!t || !t->data) return Outcome::Invalid;
        auto user = users_.findById(s, t->userId);
        if (!user) return Outcome::Invalid;
        if (!users_.changeEmail(s, user->id, *t->data)) return Outcome::Taken;
        outbox_.enqueue(s, kMailEmailChanged, user->id, user->email, now);
        return Outcome::Verified;
    });
    if (outcome == Outcome::Taken) {
        return makeError(ErrorCode::EmailTaken, "An account with this email already exists");
    }
    if (outcome == Outcome::Invalid) {
        return makeError(ErrorCode::InvalidOneTimeToken,
                         "The link is invalid, expired or was already used");
    }
    if (mailQueued_) mailQueued_();
    return Unit{};
}

Result<Unit> EmailVerificationService::requestChange(int64_t userId, const std::string& rawNewEmail,
                                                     const std::string& password) {
    const std::string email = normalizeEmail(rawNewEmail);
    if (auto why = emailProblem(email)) {
        return makeError(ErrorCode::InvalidRequest, "Invalid field 'new_email': " + *why);
    }
    auto user = db_.read([&](Connection& s) { return users_.findById(s, userId); });
    if (!user) return makeError(ErrorCode::InvalidToken, "The user no longer exists");
    if (password.size() > kMaxPasswordBytes || !hasher_.verify(password, user->passwordHash)) {
        return makeError(ErrorCode::InvalidCredentials, "Invalid password");
    }
    const int64_t now = clock_.nowMs();
    const bool queued = db_.write([&](Connection& s) {
        if (users_.findByEmail(s, email)) return false;
        outbox_.enqueue(s, kMailChangeEmail, userId, email, now);
        return true;
    });
    if (!queued)
        return makeError(ErrorCode::EmailTaken, "An account with this email already exists");
    if (mailQueued_) mailQueued_();
    return Unit{};
}

bool EmailVerificationService::resend(const std::string& rawEmail, const std::string& clientIp) {
    return queueAddressedMail(db_, outbox_, limit_, clock_, kMailVerifyEmail, rawEmail, clientIp,
                              mailQueued_);
}

}  // namespace authsvc::models
