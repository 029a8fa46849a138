// Database::write() runs a transaction the database rolled back for a conflict again, a
// bounded number of times, and counts it (authsvc_db_conflict_retries_total): on
// PostgreSQL (AUTHSVC_TEST_PG_DSN) and MariaDB (AUTHSVC_TEST_MYSQL_DSN), each skipped
// when its server is not named. The conflict is raised by the server itself with the
// error a real one gives (PostgreSQL 40001/40P01 via RAISE, MariaDB 1213 via SIGNAL, as a
// Galera node that lost a certification answers), inside the transaction, after a write:
// only the last attempt's write may be stored.
#include <gtest/gtest.h>
#include <soci/postgresql/soci-postgresql.h>

#include <cctype>
#include <cstdlib>
#include <memory>
#include <string>

#include "models/Database.h"
#include "support/TestSupport.h"

namespace {

using namespace authsvc::models;

struct ConflictBackend {
    const char* name;
    Dialect dialect;
    const char* dsnVariable;
};

class ConflictRetryTest : public ::testing::TestWithParam<ConflictBackend> {
  protected:
    void SetUp() override {
        const char* dsn = std::getenv(GetParam().dsnVariable);
        if (!dsn || !*dsn) GTEST_SKIP() << GetParam().dsnVariable << " is not set";
        table_ = "conflict_" + authsvc::verify::base64UrlEncode(crypto::randomBytes(6));
        for (char& ch : table_)
            ch = std::isalnum(static_cast<unsigned char>(ch)) ? std::tolower(ch) : '_';
        DatabaseSettings ds;
        ds.dialect = GetParam().dialect;
        ds.postgresqlDsn = std::string(dsn) + " dbname=postgres";
        ds.mysqlDsn = std::string(dsn) + " db=authsvc";  // scripts/mariadb.sh creates it
        ds.poolSize = 2;
        db_ = std::make_unique<Database>(ds);
        db_->autocommit([&](soci::session& s) {
            s << "CREATE TABLE " + table_ + " (attempt INT PRIMARY KEY)";
        });
    }
    void TearDown() override {
        if (db_) db_->autocommit([&](soci::session& s) { s << "DROP TABLE " + table_; });
    }
    // The error a conflict gives, raised by the server inside the transaction.
    void raiseConflict(soci::session& s, bool deadlock) {
        if (GetParam().dialect == Dialect::Postgresql) {
            s << std::string("DO $$ BEGIN RAISE EXCEPTION 'test conflict' USING ERRCODE = '") +
                     (deadlock ? "40P01" : "40001") + "'; END $$";
        } else {
            s << "SIGNAL SQLSTATE '40001' SET MYSQL_ERRNO = 1213, MESSAGE_TEXT = 'test conflict'";
        }
    }
    void insertAttempt(soci::session& s, int attempt) {
        s << "INSERT INTO " + table_ + " (attempt) VALUES (:a)", soci::use(attempt);
    }
    std::string storedAttempts() {
        return db_->read([&](soci::session& s) {
            std::string out;
            soci::rowset<int> rows = (s.prepare << "SELECT attempt FROM " + table_ + " ORDER BY 1");
            for (int a : rows) out += std::to_string(a) + " ";
            return out;
        });
    }

    std::string table_;
    std::unique_ptr<Database> db_;
};

TEST_P(ConflictRetryTest, ALostTransactionRunsAgainAndOnlyTheLastAttemptIsStored) {
    int calls = 0;
    const int result = db_->write([&](soci::session& s) {
        ++calls;
        insertAttempt(s, calls);
        if (calls < 3) raiseConflict(s, /*deadlock=*/calls == 2);
        return calls;
    });
    EXPECT_EQ(result, 3);
    EXPECT_EQ(calls, 3);
    EXPECT_EQ(storedAttempts(), "3 ");
    EXPECT_EQ(db_->conflictRetries(), 2u);
}

TEST_P(ConflictRetryTest, AConflictThatPersistsIsUnavailableAfterBoundedAttempts) {
    int calls = 0;
    EXPECT_THROW(db_->write([&](soci::session& s) {
        ++calls;
        insertAttempt(s, calls);
        raiseConflict(s, false);
    }),
                 DatabaseUnavailable);
    EXPECT_EQ(calls, Database::kConflictAttempts);
    EXPECT_EQ(storedAttempts(), "");
    EXPECT_EQ(db_->conflictRetries(), uint64_t(Database::kConflictAttempts - 1));
    // The connections are still good.
    db_->write([&](soci::session& s) { insertAttempt(s, 7); });
    EXPECT_EQ(storedAttempts(), "7 ");
}

TEST_P(ConflictRetryTest, OtherErrorsAreNotRunAgain) {
    db_->write([&](soci::session& s) { insertAttempt(s, 1); });
    int calls = 0;
    EXPECT_ANY_THROW(db_->write([&](soci::session& s) {
        ++calls;
        insertAttempt(s, 1);  // a duplicate key
    }));
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(db_->conflictRetries(), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Backends, ConflictRetryTest,
    ::testing::Values(ConflictBackend{"postgresql", Dialect::Postgresql, "AUTHSVC_TEST_PG_DSN"},
                      ConflictBackend{"mysql", Dialect::Mysql, "AUTHSVC_TEST_MYSQL_DSN"}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
