// database.postgresql.prepared_statements (runs when AUTHSVC_TEST_PG_DSN names a server, as
// scripts/test.sh does; skipped otherwise), in a database of its own, on a pool of one
// connection: with false, a register, login, refreshes (and the retry in grace and a reuse)
// and a logout leave no named statement on the server connection (pg_prepared_statements is
// empty), as PgBouncer in transaction pooling needs; with true the same leaves them there
// (parsed once). And which PostgreSQL errors are not ours (503) or ours (500).
#include <gtest/gtest.h>
#include <soci/postgresql/soci-postgresql.h>

#include <cstdlib>

#include "models/Migrator.h"
#include "models/PostgresqlErrors.h"
#include "support/TestSupport.h"

namespace {

using namespace authsvc::models;
using authsvc::testing::kEmail;
using authsvc::testing::kPassword;
using authsvc::testing::kSecret;

class PostgresStatementsTest : public ::testing::Test, protected authsvc::testing::ServiceParts {
  protected:
    void SetUp() override {
        const char* dsn = std::getenv("AUTHSVC_TEST_PG_DSN");
        if (!dsn || !*dsn) GTEST_SKIP() << "AUTHSVC_TEST_PG_DSN is not set";
        server_ = dsn;
        name_ = "authsvc_stmt_" + authsvc::verify::base64UrlEncode(crypto::randomBytes(6));
        for (char& ch : name_)
            ch = std::isalnum(static_cast<unsigned char>(ch)) ? std::tolower(ch) : '_';
        soci::session(soci::postgresql, server_ + " dbname=postgres") << "CREATE DATABASE " + name_;
        settings.refreshTtlMs = 14LL * 24 * 3600 * 1000;
        settings.reuseGraceMs = 10'000;
        settings.successorKey = kSecret;
    }
    void TearDown() override {
        if (name_.empty()) return;
        soci::session(soci::postgresql, server_ + " dbname=postgres")
            << "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)";
    }
    // Runs the service's storage paths on a Database of one connection; returns how many
    // named statements that connection then holds on the server.
    long long namedStatementsAfterUse(bool preparedStatements) {
        DatabaseSettings ds;
        ds.dialect = Dialect::Postgresql;
        ds.postgresqlDsn = server_ + " dbname=" + name_;
        ds.poolSize = 1;
        ds.postgresqlPreparedStatements = preparedStatements;
        Database db(ds);
        Migrator(db, clock).migrate();
        AuthService auth(db, users, tokens, hasher, tokenService, clock, settings, observer);
        const std::string email = std::to_string(preparedStatements) + kEmail;
        EXPECT_TRUE(auth.registerUser(email, kPassword));
        auto p = auth.login(email, kPassword);
        EXPECT_TRUE(p);
        if (!p) return -1;
        std::string token = p->refreshToken;
        for (int i = 0; i < 3; ++i) {  // each statement executed more than once
            auto r = auth.refresh(token);
            EXPECT_TRUE(r) << r.error().message;
            if (!r) return -1;
            EXPECT_TRUE(auth.refresh(token));  // a retry in grace
            token = r->refreshToken;
        }
        auth.logout(token);
        return db.read([](soci::session& s) {
            long long n = -1;
            s << "SELECT count(*) FROM pg_prepared_statements", soci::into(n);
            return n;
        });
    }

    std::string server_, name_;
};

TEST_F(PostgresStatementsTest, OffLeavesNoNamedStatementOnTheServerConnection) {
    EXPECT_EQ(namedStatementsAfterUse(false), 0);
}

TEST_F(PostgresStatementsTest, OnKeepsThemPreparedOnTheConnection) {
    EXPECT_GT(namedStatementsAfterUse(true), 5);
}

TEST(PostgresqlErrorsTest, ConnectionServerAndPoolerFailuresAreNotOurs) {
    for (const char* state : {"08000", "08006", "08P01", "08001", "57P01", "57P02", "57P03",
                              "53300", "53100", "58030"}) {
        EXPECT_TRUE(isPostgresqlUnavailable(state, "")) << state;
    }
    // libpq and PgBouncer texts without a SQLSTATE (the connection broke first).
    for (const char* text :
         {"Cannot execute query. Fatal error. server closed the connection unexpectedly\n"
          "\tThis probably means the server terminated abnormally",
          "no connection to the server", "could not receive data from server: Connection reset",
          "ERROR:  query_wait_timeout", "ERROR:  no more connections allowed (max_client_conn)",
          "ERROR:  pgbouncer cannot connect to server", "FATAL:  server conn crashed?",
          "FATAL:  terminating connection due to administrator command",
          "FATAL:  the database system is starting up"}) {
        EXPECT_TRUE(isPostgresqlUnavailable("     ", text)) << text;
        EXPECT_TRUE(isPostgresqlUnavailable("", text)) << text;
    }
}

TEST(PostgresqlErrorsTest, OurOwnErrorsAreNotEvenWhenTheyQuoteSuchATextFromARequest) {
    EXPECT_FALSE(isPostgresqlUnavailable(
        "23505",
        "ERROR:  duplicate key value violates unique constraint \"users_email_key\"\n"
        "DETAIL:  Key (email)=(server closed the connection unexpectedly) already exists."));
}

TEST(PostgresqlErrorsTest, OurOwnErrorsAreNot) {
    for (const char* state : {"23505", "42601", "42P01", "22P02", "40001", "25P02", "     "}) {
        EXPECT_FALSE(isPostgresqlUnavailable(state, "ERROR:  something of ours")) << state;
    }
}

TEST(PostgresqlErrorsTest, AMissingOrTakenStatementNameNamesTheSetting) {
    for (const char* state : {"26000", "42P05"}) {
        EXPECT_NE(namedStatementHint(state).find("prepared_statements: false"), std::string::npos);
    }
    EXPECT_EQ(namedStatementHint("23505"), "");
}

}  // namespace
