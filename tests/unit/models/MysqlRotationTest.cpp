// The MariaDB/MySQL backend (runs when AUTHSVC_TEST_MYSQL_DSN names a server, as
// scripts/test.sh does; skipped otherwise), in a database of its own: exactly one rotation
// among concurrent refreshes through two Database instances (two service instances sharing
// the database), emails compared byte for byte as on PostgreSQL (no accent folding, no
// trailing-space padding), and the SQL that differs from the other dialects. The
// classification of MySQL errors runs without a server.
#include <gtest/gtest.h>
#include <soci/mysql/soci-mysql.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <thread>

#include "models/MysqlDialect.h"
#include "models/SigningKeyRepository.h"
#include "support/ServerDatabaseTest.h"

namespace {

using namespace authsvc::models;
using authsvc::testing::kEmail;

class MysqlRotationTest : public authsvc::testing::ServerDatabaseTest {
  protected:
    void SetUp() override { setUpOn("AUTHSVC_TEST_MYSQL_DSN", Dialect::Mysql); }
};

TEST_F(MysqlRotationTest, ServiceRotationRetryAndReuse) {
    expectRetryAndReuseAcrossInstances();
}

// The rotation's exactly-once rule: InnoDB's row lock of the UPDATE's compare-and-set,
// READ COMMITTED so that the losers see the winner's successor.
TEST_F(MysqlRotationTest, ConcurrentRefreshesOnTwoInstancesRotateExactlyOnce) {
    expectOneRotationOnTwoInstances(16);
}

TEST_F(MysqlRotationTest, TheDummyHashFollowsTheMostCommonStoredParameters) {
    expectDummyHashFollowsTheMostCommonStoredParameters();
}

// The hash is stored as 32 bytes and read back as such, whatever bytes it holds (0 bytes,
// bytes that are not UTF-8).
TEST_F(MysqlRotationTest, HashesAreStoredAsTheirBytes) {
    auto auth = service(*a_);
    TokenPair p = registerAndLogin(*auth);
    const std::string hash = authsvc::verify::sha256(p.refreshToken);
    const auto rec = a_->read([&](Connection& c) { return tokens.findByHash(c, hash); });
    ASSERT_TRUE(rec);
    std::string successor(32, '\0');
    successor[5] = char(0xff);
    successor[31] = char(0x80);
    EXPECT_TRUE(a_->write([&](Connection& c) {
        return tokens.markUsed(c, rec->familyId, rec->id, clock.nowMs(), successor);
    }));
    const auto after = a_->read([&](Connection& c) { return tokens.findByHash(c, hash); });
    ASSERT_TRUE(after);
    EXPECT_EQ(after->successorHash, successor);
    long long length = 0;
    std::string type;
    a_->read([&](soci::session& s) {
        s << "SELECT LENGTH(token_hash), DATA_TYPE FROM refresh_tokens, "
             "information_schema.columns WHERE table_schema = DATABASE() AND table_name = "
             "'refresh_tokens' AND column_name = 'token_hash' LIMIT 1",
            soci::into(length), soci::into(type);
    });
    EXPECT_EQ(length, 32);
    EXPECT_EQ(type, "binary");
}

// As on PostgreSQL: an accent or a trailing space makes another address. MariaDB's
// utf8mb4_bin would pad ("a" = "a "), its default collation fold accents ("e" = "é").
TEST_F(MysqlRotationTest, EmailsAreComparedByteForByte) {
    const std::vector<std::string> emails = {"jose@example.com", "josé@example.com",
                                             "jose@example.com ", "JOSE@example.com"};
    std::vector<int64_t> ids;
    a_->write([&](soci::session& s) {
        for (const auto& e : emails) {
            auto id = users.insert(s, e, "hash of " + e, 1);
            ASSERT_TRUE(id) << "'" << e << "' was taken";
            ids.push_back(*id);
        }
        EXPECT_FALSE(users.insert(s, "jose@example.com", "again", 1));
        EXPECT_FALSE(users.insert(s, "josé@example.com", "again", 1));
    });
    for (size_t i = 0; i < emails.size(); ++i) {
        const auto u = a_->read([&](soci::session& s) { return users.findByEmail(s, emails[i]); });
        ASSERT_TRUE(u) << emails[i];
        EXPECT_EQ(u->id, ids[i]) << "'" << emails[i] << "'";
        EXPECT_EQ(u->email, emails[i]);
    }
    // Changing to a taken address fails; to one differing by a trailing space does not.
    EXPECT_FALSE(
        a_->write([&](soci::session& s) { return users.changeEmail(s, ids[0], emails[1]); }));
    EXPECT_TRUE(a_->write(
        [&](soci::session& s) { return users.changeEmail(s, ids[0], "josé@example.com  "); }));
}

TEST_F(MysqlRotationTest, RolesAndPurgesUseTheirMysqlForms) {
    const auto id = a_->write([&](soci::session& s) { return *users.insert(s, kEmail, "h", 1); });
    EXPECT_TRUE(a_->write([&](soci::session& s) { return users.addRole(s, id, "b"); }));
    EXPECT_TRUE(a_->write([&](soci::session& s) { return users.addRole(s, id, "a"); }));
    EXPECT_FALSE(a_->write([&](soci::session& s) { return users.addRole(s, id, "a"); }));
    EXPECT_EQ(a_->read([&](soci::session& s) { return users.roles(s, id); }),
              (std::vector<std::string>{"a", "b"}));
    // Three expired families, purged two at a time (DELETE ... LIMIT).
    a_->write([&](soci::session& s) {
        for (const char* f : {"f1", "f2", "f3"}) tokens.createFamily(s, f, id, 1, 2, "", "");
    });
    const auto live = a_->read([&](Connection& c) { return tokens.liveFamily(c, "f1", 1); });
    ASSERT_TRUE(live);
    EXPECT_EQ(live->roles, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(a_->write([&](soci::session& s) { return tokens.purge(s, 10, 0, 2); }), 2);
    EXPECT_EQ(a_->write([&](soci::session& s) { return tokens.purge(s, 10, 0, 2); }), 1);
    // Migrating again applies nothing.
    EXPECT_EQ(Migrator(*b_, clock).migrate(), 0);
}

// Two instances create a next key at once (migration 0007's unique slot): the second's
// count of the slot ran before the first committed, so its INSERT waits on the first's row
// and then fails with 1062. That is the step taken elsewhere (false), not an error, and the
// store holds one next key.
TEST_F(MysqlRotationTest, ASigningKeySlotTakenMeanwhileIsAStepLostNotAnError) {
    const SigningKeyRepository keys;
    SigningKeyRow mine;
    mine.kid = "k-a";
    mine.algorithm = "ES256";
    mine.state = "next";
    mine.sealedKey = "00";
    mine.publicJwk = "{}";
    mine.thumbprint = "tp-a";
    mine.createdMs = 1;
    SigningKeyRow theirs = mine;
    theirs.kid = "k-b";
    theirs.thumbprint = "tp-b";
    std::optional<bool> inserted;
    std::string error;
    bool waited = false;
    std::thread other;
    a_->write([&](soci::session& s) {
        ASSERT_TRUE(keys.insert(s, mine));
        other = std::thread([&] {
            try {
                inserted = b_->write([&](soci::session& t) { return keys.insert(t, theirs); });
            } catch (const std::exception& e) {
                error = e.what();
            }
        });
        // Until b_'s INSERT waits for this transaction's row (bounded: then it commits anyway).
        for (int i = 0; i < 1000 && !waited; ++i) {
            waited = b_->read([](soci::session& t) {
                long long n = 0;
                t << "SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                     "WHERE INFO LIKE 'INSERT INTO signing_keys%'",
                    soci::into(n);
                return n > 0;
            });
            if (!waited) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    });  // the commit lets b_'s INSERT go on
    ASSERT_TRUE(other.joinable());
    other.join();
    EXPECT_TRUE(waited);
    EXPECT_EQ(error, "");
    EXPECT_EQ(inserted, std::optional<bool>(false));
    const auto rows = a_->read([&](soci::session& s) { return keys.list(s); });
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].kid, "k-a");
}

// Errors that are not ours: 503, never 500 (no server needed).
TEST(MysqlDialectTest, ServerGoneLockTimeoutsAndDeadlocksAreUnavailable) {
    for (int n : {1040, 1205, 1213, 2002, 2003, 2006, 2013}) {
        EXPECT_TRUE(mysqlErrorIsUnavailable(soci::mysql_soci_error("x", n))) << n;
    }
    for (int n : {1062, 1064, 1146, 1452}) {
        EXPECT_FALSE(mysqlErrorIsUnavailable(soci::mysql_soci_error("x", n))) << n;
    }
    EXPECT_TRUE(isMysqlDuplicateKey(soci::mysql_soci_error("x", 1062)));
    EXPECT_EQ(mysqlErrorNumber(soci::soci_error("not mysql")), 0u);
}

TEST(MysqlDialectTest, NoServerIsDatabaseUnavailable) {
    DatabaseSettings ds;
    ds.dialect = Dialect::Mysql;
    ds.mysqlDsn = "host=127.0.0.1 port=1 db=authsvc user=app";
    ds.poolSize = 1;
    ds.timeout = std::chrono::milliseconds(1000);
    Database db(ds);
    EXPECT_THROW(db.read([](soci::session& s) { s << "SELECT 1"; }), DatabaseUnavailable);
    EXPECT_FALSE(db.ping());
}

}  // namespace
