// Database: a pool of SOCI sessions over SQLite, PostgreSQL or MariaDB/MySQL, leased with a
// timeout, opened lazily and reopened after a connection failure, so the service starts and
// recovers without a restart. Any thread may call it; a lease belongs to one thread.
// Failures to reach, lock or write the database throw DatabaseUnavailable (-> 503).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/Error.h"
#include "models/Connection.h"
#include "models/Soci.h"

namespace authsvc::models {

// The database rolled a transaction back to resolve a conflict with a concurrent one (a
// deadlock, a serialization failure, a lost Galera certification): the same transaction
// may succeed when run again (Database::write() does). Escaping, a DatabaseUnavailable.
class TransactionConflict : public DatabaseUnavailable {
  public:
    using DatabaseUnavailable::DatabaseUnavailable;
};

enum class Dialect { Sqlite, Postgresql, Mysql };

struct DatabaseSettings {
    Dialect dialect = Dialect::Sqlite;
    std::string sqlitePath = "data/authsvc.db";
    std::string postgresqlDsn;
    // false: no statement is named on the server (models/UnnamedStatements.h), as a
    // connection pooler in transaction mode (PgBouncer) needs.
    bool postgresqlPreparedStatements = true;
    std::string mysqlDsn;  // SOCI's MySQL form (models/MysqlDialect.h)
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

    // SQLite (a file path, not :memory: or a file: URI): the database file and its -wal and
    // -shm files are created 0600, and the missing directories above them 0700, whatever
    // the umask. This lists those of the three that exist and that group or others may
    // read (PostgreSQL: none).
    std::vector<std::string> filesReadableByOthers() const;

    // Runs f(connection) on a leased, connected session (Connection converts to
    // soci::session&, so f may take either).
    template <typename F>
    auto read(F&& f) {
        Lease lease(*this);
        return guarded(lease, [&] { return f(lease.connection()); });
    }

    // Runs f(connection) without a transaction of ours: each statement commits by itself
    // (a single statement is one round trip on PostgreSQL).
    template <typename F>
    auto autocommit(F&& f) {
        return read(std::forward<F>(f));
    }

    // Runs f(connection) inside one write transaction (BEGIN IMMEDIATE on SQLite, so that
    // writers serialise up front instead of failing on lock upgrade) and commits.
    // Rolls back if f throws; f may return any value. A transaction the database aborted
    // for a conflict with another (TransactionConflict) runs again, whole, in a new
    // transaction (retryConflicts()): f may run more than once, so what it does outside
    // the database must bear repeating (assigning captured variables does).
    template <typename F>
    auto write(F&& f) {
        return retryConflicts([&] { return writeOnce(f); });
    }

    // Runs attempt() again while it throws TransactionConflict, at most kConflictAttempts
    // times in all, each time after a short random pause (so that two losers do not meet
    // again at once); the last attempt's TransactionConflict goes to the caller (a
    // DatabaseUnavailable: 503). attempt must be a whole transaction: on Galera the loser
    // of a certification learns it at COMMIT (error 1213), although it held its local row
    // locks, and only a new transaction sees the winner's rows.
    template <typename F>
    auto retryConflicts(F&& attempt) {
        for (int n = 1;; ++n) {
            try {
                return attempt();
            } catch (const TransactionConflict&) {
                if (n >= kConflictAttempts) throw;
                conflictRetries_.fetch_add(1, std::memory_order_relaxed);
                pauseAfterConflict(n);
            }
        }
    }
    static constexpr int kConflictAttempts = 5;
    // Transactions run again by retryConflicts() since the start (a metric).
    uint64_t conflictRetries() const { return conflictRetries_.load(std::memory_order_relaxed); }

  private:
    template <typename F>
    auto writeOnce(F&& f) {
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

  public:
    // Like write(), but on SQLite f may share its transaction with the f of other threads
    // calling writeTogether() meanwhile (group commit): one thread at a time runs the
    // waiting f one after another, each inside its own SAVEPOINT, in one BEGIN IMMEDIATE
    // ... COMMIT, and every caller returns only after that COMMIT. So the writers never
    // wait in SQLite's busy handler for each other, and a batch pays one BEGIN, one COMMIT
    // and one write of the log. Each f sees the effects of those before it, exactly as if
    // they had run as separate transactions in that order.
    // - f throws: its savepoint is rolled back, the others are not; the caller gets the
    //   exception (a SOCI error mapped as by write()).
    // - f fails with an error that leaves the transaction unusable (SQLITE_FULL, IOERR,
    //   BUSY ...), or BEGIN or COMMIT fails: nothing of the batch is stored and every caller
    //   gets the exception write() would have given (DatabaseUnavailable: 503).
    // f must not use this Database itself. PostgreSQL: the same as write() (concurrent
    // independent transactions; several instances share the database).
    template <typename F>
    auto writeTogether(F&& f) {
        if (settings_.dialect != Dialect::Sqlite) return write(std::forward<F>(f));
        using R = decltype(f(std::declval<Connection&>()));
        if constexpr (std::is_void_v<R>) {
            GroupJob job([&](Connection& c) { f(c); });
            runTogether(job);
        } else {
            std::optional<R> result;
            GroupJob job([&](Connection& c) { result.emplace(f(c)); });
            runTogether(job);
            return std::move(*result);
        }
    }
    static constexpr size_t kMaxGroup = 64;  // f per transaction at most

    // writeTogether() without a thread waiting for the COMMIT: f joins the same queue, and
    // then(error) runs once its batch committed (error null) or failed (error: what
    // writeTogether() would have thrown), on the thread that ran the batch, after that
    // thread let the next batch start. The caller goes on at once; the batch runs when a
    // thread calls drainTogether() or writeTogether() and none runs, or at once when
    // kMaxGroup jobs wait. So one worker that queues the rotations of several requests
    // before it calls drainTogether() (the database pool does when it runs out of jobs)
    // commits them in one transaction, where writeTogether() needs a thread per rotation
    // and, on one core, ran them one per transaction. f may run on another thread than the
    // caller's and after it returned: it must own what it uses. then must not throw.
    // PostgreSQL, MySQL: f runs at once as write() runs it, then then().
    void writeTogetherLater(std::function<void(Connection&)> f,
                            std::function<void(std::exception_ptr)> then);
    // The group commit's batches committed since the start, and the writes (f) in them
    // (a metric: their ratio is the mean batch size); PostgreSQL, MySQL: {0, 0}.
    struct GroupCommits {
        uint64_t batches = 0;
        uint64_t writes = 0;
    };
    GroupCommits groupCommits() const {
        return {groupBatches_.load(std::memory_order_relaxed),
                groupWrites_.load(std::memory_order_relaxed)};
    }
    // Runs batches while jobs of writeTogetherLater() wait and no other thread runs one
    // (which then runs them): at once if the oldest waited at least `olderThan`, or when
    // `olderThan` is zero; otherwise nothing. Any thread; never throws (errors go to the
    // jobs' then).
    void drainTogether(std::chrono::steady_clock::duration olderThan = {});

    // True when the database answers within the timeout (for SQLite: and can be written).
    bool ping();

    // SQLite: copies the write-ahead log into the database file (PRAGMA
    // wal_checkpoint(PASSIVE)) while writers go on, in rounds until a round finds few new
    // frames. Then, once the log holds `completeAt` frames or more, the frames committed
    // meanwhile, between two writeTogether() batches (their callers wait on a condition
    // variable meanwhile, never in SQLite's busy handler), so that the log is complete and
    // the next writer starts it afresh: under a steady stream of rotations a checkpoint
    // beside the writers never finds the log complete, and the log would grow to its
    // bound. The writers wait for that last part and its two fsyncs (synchronous=NORMAL),
    // which on a slow disk take milliseconds with the core idle: hence the threshold
    // (the maintenance thread, every 100 ms, passes kCompleteLogAt). The pooled
    // connections checkpoint by themselves only past kWalAutoCheckpointPages, the bound on
    // the log. Readers look up only frames not yet copied, so a longer log that is copied
    // costs them nothing.
    // Returns the frames in the log and how many of them are now in the database;
    // PostgreSQL: {0, 0}.
    struct CheckpointResult {
        int64_t logFrames = 0;
        int64_t checkpointedFrames = 0;
    };
    CheckpointResult checkpoint(int64_t completeAt = 0);
    static constexpr int64_t kCompleteLogAt = 8192;        // 32 MiB, half the bound below
    static constexpr int kWalAutoCheckpointPages = 16384;  // 64 MiB at 4 KiB pages
    // A log file that grew past this is truncated back to it when the log restarts.
    static constexpr int64_t kJournalSizeLimitBytes = 64LL << 20;

  private:
    friend struct DatabaseTestPeer;  // tests/unit/support/TestPeers.h
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
            if (isConflict(e)) throw TransactionConflict(e.get_error_message());
            if (isUnavailable(e)) lease.markBroken();
            std::rethrow_exception(mapped(e));
        }
    }

    struct GroupJob {
        explicit GroupJob(std::function<void(Connection&)> f) : run(std::move(f)) {}
        std::function<void(Connection&)> run;
        std::exception_ptr error;
        bool done = false;
        // Set for writeTogetherLater()'s jobs, which the queue owns (deleted after then).
        std::function<void(std::exception_ptr)> then;
        std::chrono::steady_clock::time_point queuedAt;
    };
    // Queues the job and returns when its batch committed; throws the job's error.
    void runTogether(GroupJob& job);
    // With groupMu_ held (by `lock`) and no batch running: takes a batch off the queue,
    // runs it, marks its waiting jobs done, lets the next batch start, then runs the
    // batch's `then`s (without the lock) and takes the lock again.
    void leadOneBatch(std::unique_lock<std::mutex>& lock);
    // With groupMu_ held: runs batches while jobs wait and neither another batch nor the
    // checkpoint runs (whichever does then runs them): the jobs of writeTogetherLater()
    // have no thread of their own waiting for them.
    void leadWhileQueued(std::unique_lock<std::mutex>& lock);
    // Runs a batch in one transaction; never throws (errors go to the jobs).
    void runBatch(const std::vector<GroupJob*>& batch);
    CheckpointResult checkpointNow();
    static constexpr int kCheckpointRounds = 4;
    static constexpr int64_t kCheckpointFewFrames = 256;
    // The exception write() gives for a SOCI error.
    std::exception_ptr mapped(const soci::soci_error& e) const;

    void open(soci::session& s);
    void openPostgresql(soci::session& s);  // as prepared_statements says
    bool isUnavailable(const soci::soci_error& e) const;
    // A deadlock or serialization failure: the transaction was rolled back, the connection
    // is fine (PostgreSQL 40001, 40P01; MySQL 1213, on Galera also a lost certification).
    static bool isConflict(const soci::soci_error& e);
    static void pauseAfterConflict(int attempt);
    std::atomic<uint64_t> conflictRetries_{0};
    void begin(Connection& c) const;
    static void commit(Connection& c);
    static void rollbackQuietly(soci::session& s);

    DatabaseSettings settings_;
    soci::connection_pool pool_;
    std::vector<std::unique_ptr<std::atomic<bool>>> opened_;
    // Per pooled session; declared after pool_ so that statements go before sessions.
    std::vector<std::unique_ptr<PreparedStatements>> prepared_;

    std::mutex groupMu_;
    std::condition_variable groupCv_;
    std::deque<GroupJob*> groupQueue_;  // guarded by groupMu_
    bool groupRunning_ = false;         // a thread runs a batch; guarded by groupMu_
    bool checkpointWaiting_ = false;    // checkpoint() waits to run between two batches
    std::atomic<uint64_t> groupBatches_{0};
    std::atomic<uint64_t> groupWrites_{0};
};

}  // namespace authsvc::models
