#include "models/MigrationLock.h"

#include <unistd.h>

#include <stdexcept>
#include <utility>

#include "common/Crypto.h"
#include "models/MysqlDialect.h"

namespace authsvc::models {
namespace {
constexpr const char* kCreateLockTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations_lock (id INT NOT NULL PRIMARY KEY, "
    "owner VARCHAR(128) NOT NULL, expires_ms BIGINT NOT NULL) ENGINE=InnoDB";
constexpr const char* kLockTake =
    "INSERT INTO schema_migrations_lock (id, owner, expires_ms) VALUES (1, :o, :e)";
constexpr const char* kLockHolder =
    "SELECT owner, expires_ms FROM schema_migrations_lock WHERE id = 1";
constexpr const char* kLockTakeOver =
    "UPDATE schema_migrations_lock SET owner = :o, expires_ms = :e "
    "WHERE id = 1 AND owner = :old AND expires_ms = :oldE";
constexpr const char* kLockRefresh =
    "UPDATE schema_migrations_lock SET expires_ms = :e WHERE id = 1 AND owner = :o";
constexpr const char* kLockRelease =
    "DELETE FROM schema_migrations_lock WHERE id = 1 AND owner = :o";
}  // namespace

MigrationLock::MigrationLock(const verify::Clock& clock, std::string owner)
    : clock_(clock), owner_(std::move(owner)) {}

std::string MigrationLock::newOwner() {
    crypto::init();
    char host[256] = {0};
    ::gethostname(host, sizeof host - 1);
    return std::string(host).substr(0, 64) + ":" + std::to_string(::getpid()) + ":" +
           crypto::hex(crypto::randomBytes(6));
}

void MigrationLock::ensureTable(soci::session& s) {
    s << kCreateLockTable;
}

bool MigrationLock::tryAcquire(soci::session& s) {
    long long expires = clock_.nowMs() + kLeaseMs;
    try {
        s << kLockTake, soci::use(owner_), soci::use(expires);
        return true;
    } catch (const soci::soci_error& e) {
        // 1062: the row is there; 1213: another node's INSERT won the certification. Any
        // other error (the connection) goes to the caller.
        const unsigned n = mysqlErrorNumber(e);
        if (n != 1062 && n != 1213) throw;
    }
    std::string holder;
    long long holderExpires = 0;
    s << kLockHolder, soci::into(holder), soci::into(holderExpires);
    if (!s.got_data()) return false;  // released meanwhile: the next attempt may take it
    if (holder == owner_) return true;
    if (holderExpires > clock_.nowMs()) return false;
    // Expired: its holder died (or stalled past the lease). Take it over unless another
    // waiter did first.
    expires = clock_.nowMs() + kLeaseMs;
    try {
        soci::statement st = (s.prepare << kLockTakeOver, soci::use(owner_), soci::use(expires),
                              soci::use(holder), soci::use(holderExpires));
        st.execute(true);
        return st.get_affected_rows() == 1;
    } catch (const soci::soci_error& e) {
        if (mysqlErrorNumber(e) != 1213) throw;
        return false;  // another node's takeover won the certification
    }
}

void MigrationLock::refresh(soci::session& s) {
    long long expires = clock_.nowMs() + kLeaseMs;
    soci::statement st = (s.prepare << kLockRefresh, soci::use(expires), soci::use(owner_));
    st.execute(true);
    // MySQL counts the rows changed: a refresh within the same millisecond changes none,
    // so look whether the row is still ours.
    if (st.get_affected_rows() == 1) return;
    std::string holder;
    s << kLockHolder, soci::into(holder);
    if (!s.got_data() || holder != owner_) {
        throw std::runtime_error("the migration lock was taken over by " +
                                 (s.got_data() ? holder : std::string("nobody")) +
                                 " (its lease expired)");
    }
}

void MigrationLock::release(soci::session& s) {
    s << kLockRelease, soci::use(owner_);
}

}  // namespace authsvc::models
