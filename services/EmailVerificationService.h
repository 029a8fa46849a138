// EmailVerificationService: proving that an address belongs to its user
// (auth.email_verification optional or required).
// - verify(token) (POST /api/email/verify): consumes a verification token (the link of the
//   mail queued at registration or by resend) and marks the address verified. An unknown,
//   used, voided or expired token is InvalidOneTimeToken (400 invalid_grant).
// - requestChange(user, new address, password) (POST /api/email): the new address valid
//   and free, the password right; queues a mail with a link to the NEW address. verify()
//   with that link's token changes the address (verified; EmailTaken if someone took it
//   meanwhile) and queues a notice to the OLD one.
// - resend(email, ip) (POST /api/email/verify/resend): like a password recovery request,
//   the same work for every address: within the throttles one outbox row naming the
//   address; the mail sender sends a new link if the address has an unverified account.
// Blocking (database): call from worker threads. Thread-safe.
#pragma once

#include <functional>
#include <string>

#include "common/Error.h"
#include "models/Database.h"
#include "models/MailOutboxRepository.h"
#include "models/UserRepository.h"
#include "services/MailRequestLimit.h"
#include "services/PasswordHasher.h"
#include "verify/Clock.h"

namespace authsvc::models {

class EmailVerificationService {
  public:
    // mailQueued: called after a commit that queued mail (wakes the sender); may be empty.
    // limitCounters: where the resend limits count (auth.limits_store).
    EmailVerificationService(Database& db, const UserRepository& users,
                             const MailOutboxRepository& outbox,
                             const OneTimeTokenRepository& tokens, const PasswordHasher& hasher,
                             const verify::Clock& clock, int perEmailPerHour, int perIpPerHour,
                             std::function<void()> mailQueued = {},
                             const LimitCounters& limitCounters = memoryLimitCounters());

    Result<Unit> verify(const std::string& token);
    // InvalidRequest (naming new_email), EmailTaken, InvalidCredentials (a wrong password:
    // the caller counts it in the login throttle), InvalidToken (the user is gone).
    Result<Unit> requestChange(int64_t userId, const std::string& rawNewEmail,
                               const std::string& password);
    // True when a request was queued; callers answer the same either way.
    bool resend(const std::string& rawEmail, const std::string& clientIp);

  private:
    Database& db_;
    const UserRepository& users_;
    const MailOutboxRepository& outbox_;
    const OneTimeTokenRepository& tokens_;
    const PasswordHasher& hasher_;
    const verify::Clock& clock_;
    MailRequestLimit limit_;
    std::function<void()> mailQueued_;
};

}  // namespace authsvc::models
