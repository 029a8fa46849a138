// RecoveryService: password recovery by mail.
// - requestReset(email, ip) (POST /api/password/forgot): the answer is the same whether
//   the address has an account or not, and so is the work before it: within the throttles
//   (per address and per client address, a sliding hour, MailRequestLimit) it queues
//   ONE outbox row naming the address, without looking the address up. The mail sender
//   resolves it later, mints the token and sends the link, or skips an unknown address.
// - reset(token, password) (POST /api/password/reset): the register rules for the
//   password, then in one transaction the token consumed, the new hash stored, every
//   session of the user revoked and a notice queued. An unknown, used, voided or expired
//   token is InvalidOneTimeToken (400 invalid_grant) and changes nothing.
// - resetLink(email) (`authsvc user reset-link`): a fresh link, at once, for an operator.
// Blocking (database, argon2id): call from worker threads. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/Error.h"
#include "models/Database.h"
#include "models/MailOutboxRepository.h"
#include "models/RefreshTokenRepository.h"
#include "models/UserRepository.h"
#include "services/AuthEvents.h"
#include "services/MailRequestLimit.h"
#include "services/PasswordHasher.h"
#include "verify/Clock.h"

namespace authsvc::models {

struct RecoverySettings {
    int64_t ttlMs = 30 * 60 * 1000;
    int perEmailPerHour = 3;  // 0: no limit
    int perIpPerHour = 20;    // 0: no limit
    int passwordMinLength = 8;
    std::string linkBaseUrl;  // resetLink(): <linkBaseUrl>/reset?token=...
};

class RecoveryService {
  public:
    // mailQueued: called after a commit that queued mail (wakes the sender); may be empty.
    // limitCounters: where the request limits count (auth.limits_store).
    RecoveryService(Database& db, const UserRepository& users,
                    const RefreshTokenRepository& refreshTokens, const MailOutboxRepository& outbox,
                    const OneTimeTokenRepository& tokens, const PasswordHasher& hasher,
                    const verify::Clock& clock, RecoverySettings settings, AuthObserver& observer,
                    std::function<void()> mailQueued = {},
                    const LimitCounters& limitCounters = memoryLimitCounters());

    // True when a request was queued (false: invalid address or throttled); callers answer
    // the same either way.
    bool requestReset(const std::string& rawEmail, const std::string& clientIp);
    Result<Unit> reset(const std::string& token, const std::string& newPassword);
    // The link for a fresh token of the user (older ones voided); InvalidRequest for an
    // unknown address.
    Result<std::string> resetLink(const std::string& rawEmail);

  private:
    Database& db_;
    const UserRepository& users_;
    const RefreshTokenRepository& refreshTokens_;
    const MailOutboxRepository& outbox_;
    const OneTimeTokenRepository& tokens_;
    const PasswordHasher& hasher_;
    const verify::Clock& clock_;
    RecoverySettings settings_;
    AuthObserver& observer_;
    std::function<void()> mailQueued_;
    MailRequestLimit limit_;
};

}  // namespace authsvc::models
