// Database: a pool of SOCI sessions over SQLite or PostgreSQL, leased with a timeout,
// opened lazily and reopened after a connection failure, so the service starts and
// recovers without a restart. Any thread may call it; a lease belongs to one thread.
// Failures to reach, lock or write the database throw DatabaseUnavailable (-> 503).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/Connection.h"
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

    // Runs f(connection) on a leased, connected session (Connection converts to
    // soci::session&, so f may take either).
    template <typename F>
    auto read(F&& f) {
        Lease lease(*this);
        return guarded(lease, [&] { return f(lease.connection()); });
    }

    // Runs f(connection) inside one write transaction (BEGIN IMMEDIATE on SQLite, so that
    // writers serialise up front instead of failing on lock upgrade) and commits.
    // Rolls back if f throws; f may return any value.
    template <typename F>
    auto write(F&& f) {
        Lease lease(*this);
        return guarded(lease, [&] {
            Connection& c = lease.connection();
            begin(c);
            try {
                if constexpr (std::is_void_v<decltype(f(c))>) {
                    f(c);
                    commit(c);
                } else {
                    auto result = f(c);
                    commit(c);
                    return result;
                }
            } catch (...) {
                rollbackQuietly(c);
                throw;
            }
        });
    }

    // True when the database answers within the timeout (for SQLite: and can be written).
    bool ping();

    // SQLite: copies the write-ahead log into the database file as far as no reader needs
    // it (PRAGMA wal_checkpoint(PASSIVE)), so that the next writer starts the log afresh.
    // The pooled connections leave this to the caller (the maintenance thread) and
    // checkpoint by themselves only past kWalAutoCheckpointPages, the bound on the log.
    // Returns the frames in the log and how many of them are now in the database;
    // PostgreSQL: {0, 0}.
    struct CheckpointResult {
        int64_t logFrames = 0;
        int64_t checkpointedFrames = 0;
    };
    CheckpointResult checkpoint();
    static constexpr int kWalAutoCheckpointPages = 16384;  // 64 MiB at 4 KiB pages

  private:
    class Lease {
      public:
        explicit Lease(Database& db);
        ~Lease();
        Connection& connection() { return *connection_; }
        void markBroken() { broken_ = true; }

      private:
        Database& db_;
        size_t pos_ = 0;
        bool broken_ = false;
        const int exceptionsAtStart_;
        std::optional<Connection> connection_;
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
    void begin(Connection& c) const;
    static void commit(Connection& c);
    static void rollbackQuietly(soci::session& s);

    DatabaseSettings settings_;
    soci::connection_pool pool_;
    std::vector<std::unique_ptr<std::atomic<bool>>> opened_;
    // Per pooled session; declared after pool_ so that statements go before sessions.
    std::vector<std::unique_ptr<PreparedStatements>> prepared_;
};

}  // namespace authsvc::models
