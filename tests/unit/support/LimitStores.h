// The stores of the limits (auth.limits_store) as the unit tests build them, so that the
// same test cases run against each: memory, the database on SQLite (a migrated file in a
// temp dir), and the database on PostgreSQL or MariaDB (a database of its own on the server
// that AUTHSVC_TEST_PG_DSN or AUTHSVC_TEST_MYSQL_DSN names, as scripts/test.sh sets them;
// skipped without).
#pragma once

#include <gtest/gtest.h>
#include <soci/mysql/soci-mysql.h>
#include <soci/postgresql/soci-postgresql.h>

#include <cctype>
#include <cstdlib>
#include <memory>
#include <string>

#include "common/Crypto.h"
#include "models/Database.h"
#include "models/LimitCounterRepository.h"
#include "models/Migrator.h"
#include "services/DatabaseLimitCounter.h"
#include "services/LimitCounter.h"
#include "support/ManualClock.h"
#include "support/TestSupport.h"

namespace authsvc::testing {

enum class LimitStore { Memory, Sqlite, Postgresql, Mysql };

inline std::string limitStoreName(const ::testing::TestParamInfo<LimitStore>& info) {
    switch (info.param) {
        case LimitStore::Memory:
            return "Memory";
        case LimitStore::Sqlite:
            return "Sqlite";
        case LimitStore::Postgresql:
            return "Postgresql";
        case LimitStore::Mysql:
            return "Mysql";
    }
    return "Unknown";
}

inline auto allLimitStores() {
    return ::testing::Values(LimitStore::Memory, LimitStore::Sqlite, LimitStore::Postgresql,
                             LimitStore::Mysql);
}

// One store for one test. Call skipUnlessAvailable() from SetUp (a PostgreSQL or MariaDB
// store without a server skips the test).
class LimitStoreUnderTest {
  public:
    explicit LimitStoreUnderTest(LimitStore store) : store_(store) {
        if (store == LimitStore::Sqlite) {
            models::DatabaseSettings ds;
            ds.sqlitePath = (dir_.path() / "limits.db").string();
            ds.poolSize = 4;
            db_ = std::make_unique<models::Database>(ds);
        } else if (store == LimitStore::Postgresql) {
            const char* dsn = std::getenv("AUTHSVC_TEST_PG_DSN");
            if (!dsn || !*dsn) return;
            server_ = dsn;
            name_ = "authsvc_limits_" + models::crypto::hex(models::crypto::randomBytes(6));
            soci::session(soci::postgresql, server_ + " dbname=postgres")
                << "CREATE DATABASE " + name_;
            db_ = open();
        } else if (store == LimitStore::Mysql) {
            const char* dsn = std::getenv("AUTHSVC_TEST_MYSQL_DSN");
            if (!dsn || !*dsn) return;
            server_ = dsn;
            name_ = "authsvc_limits_" + models::crypto::hex(models::crypto::randomBytes(6));
            soci::session(soci::mysql, server_) << "CREATE DATABASE " + name_;
            db_ = open();
        }
        if (db_) {
            verify::ManualClock clock;
            models::Migrator(*db_, clock).migrate();
            counters_ = std::make_unique<models::DatabaseLimitCounters>(*db_, repo_);
        }
    }
    ~LimitStoreUnderTest() {
        counters_.reset();
        db_.reset();
        if (!name_.empty() && store_ == LimitStore::Mysql) {
            soci::session(soci::mysql, server_) << "DROP DATABASE IF EXISTS " + name_;
        } else if (!name_.empty()) {
            soci::session(soci::postgresql, server_ + " dbname=postgres")
                << "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)";
        }
    }
    LimitStoreUnderTest(const LimitStoreUnderTest&) = delete;
    LimitStoreUnderTest& operator=(const LimitStoreUnderTest&) = delete;

    bool available() const { return store_ == LimitStore::Memory || db_ != nullptr; }
    const models::LimitCounters& counters() const {
        if (counters_) return *counters_;
        return models::memoryLimitCounters();
    }
    // The database store's pieces (null for memory).
    models::Database* db() { return db_.get(); }
    models::DatabaseLimitCounters* databaseCounters() { return counters_.get(); }
    const models::LimitCounterRepository& repo() const { return repo_; }
    // Another Database on the same store: a second instance.
    std::unique_ptr<models::Database> open() const {
        models::DatabaseSettings ds;
        ds.poolSize = 4;
        if (store_ == LimitStore::Sqlite) {
            ds.sqlitePath = (dir_.path() / "limits.db").string();
        } else if (store_ == LimitStore::Mysql) {
            ds.dialect = models::Dialect::Mysql;
            ds.mysqlDsn = server_ + " db=" + name_;
        } else {
            ds.dialect = models::Dialect::Postgresql;
            ds.postgresqlDsn = server_ + " dbname=" + name_;
        }
        return std::make_unique<models::Database>(ds);
    }

  private:
    LimitStore store_;
    TempDir dir_;
    std::string server_, name_;
    std::unique_ptr<models::Database> db_;
    models::LimitCounterRepository repo_;
    std::unique_ptr<models::DatabaseLimitCounters> counters_;
};

// A test that runs against each store (instantiated with allLimitStores()): its store,
// skipped when unavailable, and a manual clock.
class LimitStoreTest : public ::testing::TestWithParam<LimitStore> {
  protected:
    void SetUp() override {
        if (!store.available()) {
            GTEST_SKIP() << (GetParam() == LimitStore::Mysql ? "AUTHSVC_TEST_MYSQL_DSN"
                                                             : "AUTHSVC_TEST_PG_DSN")
                         << " is not set";
        }
    }
    verify::ManualClock clock;
    LimitStoreUnderTest store{GetParam()};
};

}  // namespace authsvc::testing
