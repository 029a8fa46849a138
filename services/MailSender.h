// MailSender: delivers the mail_outbox (models/MailOutboxRepository) at least once. On each
// round it claims due rows with a lease (a conditional UPDATE: owner and expiry, so several
// instances never send one row at once while a lease lasts), composes each message, hands
// it to the MailTransport and records the outcome: 'sent'; 'skipped' when there is nothing
// to send (a recovery request for an address without an account, a notice for a deleted
// user); after a failure due again with backoff (retryInitial doubling up to an hour),
// 'dead' with the error kept after maxAttempts. A row whose sender died (kill -9, crash)
// is claimed again once its lease expired: a restart loses no mail; a message may then go
// out twice.
//
// Recovery and verification links are minted when the message is composed (in a transaction that
// checks the lease is still held): the token is never stored in clear, not even in the outbox, and
// a request for an unknown address costs the requester the same as for a known one. Each attempt
// mints a new token, which voids the older ones: the newest mail's link works.
//
// runOnce() is one round at the injected clock (tests call it directly); start() runs
// rounds on a thread of its own every pollInterval, or sooner after wake(). Thread-safe:
// wake() from any thread; start()/stop() from one.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "models/Database.h"
#include "models/MailOutboxRepository.h"
#include "models/UserRepository.h"
#include "services/MailTransport.h"
#include "verify/Clock.h"

namespace authsvc::models {

struct MailSettings {
    std::string from = "authsvc <no-reply@localhost>";
    std::string linkBaseUrl;   // links: <linkBaseUrl>/reset?token=...
    std::string templatesDir;  // optional <kind>.txt overrides of the built-in templates
    int64_t recoveryTtlMs = 30 * 60 * 1000;
    int64_t verifyTtlMs = 24LL * 3600 * 1000;  // email verification links
    int maxAttempts = 15;
    std::chrono::milliseconds retryInitial{5000};
    std::chrono::milliseconds retryMax{3600 * 1000};
    std::chrono::milliseconds lease{60000};  // longer than one transport call may take
    std::chrono::milliseconds pollInterval{1000};
    int batch = 20;                           // rows claimed per round at most
    int64_t keepDoneMs = 24LL * 3600 * 1000;  // sent and skipped rows kept this long
};

// What a round reports (metrics, log). Called on the sender's thread.
struct MailEvents {
    // kind, result ("sent", "skipped", "retry", "dead"), the error for retry and dead.
    std::function<void(const std::string&, const std::string&, const std::string&)> onResult;
    std::function<void(const OutboxStatus&)> onDepth;
};

// The delay before attempt n+1 after n failed attempts (n >= 1): initial * 2^(n-1), at most max.
std::chrono::milliseconds mailBackoff(int failedAttempts, std::chrono::milliseconds initial,
                                      std::chrono::milliseconds max);

class MailSender {
  public:
    MailSender(Database& db, const UserRepository& users, const MailOutboxRepository& outbox,
               const OneTimeTokenRepository& tokens, MailTransport& transport,
               const verify::Clock& clock, MailSettings settings, MailEvents events = {});
    ~MailSender();  // stops the thread
    MailSender(const MailSender&) = delete;
    MailSender& operator=(const MailSender&) = delete;

    // One round: claims and handles up to settings.batch due rows; returns how many it
    // handled. Database errors are thrown (the thread logs them and tries again later).
    int runOnce();
    void start();
    void stop();
    void wake();

    const std::string& owner() const { return owner_; }
    // The template of a kind as used (built-in or from templates_dir).
    const std::string& templateFor(const std::string& kind) const;

  private:
    struct Composed {
        bool skip = false;
        std::string to;
        std::string message;
    };
    Composed compose(const OutboxRow& row);
    void handle(const OutboxRow& row);
    void loop();

    Database& db_;
    const UserRepository& users_;
    const MailOutboxRepository& outbox_;
    const OneTimeTokenRepository& tokens_;
    MailTransport& transport_;
    const verify::Clock& clock_;
    MailSettings settings_;
    MailEvents events_;
    std::string owner_;
    std::map<std::string, std::string> templates_;
    // Sent and skipped rows past keepDoneMs, and expired tokens, are deleted once a minute.
    static constexpr int64_t kPurgeIntervalMs = 60000;
    int64_t nextPurgeMs_ = 0;  // the sender's thread (or runOnce's caller) only

    std::mutex mu_;
    std::condition_variable cv_;
    bool stop_ = false;
    bool woken_ = false;
    std::thread thread_;
};

}  // namespace authsvc::models
