#include "models/Migrator.h"

#include <algorithm>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "models/MigrationLock.h"
#include "models/SqliteFunctions.h"

namespace authsvc::models {
namespace {
constexpr const char* kCreateTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";
constexpr const char* kSelectApplied = "SELECT version, applied_at FROM schema_migrations";
constexpr const char* kIsApplied = "SELECT COUNT(*) FROM schema_migrations WHERE version = :v";
constexpr const char* kRecord =
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (:v, :n, :t)";
constexpr const char* kPgLock = "SELECT pg_advisory_xact_lock(7267363)";

const char* dialectName(Dialect d) {
    switch (d) {
        case Dialect::Sqlite:
            return "sqlite";
        case Dialect::Postgresql:
            return "postgresql";
        case Dialect::Mysql:
            return "mysql";
    }
    return "";
}

}  // namespace

std::vector<std::string> splitStatements(const std::string& sql) {
    std::vector<std::string> out;
    std::string current, line;
    std::istringstream in(sql);
    while (std::getline(in, line)) {
        std::string trimmed = line;
        trimmed.erase(0, trimmed.find_first_not_of(" \t\r"));
        if (trimmed.rfind("--", 0) == 0) continue;
        current += line + "\n";
        auto last = line.find_last_not_of(" \t\r");
        if (last != std::string::npos && line[last] == ';') {
            current.erase(current.find_last_of(';'));
            out.push_back(current);
            current.clear();
        }
    }
    if (current.find_first_not_of(" \t\r\n") != std::string::npos) out.push_back(current);
    return out;
}

Migrator::Migrator(Database& db, const verify::Clock& clock, std::vector<EmbeddedMigration> extra)
    : db_(db), clock_(clock), extra_(std::move(extra)) {
    for (const auto& e : extra_) {
        for (const auto& m : embeddedMigrations()) {
            if (e.version == m.version) {
                throw std::invalid_argument("migration " + std::string(e.name) +
                                            " has the version of authsvc's " + m.name);
            }
        }
    }
}

std::vector<EmbeddedMigration> Migrator::mine() const {
    const std::string dialect = dialectName(db_.dialect());
    std::vector<EmbeddedMigration> out;
    for (const auto* all : {&embeddedMigrations(), &extra_}) {
        for (const auto& m : *all) {
            if (dialect == m.dialect) out.push_back(m);
        }
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.version < b.version; });
    return out;
}

void Migrator::ensureTable() {
    db_.write([&](soci::session& s) {
        if (db_.dialect() == Dialect::Postgresql) s << kPgLock;
        s << kCreateTable;
        if (db_.dialect() == Dialect::Mysql) MigrationLock::ensureTable(s);
    });
}

std::vector<MigrationStatus> Migrator::status() {
    ensureTable();
    std::vector<MigrationStatus> out;
    db_.read([&](soci::session& s) {
        soci::rowset<soci::row> rows = (s.prepare << kSelectApplied);
        std::vector<std::pair<int64_t, int64_t>> applied;
        for (const auto& r : rows) {
            applied.emplace_back(r.get<long long>(0), r.get<long long>(1));
        }
        for (const auto& m : mine()) {
            auto it = std::find_if(applied.begin(), applied.end(),
                                   [&](const auto& a) { return a.first == m.version; });
            out.push_back(
                {m.version, m.name, it != applied.end(), it != applied.end() ? it->second : 0});
        }
    });
    return out;
}

int Migrator::migrate() {
    ensureTable();
    if (db_.dialect() != Dialect::Mysql) return applyPending(nullptr);
    MigrationLock lock(clock_, MigrationLock::newOwner());
    acquire(lock);
    int count = 0;
    try {
        count = applyPending(&lock);
    } catch (...) {
        try {
            db_.autocommit([&](soci::session& s) { lock.release(s); });
        } catch (...) {
            // The others take the lease over when it expires.
        }
        throw;
    }
    db_.autocommit([&](soci::session& s) { lock.release(s); });
    return count;
}

void Migrator::acquire(MigrationLock& lock) {
    const auto until = std::chrono::steady_clock::now() + kLockWait;
    while (!db_.autocommit([&](soci::session& s) { return lock.tryAcquire(s); })) {
        if (std::chrono::steady_clock::now() >= until) {
            throw std::runtime_error("could not take the migration lock within " +
                                     std::to_string(kLockWait.count()) + " s");
        }
        std::this_thread::sleep_for(kLockPoll);
    }
}

int Migrator::applyPending(MigrationLock* lock) {
    int count = 0;
    for (const auto& m : mine()) {
        bool appliedNow = db_.write([&](soci::session& s) {
            if (db_.dialect() == Dialect::Postgresql) s << kPgLock;
            if (lock) lock->refresh(s);
            long long n = 0;
            long long v = m.version;
            s << kIsApplied, soci::use(v), soci::into(n);
            if (n > 0) return false;
            if (db_.dialect() == Dialect::Sqlite) defineSqliteUnhex(s);
            for (const auto& stmt : splitStatements(m.sql)) {
                s << stmt;
                // MySQL commits each DDL statement by itself: the lease outlives long steps.
                if (lock) lock->refresh(s);
            }
            std::string name = m.name;
            long long at = clock_.nowSeconds();
            s << kRecord, soci::use(v), soci::use(name), soci::use(at);
            return true;
        });
        if (appliedNow) ++count;
    }
    return count;
}

}  // namespace authsvc::models
