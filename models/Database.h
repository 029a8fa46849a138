// Database: a pool of SOCI sessions over SQLite or PostgreSQL, leased with a timeout,
// opened lazily and reopened after a connection failure, so the service starts and
// recovers without a restart. Any thread may call it; a lease belongs to one thread.
// Failures to reach, lock or write the database throw DatabaseUnavailable (-> 503).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/Error.h"
#include "models/Soci.h"

namespace authsvc::models {

enum class Dialect { Sqlite, Postgresql };

struct DatabaseSettings {
    Dialect dialect = Dialect::Sqlite;
    std::string sqlitePath = "data/authsvc.db";
    std::string postgresqlDsn;
    int poolSize = 8;
    std::chrono::milliseconds timeout{5000};
};

class Database {
  public:
    explicit Database(DatabaseSettings settings);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    Dialect dialect() const { return settings_.dialect; }

    // Runs f(session) on a leased, connected session.
    template <typename F>
    auto read(F&& f) {
        Lease lease(*this);
        return guarded(lease, [&] { return f(lease.session()); });
    }

    // Runs f(session) inside one write transaction (BEGIN IMMEDIATE on SQLite, so that
    // writers serialise up front instead of failing on lock upgrade) and commits.
    // Rolls back if f throws; f may return any value.
    template <typename F>
    auto write(F&& f) {
        Lease lease(*this);
        return guarded(lease, [&] {
            soci::session& s = lease.session();
            s << (settings_.dialect == Dialect::Sqlite ? "BEGIN IMMEDIATE" : "BEGIN");
            try {
                if constexpr (std::is_void_v<decltype(f(s))>) {
                    f(s);
                    s << "COMMIT";
                } else {
                    auto result = f(s);
                    s << "COMMIT";
                    return result;
                }
            } catch (...) {
                rollbackQuietly(s);
                throw;
            }
        });
    }

    // True when the database answers within the timeout (for SQLite: and can be written).
    bool ping();

  private:
    class Lease {
      public:
        explicit Lease(Database& db);
        ~Lease();
        soci::session& session();
        void markBroken() { broken_ = true; }

      private:
        Database& db_;
        size_t pos_ = 0;
        bool broken_ = false;
    };

    template <typename F>
    auto guarded(Lease& lease, F&& f) {
        try {
            return f();
        } catch (const soci::soci_error& e) {
            // get_error_message() leaves out SOCI's context, which quotes the bound
            // values (emails) into the text: those must not reach the logs.
            if (isUnavailable(e)) {
                lease.markBroken();
                throw DatabaseUnavailable(e.get_error_message());
            }
            throw std::runtime_error("database error: " + e.get_error_message());
        }
    }

    void open(soci::session& s);
    bool isUnavailable(const soci::soci_error& e) const;
    static void rollbackQuietly(soci::session& s);

    DatabaseSettings settings_;
    soci::connection_pool pool_;
    std::vector<std::unique_ptr<std::atomic<bool>>> opened_;
};

}  // namespace authsvc::models
