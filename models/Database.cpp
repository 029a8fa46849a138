#include "models/Database.h"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <sqlite3.h>

#include "models/GaleraSession.h"
#include "models/MysqlDialect.h"
#include "models/PostgresqlErrors.h"
#include "models/UnnamedStatements.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <exception>
#include <filesystem>
#include <random>
#include <thread>

namespace authsvc::models {

namespace {

// Creates the missing directories of `dir`, each 0700 whatever the umask.
void createPrivateDirectories(const std::filesystem::path& dir) {
    if (dir.empty()) return;
    std::error_code ec;
    if (std::filesystem::exists(dir, ec)) return;
    createPrivateDirectories(dir.parent_path());
    if (::mkdir(dir.c_str(), 0700) == 0) ::chmod(dir.c_str(), 0700);
}

// Creates an empty database file 0600 (whatever the umask) if there is none: SQLite gives
// the -wal and -shm files it creates the database file's permissions.
void createPrivateFile(const std::string& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return;  // there already, or not creatable: SQLite's open will say why
    ::fchmod(fd, 0600);
    ::close(fd);
}

}  // namespace

Database::Database(DatabaseSettings settings)
    : settings_(std::move(settings)), pool_(size_t(settings_.poolSize)) {
    for (int i = 0; i < settings_.poolSize; ++i) {
        opened_.push_back(std::make_unique<std::atomic<bool>>(false));
        prepared_.push_back(std::make_unique<PreparedStatements>());
    }
    const std::string& path = settings_.sqlitePath;
    const bool isFile = !path.empty() && path != ":memory:" && path.rfind("file:", 0) != 0;
    if (settings_.dialect == Dialect::Sqlite && isFile) {
        createPrivateDirectories(std::filesystem::path(settings_.sqlitePath).parent_path());
        createPrivateFile(settings_.sqlitePath);
    }
}

std::vector<std::string> Database::filesReadableByOthers() const {
    std::vector<std::string> out;
    if (settings_.dialect != Dialect::Sqlite) return out;
    for (const char* suffix : {"", "-wal", "-shm"}) {
        const std::string path = settings_.sqlitePath + suffix;
        struct stat st {};
        if (::stat(path.c_str(), &st) == 0 && (st.st_mode & (S_IRGRP | S_IROTH)) != 0) {
            out.push_back(path);
        }
    }
    return out;
}

Database::~Database() = default;

void Database::open(soci::session& s) {
    if (settings_.dialect == Dialect::Sqlite) {
        const long timeoutSeconds = std::max<long>(1, settings_.timeout.count() / 1000);
        // SOCI's connection string is space-separated; quote the path. The busy timeout
        // comes first, so that the pragmas below wait for a lock instead of failing.
        s.open(soci::sqlite3,
               "db=\"" + settings_.sqlitePath + "\" timeout=" + std::to_string(timeoutSeconds));
        s << "PRAGMA busy_timeout=" + std::to_string(settings_.timeout.count());
        // WAL is persistent: switch only a new file (the switch needs an exclusive lock).
        std::string mode;
        s << "PRAGMA journal_mode", soci::into(mode);
        if (mode != "wal") s << "PRAGMA journal_mode=WAL", soci::into(mode);
        // NORMAL in WAL mode: no fsync per commit; a power loss may lose the last commits,
        // never corrupt the database.
        s << "PRAGMA synchronous=NORMAL";
        s << "PRAGMA foreign_keys=ON";
        // Checkpoints are the maintenance thread's (checkpoint()), not the commit of
        // whichever request crosses SQLite's default 1000 pages; a connection checkpoints
        // by itself only when the log passes this bound (the maintenance thread fell
        // behind), and a log that grew that large is truncated back after a checkpoint.
        s << "PRAGMA wal_autocheckpoint=" + std::to_string(kWalAutoCheckpointPages);
        s << "PRAGMA journal_size_limit=" + std::to_string(kJournalSizeLimitBytes);
    } else if (settings_.dialect == Dialect::Mysql) {
        openMysql(s, settings_.mysqlDsn, settings_.timeout);
        useCausalReadsOnGalera(s);
    } else {
        openPostgresql(s);
    }
}

void Database::openPostgresql(soci::session& s) {
    const long timeoutSeconds = std::max<long>(1, settings_.timeout.count() / 1000);
    const std::string dsn =
        settings_.postgresqlDsn + " connect_timeout=" + std::to_string(timeoutSeconds);
    if (!settings_.postgresqlPreparedStatements) {
        // Behind a pooler in transaction mode: nothing may stay on a server connection, no
        // named statement and no SET (NOTICEs are dropped on the client instead).
        s.open(postgresqlWithoutNamedStatements(), dsn);
        return;
    }
    s.open(soci::postgresql, dsn);
    // libpq prints NOTICEs (e.g. "relation ... already exists, skipping" of the
    // migrations) on stderr, into the output of the command line: warnings and worse only.
    s << "SET client_min_messages TO warning";
}

Database::Lease::Lease(Database& db) : db_(db), exceptionsAtStart_(std::uncaught_exceptions()) {
    if (!db_.pool_.try_lease(pos_, int(db_.settings_.timeout.count()))) {
        throw DatabaseUnavailable("timed out waiting for a database connection");
    }
    try {
        auto& opened = *db_.opened_[pos_];
        soci::session& s = db_.pool_.at(pos_);
        PreparedStatements& prepared = *db_.prepared_[pos_];
        if (!opened.load()) {
            // Statements prepared on the old connection go first: they use its handle.
            prepared.clear();
            // A session whose connection broke still holds its backend (is_connected()
            // is false, yet open() would refuse "already connected"): always close first.
            try {
                s.close();
            } catch (const std::exception&) {
                // Closing a dead connection may fail; the backend is released anyway.
            }
            db_.open(s);
            opened = true;
        }
        connection_.emplace(s, prepared, db_.settings_.dialect == Dialect::Sqlite);
    } catch (const std::exception& e) {
        db_.pool_.give_back(pos_);
        throw DatabaseUnavailable(std::string("cannot open the database: ") + e.what());
    }
}

Database::Lease::~Lease() {
    // After a failure the state of a prepared statement is not known: prepare again.
    if (broken_ || std::uncaught_exceptions() > exceptionsAtStart_) db_.prepared_[pos_]->clear();
    if (broken_) *db_.opened_[pos_] = false;  // reopen on next lease
    connection_.reset();
    db_.pool_.give_back(pos_);
}

bool Database::isUnavailable(const soci::soci_error& e) const {
    if (auto* lite = dynamic_cast<const soci::sqlite3_soci_error*>(&e)) {
        switch (lite->result() & 0xff) {
            case SQLITE_BUSY:
            case SQLITE_LOCKED:
            case SQLITE_READONLY:
            case SQLITE_IOERR:
            case SQLITE_FULL:
            case SQLITE_CANTOPEN:
            case SQLITE_PROTOCOL:
            case SQLITE_NOMEM:
                return true;
            default:
                return false;
        }
    }
    if (auto* pg = dynamic_cast<const soci::postgresql_soci_error*>(&e)) {
        return e.get_error_category() == soci::soci_error::connection_error ||
               isPostgresqlUnavailable(pg->sqlstate(), e.get_error_message());
    }
    if (mysqlErrorNumber(e) != 0) return mysqlErrorIsUnavailable(e);
    // Errors raised by SOCI itself about the connection (e.g. "connection is closed").
    return e.get_error_category() == soci::soci_error::connection_error;
}

bool Database::isConflict(const soci::soci_error& e) {
    if (auto* pg = dynamic_cast<const soci::postgresql_soci_error*>(&e)) {
        const std::string state = pg->sqlstate();
        return state == "40001" || state == "40P01";  // serialization failure, deadlock
    }
    return mysqlErrorNumber(e) == 1213;  // ER_LOCK_DEADLOCK; on Galera: lost certification
}

void Database::pauseAfterConflict(int attempt) {
    // 1-4 ms after the first loss, up to 8-16 ms after the fourth: the winner's rows reach
    // this node meanwhile, and two losers do not start again in step.
    thread_local std::minstd_rand random{std::random_device{}()};
    const int base = 1 << std::min(attempt - 1, 3);
    std::uniform_int_distribution<int> micros(base * 1000, base * 4000);
    std::this_thread::sleep_for(std::chrono::microseconds(micros(random)));
}

namespace {
// Transaction control, prepared once per session like any hot statement.
template <const char* Sql>
struct Plain {
    soci::statement st;
    explicit Plain(soci::session& s) : st(s.prepare << Sql) {}
};
constexpr char kBegin[] = "BEGIN";
constexpr char kBeginImmediate[] = "BEGIN IMMEDIATE";
constexpr char kCommit[] = "COMMIT";
constexpr char kCheckpoint[] = "PRAGMA wal_checkpoint(PASSIVE)";
constexpr char kSavepoint[] = "SAVEPOINT together";
constexpr char kRelease[] = "RELEASE together";
constexpr char kRollbackTo[] = "ROLLBACK TO together";
}  // namespace

std::exception_ptr Database::mapped(const soci::soci_error& e) const {
    // get_error_message() leaves out SOCI's context, which quotes the bound values
    // (emails) into the text: those must not reach the logs.
    if (isUnavailable(e))
        return std::make_exception_ptr(DatabaseUnavailable(e.get_error_message()));
    std::string hint;
    if (auto* pg = dynamic_cast<const soci::postgresql_soci_error*>(&e))
        hint = namedStatementHint(pg->sqlstate());
    return std::make_exception_ptr(
        std::runtime_error("database error: " + e.get_error_message() + hint));
}

void Database::runTogether(GroupJob& job) {
    std::unique_lock<std::mutex> lock(groupMu_);
    groupQueue_.push_back(&job);
    while (!job.done) {
        if (groupRunning_ || checkpointWaiting_) {
            groupCv_.wait(lock);
            continue;
        }
        // Nobody runs a batch: this thread runs one with everything waiting (in order).
        leadOneBatch(lock);
    }
    // Jobs of writeTogetherLater() queued meanwhile have no thread waiting for them.
    leadWhileQueued(lock);
    lock.unlock();
    if (job.error) std::rethrow_exception(job.error);
}

void Database::leadOneBatch(std::unique_lock<std::mutex>& lock) {
    groupRunning_ = true;
    std::vector<GroupJob*> batch;
    while (!groupQueue_.empty() && batch.size() < kMaxGroup) {
        batch.push_back(groupQueue_.front());
        groupQueue_.pop_front();
    }
    lock.unlock();
    runBatch(batch);
    lock.lock();
    std::vector<GroupJob*> later;
    for (GroupJob* j : batch) {
        if (j->then)
            later.push_back(j);
        else
            j->done = true;
    }
    groupRunning_ = false;
    // Wakes the callers of this batch, and one waiting caller runs the next batch.
    groupCv_.notify_all();
    if (later.empty()) return;
    lock.unlock();
    for (GroupJob* j : later) {
        std::unique_ptr<GroupJob> owned(j);
        try {
            owned->then(owned->error);
        } catch (...) {
            // then must not throw; if it did, the other jobs' then still run.
        }
    }
    lock.lock();
}

void Database::leadWhileQueued(std::unique_lock<std::mutex>& lock) {
    while (!groupQueue_.empty() && !groupRunning_ && !checkpointWaiting_) leadOneBatch(lock);
}

void Database::writeTogetherLater(std::function<void(Connection&)> f,
                                  std::function<void(std::exception_ptr)> then) {
    if (settings_.dialect != Dialect::Sqlite) {
        std::exception_ptr error;
        try {
            write(f);
        } catch (...) {
            error = std::current_exception();
        }
        then(error);
        return;
    }
    auto job = std::make_unique<GroupJob>(std::move(f));
    job->then = std::move(then);
    job->queuedAt = std::chrono::steady_clock::now();
    std::unique_lock<std::mutex> lock(groupMu_);
    groupQueue_.push_back(job.release());
    if (groupQueue_.size() < kMaxGroup) return;
    leadWhileQueued(lock);
}

void Database::drainTogether(std::chrono::steady_clock::duration olderThan) {
    std::unique_lock<std::mutex> lock(groupMu_);
    if (groupQueue_.empty()) return;
    if (olderThan.count() > 0 &&
        std::chrono::steady_clock::now() - groupQueue_.front()->queuedAt < olderThan) {
        return;
    }
    leadWhileQueued(lock);
}

void Database::runBatch(const std::vector<GroupJob*>& batch) {
    try {
        Lease lease(*this);
        guarded(lease, [&] {
            Connection& c = lease.connection();
            begin(c);
            try {
                for (GroupJob* j : batch) {
                    c.execute(c.prepared<Plain<kSavepoint>>().st);
                    try {
                        j->run(c);
                    } catch (const soci::soci_error& e) {
                        // SQLite may have rolled the whole transaction back: fail the batch.
                        if (isUnavailable(e)) throw;
                        j->error = mapped(e);
                    } catch (...) {
                        j->error = std::current_exception();
                    }
                    if (j->error) {
                        c.forgetPrepared();  // their state after a failure is not known
                        c.execute(c.prepared<Plain<kRollbackTo>>().st);
                    }
                    c.execute(c.prepared<Plain<kRelease>>().st);
                }
                commit(c);
                groupBatches_.fetch_add(1, std::memory_order_relaxed);
                groupWrites_.fetch_add(batch.size(), std::memory_order_relaxed);
            } catch (...) {
                rollbackQuietly(c);
                throw;
            }
        });
    } catch (const DatabaseUnavailable& e) {
        // Nothing of the batch is stored: every caller gets what write() would give, as
        // an exception object of its own (they are rethrown on several threads).
        for (GroupJob* j : batch) j->error = std::make_exception_ptr(DatabaseUnavailable(e.what()));
    } catch (const std::exception& e) {
        for (GroupJob* j : batch) j->error = std::make_exception_ptr(std::runtime_error(e.what()));
    } catch (...) {
        for (GroupJob* j : batch) {
            j->error = std::make_exception_ptr(std::runtime_error("database error"));
        }
    }
}

void Database::begin(Connection& c) const {
    if (settings_.dialect == Dialect::Sqlite) {
        c.execute(c.prepared<Plain<kBeginImmediate>>().st);
    } else {
        c.execute(c.prepared<Plain<kBegin>>().st);
    }
}

void Database::commit(Connection& c) {
    c.execute(c.prepared<Plain<kCommit>>().st);
}

Database::CheckpointResult Database::checkpoint(int64_t completeAt) {
    if (settings_.dialect != Dialect::Sqlite) return {};
    // Beside the writers, until a round finds few new frames: the writers then wait only
    // for the copy of those.
    CheckpointResult beside;
    for (int round = 0; round < kCheckpointRounds; ++round) {
        const int64_t before = beside.logFrames;
        beside = checkpointNow();
        if (beside.logFrames < before + kCheckpointFewFrames) break;
    }
    // -1: a round could not run (SQLite busy); the round below, with the writers
    // stopped, then decides.
    if (beside.logFrames >= 0 && beside.logFrames < completeAt) return beside;
    std::unique_lock<std::mutex> lock(groupMu_);
    checkpointWaiting_ = true;
    groupCv_.wait(lock, [this] { return !groupRunning_; });
    groupRunning_ = true;  // no batch starts until the rest is copied
    checkpointWaiting_ = false;
    lock.unlock();
    CheckpointResult result;
    std::exception_ptr error;
    try {
        result = checkpointNow();
    } catch (...) {
        error = std::current_exception();
    }
    lock.lock();
    groupRunning_ = false;
    groupCv_.notify_all();
    // Jobs of writeTogetherLater() queued meanwhile have no thread waiting for them.
    leadWhileQueued(lock);
    lock.unlock();
    if (error) std::rethrow_exception(error);
    return result;
}

Database::CheckpointResult Database::checkpointNow() {
    return read([](soci::session& s) {
        int busy = 0;
        long long log = 0, done = 0;
        s << kCheckpoint, soci::into(busy), soci::into(log), soci::into(done);
        return CheckpointResult{log, done};
    });
}

void Database::rollbackQuietly(soci::session& s) {
    try {
        s << "ROLLBACK";
    } catch (...) {
        // The transaction is gone with the connection; nothing to undo.
    }
}

bool Database::ping() {
    try {
        if (settings_.dialect == Dialect::Sqlite) {
            // Reading works on a file that can no longer be written; taking the write
            // lock does not (and an empty transaction writes nothing).
            write([](soci::session&) {});
            return true;
        }
        return read([](soci::session& s) {
            int one = 0;
            s << "SELECT 1", soci::into(one);
            return one == 1;
        });
    } catch (const std::exception&) {
        return false;
    }
}

}  // namespace authsvc::models
