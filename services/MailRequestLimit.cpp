#include "services/MailRequestLimit.h"

#include <algorithm>

#include "common/IpAddress.h"
#include "common/Validation.h"

namespace authsvc::models {

MailRequestLimit::MailRequestLimit(int perEmailPerHour, int perIpPerHour,
                                   const verify::Clock& clock, const LimitCounters& counters,
                                   const std::string& scope)
    : perEmail_(perEmailPerHour),
      perIp_(perIpPerHour),
      emails_(counters.make(scope + "_email", std::max(1, perEmailPerHour), kWindowMs, kMaxBytes)),
      ips_(counters.make(scope + "_ip", std::max(1, perIpPerHour), kWindowMs, kMaxBytes)),
      clock_(clock) {}

bool MailRequestLimit::allow(const std::string& email, const std::string& clientIp) {
    const int64_t now = clock_.nowMs();
    if (perIp_ > 0 && ips_->acquire(addressKey(clientIp), now)) return false;
    if (perEmail_ > 0 && emails_->acquire(email, now)) return false;
    return true;
}

bool queueAddressedMail(Database& db, const MailOutboxRepository& outbox, MailRequestLimit& limit,
                        const verify::Clock& clock, const char* kind, const std::string& rawEmail,
                        const std::string& clientIp, const std::function<void()>& mailQueued) {
    const std::string email = normalizeEmail(rawEmail);
    if (emailProblem(email)) return false;
    if (!limit.allow(email, clientIp)) return false;
    const int64_t now = clock.nowMs();
    db.writeTogether([&](Connection& s) { outbox.enqueue(s, kind, std::nullopt, email, now); });
    if (mailQueued) mailQueued();
    return true;
}

}  // namespace authsvc::models
