// Database on a real SQLite file: statements prepared once per pooled session, forgotten
// after a failure and before a reopen; checkpoints left to checkpoint() with the log
// bounded; a looked-up row does not pin the log.
#include "models/Database.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <thread>

#include <soci/sqlite3/soci-sqlite3.h>

#include "models/Migrator.h"
#include "models/RefreshTokenRepository.h"
#include "support/TestSupport.h"

namespace {

using namespace authsvc::models;
using authsvc::testing::inOneBatch;
using authsvc::testing::TempDir;
using authsvc::verify::ManualClock;

// A statement that counts how often it is prepared and destroyed.
struct Probe {
    static inline int prepared = 0;
    static inline int destroyed = 0;
    long long value = 0;
    soci::statement st;
    explicit Probe(soci::session& s) : st((s.prepare << "SELECT 42", soci::into(value))) {
        ++prepared;
    }
    ~Probe() { ++destroyed; }
};

class DatabaseTest : public ::testing::Test {
  protected:
    DatabaseTest() {
        Probe::prepared = Probe::destroyed = 0;
        settings.dialect = Dialect::Sqlite;
        settings.sqlitePath = (dir.path() / "auth.db").string();
        settings.poolSize = 1;
        settings.timeout = std::chrono::milliseconds(200);
        db = std::make_unique<Database>(settings);
        Migrator(*db, clock).migrate();
    }
    long long probe() {
        return db->read([](Connection& c) {
            auto& p = c.prepared<Probe>();
            p.value = 0;
            EXPECT_TRUE(c.queryOne(p.st, [] {}));
            return p.value;
        });
    }
    std::uintmax_t walBytes() {
        std::error_code ec;
        auto n = std::filesystem::file_size(settings.sqlitePath + "-wal", ec);
        return ec ? 0 : n;
    }
    // One write transaction touching about `pages` pages of 4 KiB.
    void writePages(int pages) {
        db->write([&](soci::session& s) {
            s << "CREATE TABLE IF NOT EXISTS filler (x BLOB)";
            for (int i = 0; i < pages; ++i) s << "INSERT INTO filler VALUES (zeroblob(4000))";
        });
    }

    // A user with one family holding the unused token "hash-1" (token id 1).
    void seedToken(const RefreshTokenRepository& tokens) {
        db->write([&](Connection& c) {
            c.session() << "INSERT INTO users (email, password_hash, created_at) "
                           "VALUES ('a@example.com', 'x', 0)";
            tokens.createFamily(c, "fam", 1, 0, 1000);
            tokens.insertToken(c, "fam", "hash-1", std::nullopt, 0);
        });
    }

    // writeTogether(f) where f inserts `name` into table `names` and then runs `then`;
    // records the exception and the thread f ran on.
    struct Call {
        explicit Call(std::string n) : name(std::move(n)) {}
        std::string name;
        std::function<void(soci::session&)> then = [](soci::session&) {};
        std::exception_ptr error;
        std::thread::id ranOn;
    };
    std::function<void()> together(Call& call) {
        return [this, &call] {
            try {
                db->writeTogether([&](Connection& c) {
                    call.ranOn = std::this_thread::get_id();
                    c.session() << "INSERT INTO names (name) VALUES (:n)", soci::use(call.name);
                    call.then(c);
                });
            } catch (...) {
                call.error = std::current_exception();
            }
        };
    }
    std::vector<std::string> names() {
        std::vector<std::string> out(100);
        db->read([&](soci::session& s) {
            s << "SELECT name FROM names ORDER BY name", soci::into(out);
        });
        return out;
    }
    void createNames() {
        db->write([](soci::session& s) { s << "CREATE TABLE names (name TEXT)"; });
    }
    static std::string messageOf(std::exception_ptr e) {
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            return x.what();
        }
    }

    TempDir dir;
    ManualClock clock;
    DatabaseSettings settings;
    std::unique_ptr<Database> db;
};

TEST_F(DatabaseTest, AStatementIsPreparedOncePerSession) {
    EXPECT_EQ(probe(), 42);
    EXPECT_EQ(probe(), 42);
    EXPECT_EQ(probe(), 42);
    EXPECT_EQ(Probe::prepared, 1);
}

TEST_F(DatabaseTest, AFailureForgetsThePreparedStatementsOfThatSession) {
    EXPECT_EQ(probe(), 42);
    EXPECT_THROW(db->read([](soci::session& s) { s << "SELECT * FROM no_such_table"; }),
                 std::runtime_error);
    EXPECT_EQ(Probe::destroyed, 1);
    EXPECT_EQ(probe(), 42);
    EXPECT_EQ(Probe::prepared, 2);
}

TEST_F(DatabaseTest, PreparedStatementsGoBeforeTheSessionIsReopenedAndWorkAfterwards) {
    RefreshTokenRepository tokens;
    seedToken(tokens);
    EXPECT_EQ(probe(), 42);
    ASSERT_TRUE(db->read([&](Connection& c) { return tokens.findByHash(c, "hash-1"); }));
    {
        // Another connection holds the write lock past the timeout: unavailable, and the
        // pooled session is reopened on its next lease.
        soci::session other(soci::sqlite3, "db=\"" + settings.sqlitePath + "\"");
        other << "BEGIN EXCLUSIVE";
        EXPECT_THROW(db->write([&](Connection& c) { tokens.markUsed(c, "fam", 1, 5, "hash-2"); }),
                     DatabaseUnavailable);
        other << "ROLLBACK";
    }
    EXPECT_EQ(Probe::destroyed, 1);
    db->write([&](Connection& c) {
        EXPECT_TRUE(tokens.markUsed(c, "fam", 1, 5, "hash-2"));
        tokens.insertToken(c, "fam", "hash-2", 1, 5);
    });
    auto rec = db->read([&](Connection& c) { return tokens.findByHash(c, "hash-1"); });
    ASSERT_TRUE(rec);
    EXPECT_EQ(rec->usedMs, 5);
    EXPECT_EQ(rec->successorHash, "hash-2");
    EXPECT_TRUE(db->read([&](Connection& c) { return tokens.findByHash(c, "hash-2"); }));
    EXPECT_FALSE(db->read([&](Connection& c) { return tokens.findByHash(c, "hash-3"); }));
    EXPECT_EQ(probe(), 42);
    EXPECT_EQ(Probe::prepared, 2);
}

TEST_F(DatabaseTest, CommitsLeaveCheckpointsToCheckpoint) {
    // SQLite's default would checkpoint inside the commit that passes 1000 pages.
    for (int i = 0; i < 12; ++i) writePages(100);
    auto r = db->checkpoint();
    EXPECT_GE(r.logFrames, 1200) << "a commit checkpointed the log by itself";
    EXPECT_EQ(r.checkpointedFrames, r.logFrames);
}

TEST_F(DatabaseTest, AfterACheckpointTheLogStartsAgainInsteadOfGrowing) {
    writePages(300);
    db->checkpoint();
    const auto size = walBytes();
    ASSERT_GT(size, 300u * 4096);
    for (int i = 0; i < 3; ++i) {
        writePages(300);
        auto r = db->checkpoint();
        EXPECT_EQ(r.checkpointedFrames, r.logFrames);
        EXPECT_LE(r.logFrames, 400) << "the log was not restarted";
    }
    EXPECT_LE(walBytes(), size);
}

TEST_F(DatabaseTest, ACheckpointCompletesWhileRotationsKeepWriting) {
    // Without waiting for a gap between batches, a checkpoint beside a steady stream of
    // writers never finds the whole log copied, and the log never restarts.
    settings.poolSize = 3;
    db = std::make_unique<Database>(settings);
    createNames();
    std::atomic<bool> stop{false};
    std::atomic<int> written{0};
    std::thread writer([&] {
        while (!stop) {
            db->writeTogether([](soci::session& s) {
                s << "INSERT INTO names (name) VALUES (hex(randomblob(2000)))";
            });
            ++written;
        }
    });
    for (int i = 0; i < 5; ++i) {
        const int before = written;
        while (written < before + 50) std::this_thread::yield();
        auto r = db->checkpoint();
        EXPECT_GT(r.logFrames, 0);
        EXPECT_EQ(r.checkpointedFrames, r.logFrames) << "round " << i;
    }
    stop = true;
    writer.join();
}

TEST_F(DatabaseTest, BelowItsThresholdACheckpointLeavesTheWritersAlone) {
    // Completing the log stops the writers for its last frames and two fsyncs; below
    // `completeAt` frames a checkpoint copies beside them and returns.
    settings.poolSize = 3;
    db = std::make_unique<Database>(settings);
    createNames();
    writePages(50);
    std::promise<void> inBatch, release;
    auto gate = release.get_future().share();
    std::thread writer([&] {
        db->writeTogether([&](soci::session& s) {
            s << "INSERT INTO names (name) VALUES ('held')";
            inBatch.set_value();
            gate.wait();
        });
    });
    inBatch.get_future().wait();
    auto below = std::async(std::launch::async, [&] { return db->checkpoint(1'000'000); });
    EXPECT_EQ(below.wait_for(std::chrono::seconds(10)), std::future_status::ready)
        << "a checkpoint below its threshold waited for a batch";
    auto complete = std::async(std::launch::async, [&] { return db->checkpoint(0); });
    EXPECT_EQ(complete.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout)
        << "completing the log did not wait for the running batch";
    release.set_value();
    writer.join();
    const auto r = complete.get();
    EXPECT_GT(r.logFrames, 0);
    EXPECT_EQ(r.checkpointedFrames, r.logFrames);
    EXPECT_GT(below.get().logFrames, 0);
}

TEST_F(DatabaseTest, TheLogIsBoundedWhenNobodyCheckpoints) {
    const int pages = Database::kWalAutoCheckpointPages;
    for (int written = 0; written < pages + 2000; written += 500) writePages(500);
    auto r = db->checkpoint();
    EXPECT_LT(r.logFrames, pages) << "the log grew past its bound";
    EXPECT_LE(walBytes(), std::uintmax_t(pages) * 4200);
}

TEST_F(DatabaseTest, ALookedUpRowDoesNotPinTheLog) {
    settings.poolSize = 2;
    db = std::make_unique<Database>(settings);
    RefreshTokenRepository tokens;
    seedToken(tokens);
    // Both sessions look the token up: the one idle afterwards must not keep a snapshot.
    for (int i = 0; i < 2; ++i) {
        db->read([&](Connection& a) {
            EXPECT_TRUE(tokens.findByHash(a, "hash-1"));
            db->read([&](Connection& b) { EXPECT_TRUE(tokens.findByHash(b, "hash-1")); });
        });
    }
    writePages(50);
    auto r = db->checkpoint();
    EXPECT_GT(r.logFrames, 0);
    EXPECT_EQ(r.checkpointedFrames, r.logFrames) << "an idle session holds an old snapshot";
    db->write([&](Connection& c) { EXPECT_TRUE(tokens.markUsed(c, "fam", 1, 5, "hash-2")); });
}

// ---- group commit (writeTogether) -------------------------------------------------------------

TEST_F(DatabaseTest, WriteTogetherReturnsAfterItsCommit) {
    createNames();
    EXPECT_EQ(db->writeTogether([](soci::session& s) {
        s << "INSERT INTO names (name) VALUES ('solo')";
        return 7;
    }),
              7);
    EXPECT_EQ(names(), std::vector<std::string>{"solo"});
}

TEST_F(DatabaseTest, AFailingCallerIsUndoneAloneAndTheOthersOfItsBatchCommit) {
    createNames();
    Call a("a"), b("b"), c("c");
    b.then = [](soci::session&) { throw std::runtime_error("boom"); };
    inOneBatch(*db, {together(a), together(b), together(c)});
    EXPECT_EQ(a.ranOn, b.ranOn) << "not one batch";
    EXPECT_EQ(a.ranOn, c.ranOn) << "not one batch";
    EXPECT_FALSE(a.error);
    EXPECT_FALSE(c.error);
    ASSERT_TRUE(b.error);
    EXPECT_EQ(messageOf(b.error), "boom");
    EXPECT_EQ(names(), (std::vector<std::string>{"a", "c"}));
}

TEST_F(DatabaseTest, ASqlErrorOfOneCallerIsMappedAsByWriteAndUndoneAlone) {
    createNames();
    Call a("a"), b("b");
    b.then = [](soci::session& s) { s << "INSERT INTO no_such_table VALUES (1)"; };
    inOneBatch(*db, {together(a), together(b)});
    EXPECT_EQ(a.ranOn, b.ranOn) << "not one batch";
    EXPECT_FALSE(a.error);
    ASSERT_TRUE(b.error);
    EXPECT_EQ(messageOf(b.error).rfind("database error: ", 0), 0u) << messageOf(b.error);
    EXPECT_EQ(names(), std::vector<std::string>{"a"});
    // The session's statements still work after the savepoint was rolled back.
    EXPECT_EQ(probe(), 42);
}

TEST_F(DatabaseTest, AFailedCommitFailsEveryCallerOfTheBatchAndStoresNothing) {
    createNames();
    // A dangling foreign key, deferred: every statement succeeds and COMMIT fails.
    auto dangling = [](soci::session& s) {
        s << "PRAGMA defer_foreign_keys=ON";
        s << "INSERT INTO refresh_tokens (family_id, id, token_hash, issued_ms) VALUES ('no', 1, "
             "'h', 0)";
    };
    Call a("a"), b("b"), c("c");
    b.then = dangling;
    inOneBatch(*db, {together(a), together(b), together(c)});
    EXPECT_EQ(a.ranOn, c.ranOn) << "not one batch";
    // What write() gives for the same failure, for every caller of the batch.
    std::string alone;
    try {
        db->write(dangling);
    } catch (const std::exception& e) {
        alone = e.what();
    }
    ASSERT_FALSE(alone.empty()) << "the commit did not fail";
    for (Call* call : {&a, &b, &c}) {
        ASSERT_TRUE(call->error) << call->name;
        EXPECT_EQ(messageOf(call->error), alone) << call->name;
    }
    EXPECT_TRUE(names().empty());
}

// ---- writeTogetherLater: no thread waits per write ----------------------------------------

TEST_F(DatabaseTest, LaterWritesWaitForADrainThenCommitInOneTransactionBeforeTheirThen) {
    createNames();
    const auto before = db->groupCommits();
    std::vector<std::string> order;  // one thread queues and drains: no lock needed
    for (std::string name : {"a", "b", "c"}) {
        db->writeTogetherLater(
            [name](Connection& c) {
                c.session() << "INSERT INTO names (name) VALUES (:n)", soci::use(name);
            },
            [&, name](std::exception_ptr error) {
                EXPECT_FALSE(error) << name;
                // Committed: another connection's read sees every write of the batch.
                order.push_back(name + std::to_string(names().size()));
            });
    }
    EXPECT_TRUE(order.empty()) << "ran before a drain";
    EXPECT_TRUE(names().empty()) << "stored before a drain";
    db->drainTogether(std::chrono::hours(1));  // the oldest is younger than that: nothing
    EXPECT_TRUE(order.empty());
    db->drainTogether();
    EXPECT_EQ(order, (std::vector<std::string>{"a3", "b3", "c3"}));
    EXPECT_EQ(db->groupCommits().batches, before.batches + 1);
    EXPECT_EQ(db->groupCommits().writes, before.writes + 3);
}

TEST_F(DatabaseTest, AFailingLaterWriteIsUndoneAloneAndItsThenGetsTheError) {
    createNames();
    std::exception_ptr errors[2];
    int called = 0;
    db->writeTogetherLater(
        [](Connection& c) { c.session() << "INSERT INTO names (name) VALUES ('kept')"; },
        [&](std::exception_ptr e) { errors[0] = e, ++called; });
    db->writeTogetherLater(
        [](Connection& c) {
            c.session() << "INSERT INTO names (name) VALUES ('undone')";
            throw std::runtime_error("boom");
        },
        [&](std::exception_ptr e) { errors[1] = e, ++called; });
    db->drainTogether();
    EXPECT_EQ(called, 2);
    EXPECT_FALSE(errors[0]);
    ASSERT_TRUE(errors[1]);
    EXPECT_EQ(messageOf(errors[1]), "boom");
    EXPECT_EQ(names(), std::vector<std::string>{"kept"});
}

TEST_F(DatabaseTest, AWaitingWriterAlsoCommitsTheLaterWritesQueuedBeforeIt) {
    createNames();
    bool later = false;
    db->writeTogetherLater(
        [](Connection& c) { c.session() << "INSERT INTO names (name) VALUES ('later')"; },
        [&](std::exception_ptr e) { later = !e; });
    db->writeTogether([](soci::session& s) { s << "INSERT INTO names (name) VALUES ('now')"; });
    EXPECT_TRUE(later) << "left in the queue with no thread to run it";
    EXPECT_EQ(names(), (std::vector<std::string>{"later", "now"}));
}

TEST_F(DatabaseTest, AFullGroupOfLaterWritesCommitsWithoutADrain) {
    createNames();
    size_t done = 0;
    for (size_t i = 0; i < Database::kMaxGroup; ++i) {
        db->writeTogetherLater(
            [name = std::to_string(i)](Connection& c) {
                c.session() << "INSERT INTO names (name) VALUES (:n)", soci::use(name);
            },
            [&](std::exception_ptr e) { done += e ? 0 : 1; });
    }
    EXPECT_EQ(done, Database::kMaxGroup);
}

TEST_F(DatabaseTest, AnUnusableTransactionFailsTheBatchAsUnavailableAndStoresNothing) {
    createNames();
    Call a("a"), b("b"), c("c");
    b.then = [](soci::session& s) {
        long long pages = 0;
        s << "PRAGMA page_count", soci::into(pages);
        s << "PRAGMA max_page_count=" + std::to_string(pages);  // the disk is full
        s << "INSERT INTO names (name) VALUES (zeroblob(100000))";
    };
    inOneBatch(*db, {together(a), together(b), together(c)});
    // (A caller queued after b does not run at all.)
    for (Call* call : {&a, &b, &c}) {
        ASSERT_TRUE(call->error) << call->name;
        EXPECT_THROW(std::rethrow_exception(call->error), DatabaseUnavailable) << call->name;
    }
    EXPECT_TRUE(names().empty());
    // The session was reopened (max_page_count is gone with it): writing works again.
    Call d("d");
    together(d)();
    EXPECT_FALSE(d.error);
    EXPECT_EQ(names(), std::vector<std::string>{"d"});
}

}  // namespace
