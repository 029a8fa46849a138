// MailRequestLimit: requests that queue a mail to an address someone names (password
// recovery, resent verification) per address and per client address (addressKey(): IPv6
// by /64) in a sliding hour, in memory per instance or in the database (shared:
// LimitCounters; `scope` keeps two limits' counts apart). A limit of 0 turns that half off.
// Every request that is not refused counts. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "models/Database.h"
#include "models/MailOutboxRepository.h"
#include "services/LimitCounter.h"
#include "verify/Clock.h"

namespace authsvc::models {

class MailRequestLimit {
  public:
    MailRequestLimit(int perEmailPerHour, int perIpPerHour, const verify::Clock& clock,
                     const LimitCounters& counters = memoryLimitCounters(),
                     const std::string& scope = "mail");

    // True when the request may queue a mail (and is counted); `email` normalised.
    bool allow(const std::string& email, const std::string& clientIp);

    static constexpr int64_t kWindowMs = 3600 * 1000;
    static constexpr size_t kMaxBytes = 8 << 20;

  private:
    const int perEmail_, perIp_;
    std::unique_ptr<LimitCounter> emails_;
    std::unique_ptr<LimitCounter> ips_;
    const verify::Clock& clock_;
};

// A request that names an address (forgot, resend): the same work whatever the address,
// so neither the answer nor its time tells whether it has an account. Within `limit`, one
// outbox row of `kind` naming the normalised address is queued (the mail sender resolves
// it later), then `mailQueued` runs (may be empty). False when the address is malformed
// or a limit refused it.
bool queueAddressedMail(Database& db, const MailOutboxRepository& outbox, MailRequestLimit& limit,
                        const verify::Clock& clock, const char* kind, const std::string& rawEmail,
                        const std::string& clientIp, const std::function<void()>& mailQueued);

}  // namespace authsvc::models
