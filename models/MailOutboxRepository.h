// MailOutboxRepository: the mail_outbox table (migration 0005) and one_time_tokens. SQL
// lives here and only here, always bound. Methods run on a session the caller leased from
// Database (inside read() or write()), so that a service queues a message in the
// transaction of the change it announces.
//
// Claiming is a conditional UPDATE (a lease: owner and expiry), no row lock, so it behaves
// the same on SQLite, PostgreSQL and a Galera cluster: of several senders that try one row,
// exactly one changes it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/Soci.h"

namespace authsvc::models {

// The kinds of mail (mail_outbox.kind).
inline constexpr const char* kMailPasswordReset = "password_reset";
inline constexpr const char* kMailPasswordChanged = "password_changed";
inline constexpr const char* kMailVerifyEmail = "verify_email";
inline constexpr const char* kMailChangeEmail = "change_email";    // to the new address
inline constexpr const char* kMailEmailChanged = "email_changed";  // to the old address
// One-time token purposes (one_time_tokens.purpose).
inline constexpr const char* kPurposePasswordReset = "password_reset";
inline constexpr const char* kPurposeVerifyEmail = "verify_email";
inline constexpr const char* kPurposeChangeEmail = "change_email";  // data: the new address

struct OutboxRow {
    int64_t id = 0;
    std::string kind;
    std::optional<int64_t> userId;
    std::optional<std::string> address;
    int64_t createdMs = 0;
    int attempts = 0;  // attempts before this one
};

struct OutboxStatus {
    int64_t queued = 0;
    int64_t dead = 0;
    std::optional<int64_t> oldestQueuedMs;  // created_ms of the oldest queued row
};

class MailOutboxRepository {
  public:
    // Queues a message due now; returns its id.
    int64_t enqueue(soci::session& s, const std::string& kind, std::optional<int64_t> userId,
                    const std::optional<std::string>& address, int64_t nowMs) const;
    // Ids of up to `limit` queued rows due at nowMs whose lease is free or expired, oldest first.
    std::vector<int64_t> due(soci::session& s, int64_t nowMs, int limit) const;
    // Takes the lease on row `id` for `owner` until leaseUntilMs if it is still queued, due
    // and not leased by anyone else at nowMs; returns the row when this call took it.
    std::optional<OutboxRow> claim(soci::session& s, int64_t id, const std::string& owner,
                                   int64_t nowMs, int64_t leaseUntilMs) const;
    // True while `owner` holds the lease on `id` at nowMs.
    bool holds(soci::session& s, int64_t id, const std::string& owner, int64_t nowMs) const;
    // Ends the row as 'sent' or 'skipped' (only while `owner` holds the lease).
    bool finish(soci::session& s, int64_t id, const std::string& owner, const std::string& status,
                int64_t nowMs) const;
    // A failed attempt: attempts + 1, the error kept, due again at nextAttemptMs, or 'dead'
    // when `dead` (only while `owner` holds the lease).
    bool fail(soci::session& s, int64_t id, const std::string& owner, const std::string& error,
              int64_t nextAttemptMs, bool dead, int64_t nowMs) const;
    OutboxStatus status(soci::session& s) const;
    // Every dead row queued again, due now, attempts from 0; returns how many.
    int64_t retryDead(soci::session& s, int64_t nowMs) const;
    // Deletes up to `limit` sent or skipped rows finished before `beforeMs`; returns how many.
    int64_t purgeDone(soci::session& s, int64_t beforeMs, int limit) const;
    // The dead rows' id, kind and last error, newest first (for `authsvc mail status`).
    std::vector<std::pair<int64_t, std::string>> deadErrors(soci::session& s, int limit) const;
};

struct OneTimeToken {
    int64_t userId = 0;
    std::optional<std::string> data;
};

class OneTimeTokenRepository {
  public:
    // Deletes the user's tokens of `purpose` (a newer one voids the older ones) and stores
    // this one.
    void replace(soci::session& s, const std::string& tokenHashHex, const std::string& purpose,
                 int64_t userId, const std::optional<std::string>& data, int64_t nowMs,
                 int64_t expiresMs) const;
    // Deletes the token if it exists with this purpose and has not expired at nowMs: the
    // user it was for. nullopt for an unknown, used, voided or expired token.
    std::optional<OneTimeToken> consume(soci::session& s, const std::string& tokenHashHex,
                                        const std::string& purpose, int64_t nowMs) const;
    // True if the token exists with this purpose and has not expired at nowMs.
    bool exists(soci::session& s, const std::string& tokenHashHex, const std::string& purpose,
                int64_t nowMs) const;
    // Deletes the expired tokens; returns how many.
    int64_t purgeExpired(soci::session& s, int64_t nowMs) const;
};

}  // namespace authsvc::models
