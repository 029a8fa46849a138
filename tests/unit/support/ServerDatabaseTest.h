// A fixture for storage tests on a database server (PostgreSQL, MariaDB): a database of its
// own on the server an environment variable names (scripts/test.sh sets them; the test is
// skipped without), migrated, with two Database instances on it (two service instances
// sharing the database), dropped at the end. The checks every server backend must pass are
// members, so that each backend's test file runs them by name. One thread, like a test.
#pragma once

#include <gtest/gtest.h>
#include <soci/mysql/soci-mysql.h>
#include <soci/postgresql/soci-postgresql.h>

#include <cctype>
#include <cstdlib>
#include <memory>
#include <string>

#include "models/Migrator.h"
#include "support/TestSupport.h"

namespace authsvc::testing {

class ServerDatabaseTest : public ::testing::Test, protected ServiceParts {
  protected:
    // Call from SetUp(): `envVar` holds the server's DSN without a database name.
    void setUpOn(const char* envVar, models::Dialect dialect) {
        const char* dsn = std::getenv(envVar);
        if (!dsn || !*dsn) GTEST_SKIP() << envVar << " is not set";
        server_ = dsn;
        dialect_ = dialect;
        name_ = "authsvc_unit_" + verify::base64UrlEncode(models::crypto::randomBytes(6));
        for (char& ch : name_)
            ch = std::isalnum(static_cast<unsigned char>(ch)) ? std::tolower(ch) : '_';
        onServer("CREATE DATABASE " + name_);
        a_ = open();
        b_ = open();
        models::Migrator(*a_, clock).migrate();
        settings.refreshTtlMs = 14LL * 24 * 3600 * 1000;
        settings.reuseGraceMs = 10'000;
        settings.successorKey = kSecret;
    }
    void TearDown() override {
        if (name_.empty()) return;
        a_.reset();
        b_.reset();
        onServer("DROP DATABASE IF EXISTS " + name_ +
                 (dialect_ == models::Dialect::Postgresql ? " WITH (FORCE)" : ""));
    }
    std::unique_ptr<models::Database> open() {
        models::DatabaseSettings ds;
        ds.dialect = dialect_;
        if (dialect_ == models::Dialect::Postgresql) {
            ds.postgresqlDsn = server_ + " dbname=" + name_;
        } else {
            ds.mysqlDsn = server_ + " db=" + name_;
        }
        ds.poolSize = 4;
        return std::make_unique<models::Database>(ds);
    }
    std::unique_ptr<models::AuthService> service(models::Database& db) {
        return std::make_unique<models::AuthService>(db, users, tokens, hasher, tokenService, clock,
                                                     settings, observer);
    }
    models::TokenPair registerAndLogin(models::AuthService& auth) {
        EXPECT_TRUE(auth.registerUser(kEmail, kPassword));
        auto p = auth.login(kEmail, kPassword);
        EXPECT_TRUE(p);
        return p ? *p : models::TokenPair{};
    }

    // A rotation, its retry through the other instance within the grace window (the same
    // successor), then reuse after it: the family is revoked.
    void expectRetryAndReuseAcrossInstances() {
        auto auth = service(*a_);
        models::TokenPair p = registerAndLogin(*auth);
        auto r = auth->refresh(p.refreshToken);
        ASSERT_TRUE(r) << r.error().message;
        auto retry = service(*b_)->refresh(p.refreshToken);  // the other instance, in grace
        ASSERT_TRUE(retry) << retry.error().message;
        EXPECT_EQ(retry->refreshToken, r->refreshToken);
        clock.advanceMs(settings.reuseGraceMs + 1);
        EXPECT_FALSE(auth->refresh(p.refreshToken));  // reuse: the family is revoked
        EXPECT_EQ(observer.reuses.size(), 1u);
        EXPECT_FALSE(auth->refresh(r->refreshToken));
    }

    // `threads` refreshes of one token at once, alternating between the two instances.
    void expectOneRotationOnTwoInstances(int threads) {
        auto onA = service(*a_);
        auto onB = service(*b_);
        models::TokenPair p = registerAndLogin(*onA);
        expectOneRotationAmong(
            threads, [&](int i) { return (i % 2 ? onB : onA)->refresh(p.refreshToken); }, observer);
    }

    // The dummy hash's query: prefixes grouped, most common first, a string too short to
    // hold salt and hash counted under "".
    void expectDummyHashFollowsTheMostCommonStoredParameters() {
        const models::PasswordHasher older(models::Argon2Params{3, 16});
        a_->write([&](soci::session& s) {
            users.insert(s, "a@example.com", older.hash("password a"), 1);
            users.insert(s, "b@example.com", older.hash("password b"), 1);
            users.insert(s, "c@example.com", hasher.hash("password c"), 1);
            users.insert(s, "d@example.com", "!", 1);
        });
        const auto counts =
            a_->read([&](soci::session& s) { return users.hashParameterCounts(s, 8); });
        ASSERT_EQ(counts.size(), 3u);
        EXPECT_EQ(counts[0], (std::pair<std::string, int64_t>{"$argon2id$v=19$m=16,t=3,p=1", 2}));
        EXPECT_EQ(counts[1], (std::pair<std::string, int64_t>{"", 1}));
        EXPECT_EQ(counts[2], (std::pair<std::string, int64_t>{"$argon2id$v=19$m=8,t=1,p=1", 1}));
        auto auth = service(*a_);
        EXPECT_EQ(auth->refreshDummyHash(),
                  (std::optional<models::Argon2Params>{models::Argon2Params{3, 16}}));
    }

    std::unique_ptr<models::Database> a_, b_;

  private:
    void onServer(const std::string& sql) {
        if (dialect_ == models::Dialect::Postgresql) {
            soci::session(soci::postgresql, server_ + " dbname=postgres") << sql;
        } else {
            soci::session(soci::mysql, server_) << sql;
        }
    }

    std::string server_, name_;
    models::Dialect dialect_ = models::Dialect::Postgresql;
};

}  // namespace authsvc::testing
