// Migrator: applies the numbered, forward-only migrations embedded in the binary
// (migrations/<dialect>/NNNN_name.sql), each in its own transaction, and records them
// in schema_migrations. Safe to run from several instances at once: exactly one applies
// each migration (PostgreSQL takes an advisory lock; SQLite serialises writers;
// MariaDB/MySQL, a Galera cluster's nodes included, takes a MigrationLock's lease for the
// whole run, and the others wait for it, then find the migrations applied). Call from one
// thread at a time.
// On SQLite the migrations may call unhex() (see SqliteFunctions.h) whatever the version.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "models/Database.h"
#include "verify/Clock.h"

namespace authsvc::models {

class MigrationLock;

struct EmbeddedMigration {
    const char* dialect;  // "sqlite", "postgresql" or "mysql"
    int version;
    const char* name;
    const char* sql;
};
// Generated at build time by migrations/embed.cmake.
const std::vector<EmbeddedMigration>& embeddedMigrations();

// Splits a migration into statements: one ends with ";" at the end of a line.
std::vector<std::string> splitStatements(const std::string& sql);

struct MigrationStatus {
    int version;
    std::string name;
    bool applied;
    int64_t appliedAt;  // epoch seconds, 0 if pending
};

class Migrator {
  public:
    // `extra`: the migrations of a program built on authsvc (app::Extension), applied with
    // authsvc's own in version order. Their versions must not be authsvc's: a clash throws
    // std::invalid_argument (number them from 1001, as examples/extending does).
    Migrator(Database& db, const verify::Clock& clock, std::vector<EmbeddedMigration> extra = {});
    std::vector<MigrationStatus> status();
    // Applies what is pending; returns how many were applied.
    int migrate();
    // MariaDB/MySQL: how long migrate() waits for another instance's lease at most (a dead
    // holder's expires within MigrationLock::kLeaseMs), and how often it looks.
    static constexpr std::chrono::seconds kLockWait{300};
    static constexpr std::chrono::milliseconds kLockPoll{200};

  private:
    std::vector<EmbeddedMigration> mine() const;
    void ensureTable();
    void acquire(MigrationLock& lock);
    // Applies what is pending, refreshing the lease (if any) between statements.
    int applyPending(MigrationLock* lock);

    Database& db_;
    const verify::Clock& clock_;
    std::vector<EmbeddedMigration> extra_;
};

}  // namespace authsvc::models
