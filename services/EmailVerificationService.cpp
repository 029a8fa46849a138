#include "services/EmailVerificationService.h"

#include "services/OneTimeToken.h"

namespace authsvc::models {

EmailVerificationService::EmailVerificationService(Database& db, const UserRepository& users,
                                                   const MailOutboxRepository& outbox,
                                                   const OneTimeTokenRepository& tokens,
                                                   const verify::Clock& clock, int perEmailPerHour,
                                                   int perIpPerHour,
                                                   std::function<void()> mailQueued)
    : db_(db),
      users_(users),
      outbox_(outbox),
      tokens_(tokens),
      clock_(clock),
      limit_(perEmailPerHour, perIpPerHour, clock),
      mailQueued_(std::move(mailQueued)) {}

Result<Unit> EmailVerificationService::verify(const std::string& token) {
    const auto hash = oneTimeTokenHash(token);
    const int64_t now = clock_.nowMs();
    const bool done = hash && db_.write([&](Connection& s) {
        auto consumed = tokens_.consume(s, *hash, kPurposeVerifyEmail, now);
        return consumed && users_.setEmailVerified(s, consumed->userId);
    });
    if (!done) {
        return makeError(ErrorCode::InvalidOneTimeToken,
                         "The link is invalid, expired or was already used");
    }
    return Unit{};
}

bool EmailVerificationService::resend(const std::string& rawEmail, const std::string& clientIp) {
    return queueAddressedMail(db_, outbox_, limit_, clock_, kMailVerifyEmail, rawEmail, clientIp,
                              mailQueued_);
}

}  // namespace authsvc::models
