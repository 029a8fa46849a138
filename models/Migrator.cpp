#include "models/Migrator.h"

#include <algorithm>
#include <set>
#include <sstream>
#include <stdexcept>

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
// MySQL: a named lock of the session (DDL commits by itself, so no transaction holds it),
// released at the end of each migration. Named locks are the server's: the name holds the
// database's, so that instances on other databases of the server do not wait.
constexpr const char* kMysqlLock =
    "SELECT GET_LOCK(CONCAT('authsvc_migrations.', DATABASE()), 60)";
constexpr const char* kMysqlUnlock =
    "SELECT RELEASE_LOCK(CONCAT('authsvc_migrations.', DATABASE()))";

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

// Runs f holding the MySQL migration lock (other dialects: just f).
template <typename F>
auto withMysqlLock(Dialect d, soci::session& s, F&& f) {
    if (d != Dialect::Mysql) return f();
    int got = 0;
    soci::indicator ind = soci::i_null;
    s << kMysqlLock, soci::into(got, ind);
    if (ind != soci::i_ok || got != 1) {
        throw std::runtime_error("could not take the migration lock within 60 s");
    }
    try {
        auto result = f();
        s << kMysqlUnlock, soci::into(got, ind);
        return result;
    } catch (...) {
        try {
            s << kMysqlUnlock, soci::into(got, ind);
        } catch (...) {
            // The connection is gone, and the lock with it.
        }
        throw;
    }
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
    int count = 0;
    for (const auto& m : mine()) {
        bool appliedNow = db_.write([&](soci::session& s) {
            return withMysqlLock(db_.dialect(), s, [&] {
                if (db_.dialect() == Dialect::Postgresql) s << kPgLock;
                long long n = 0;
                long long v = m.version;
                s << kIsApplied, soci::use(v), soci::into(n);
                if (n > 0) return false;
                if (db_.dialect() == Dialect::Sqlite) defineSqliteUnhex(s);
                for (const auto& stmt : splitStatements(m.sql)) s << stmt;
                std::string name = m.name;
                long long at = clock_.nowSeconds();
                s << kRecord, soci::use(v), soci::use(name), soci::use(at);
                return true;
            });
        });
        if (appliedNow) ++count;
    }
    return count;
}

}  // namespace authsvc::models
