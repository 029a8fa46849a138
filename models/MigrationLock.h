// MigrationLock: the lease under which one Migrator, of any instance on any node, applies
// the migrations of a MariaDB/MySQL database, including a multi-primary Galera cluster,
// where GET_LOCK and row locks hold on one node only. The lease is the one row of
// schema_migrations_lock (a primary key), taken by a plain INSERT: a duplicate key, or a
// lost certification against another node's INSERT, means another owner holds it. A lease
// expires kLeaseMs after it was taken or last refreshed (by the injected clock), so that a
// holder that died blocks the others no longer than that: an expired lease is taken over
// by an UPDATE conditional on its old owner and expiry (of two taking it over at once, one
// changes the row). The statements commit by themselves: call with no transaction open,
// except refresh(). One thread at a time per object.
#pragma once

#include <cstdint>
#include <string>

#include "models/Soci.h"
#include "verify/Clock.h"

namespace authsvc::models {

class MigrationLock {
  public:
    static constexpr int64_t kLeaseMs = 120'000;
    // `owner`: this holder's name, unique among the instances (host:pid:random).
    MigrationLock(const verify::Clock& clock, std::string owner);
    // A fresh owner name for this process.
    static std::string newOwner();

    // CREATE TABLE IF NOT EXISTS (DDL: replicated in total order on Galera).
    static void ensureTable(soci::session& s);
    // One attempt, without waiting: true when this owner holds the lease now (it inserted
    // the row, took over an expired lease, or held it already). Throws for a database
    // error other than losing to another owner.
    bool tryAcquire(soci::session& s);
    // Extends the lease from now; throws std::runtime_error when this owner no longer
    // holds it (another took it over after it expired).
    void refresh(soci::session& s);
    // Deletes the row if this owner holds it (else nothing).
    void release(soci::session& s);
    const std::string& owner() const { return owner_; }

  private:
    const verify::Clock& clock_;
    std::string owner_;
};

}  // namespace authsvc::models
