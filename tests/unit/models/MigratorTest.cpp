// Migrator: splitStatements (SQLite runs only the first statement of a string, so the
// split is what makes a migration complete), and migrate/status on a real SQLite file.
#include "models/Migrator.h"
#include "models/RefreshTokenRepository.h"
#include "models/SqliteFunctions.h"

#include <gtest/gtest.h>

#include "support/TestSupport.h"

namespace {

using authsvc::models::Database;
using authsvc::models::DatabaseSettings;
using authsvc::models::Dialect;
using authsvc::models::embeddedMigrations;
using authsvc::models::Migrator;
using authsvc::models::splitStatements;
using authsvc::verify::ManualClock;
using Statements = std::vector<std::string>;

TEST(SplitStatementsTest, OneStatementPerSemicolonAtTheEndOfALine) {
    EXPECT_EQ(splitStatements("CREATE TABLE a (x INT);\nCREATE TABLE b (y INT);\n"),
              (Statements{"CREATE TABLE a (x INT)", "CREATE TABLE b (y INT)"}));
}

TEST(SplitStatementsTest, MultiLineStatementStaysWhole) {
    EXPECT_EQ(splitStatements("CREATE TABLE t (\n    a INT,\n    b INT\n);\nSELECT 1;\n"),
              (Statements{"CREATE TABLE t (\n    a INT,\n    b INT\n)", "SELECT 1"}));
}

TEST(SplitStatementsTest, CommentLinesAreDroppedEvenWhenTheyEndWithASemicolon) {
    EXPECT_EQ(splitStatements("-- first; not a statement;\n  -- indented;\nSELECT 1;\n"),
              (Statements{"SELECT 1"}));
}

TEST(SplitStatementsTest, CommentLineInsideAStatement) {
    EXPECT_EQ(splitStatements("CREATE TABLE t (\n  -- the key;\n  id INT\n);\n"),
              (Statements{"CREATE TABLE t (\n  id INT\n)"}));
}

TEST(SplitStatementsTest, SemicolonInsideALineDoesNotSplit) {
    EXPECT_EQ(splitStatements("INSERT INTO t VALUES ('a;b');\n"),
              (Statements{"INSERT INTO t VALUES ('a;b')"}));
}

TEST(SplitStatementsTest, TrailingWhitespaceAndCrlf) {
    EXPECT_EQ(splitStatements("SELECT 1;  \t\r\nSELECT 2;\r\n"),
              (Statements{"SELECT 1", "SELECT 2"}));
}

TEST(SplitStatementsTest, LastStatementWithoutSemicolonIsKept) {
    EXPECT_EQ(splitStatements("SELECT 1;\nSELECT 2"), (Statements{"SELECT 1", "SELECT 2\n"}));
}

TEST(SplitStatementsTest, NothingButBlanksAndCommentsIsNoStatement) {
    EXPECT_EQ(splitStatements(""), Statements{});
    EXPECT_EQ(splitStatements("\n  \n\t\n"), Statements{});
    EXPECT_EQ(splitStatements("-- only a comment\n-- and another;\n"), Statements{});
}

TEST(SplitStatementsTest, NoLastLineNewlineNeeded) {
    EXPECT_EQ(splitStatements("SELECT 1;"), (Statements{"SELECT 1"}));
}

TEST(EmbeddedMigrationsTest, BothDialectsStartAtVersionOne) {
    bool sqlite = false, pg = false;
    for (const auto& m : embeddedMigrations()) {
        if (std::string(m.dialect) == "sqlite" && m.version == 1) sqlite = true;
        if (std::string(m.dialect) == "postgresql" && m.version == 1) pg = true;
        EXPECT_GT(m.version, 0) << m.name;
    }
    EXPECT_TRUE(sqlite);
    EXPECT_TRUE(pg);
}

TEST(EmbeddedMigrationsTest, EverySplitStatementIsASingleStatement) {
    // A statement that still holds a ";" would lose its tail on SQLite.
    for (const auto& m : embeddedMigrations()) {
        const auto stmts = splitStatements(m.sql);
        EXPECT_FALSE(stmts.empty()) << m.name;
        for (const auto& s : stmts) {
            EXPECT_EQ(s.find(';'), std::string::npos) << m.dialect << "/" << m.name << ": " << s;
            EXPECT_NE(s.find_first_not_of(" \t\r\n"), std::string::npos) << m.name;
        }
    }
}

class MigratorTest : public ::testing::Test {
  protected:
    MigratorTest() {
        DatabaseSettings s;
        s.dialect = Dialect::Sqlite;
        s.sqlitePath = (dir.path() / "sub" / "m.db").string();
        s.poolSize = 2;
        s.timeout = std::chrono::milliseconds(2000);
        db = std::make_unique<Database>(s);
    }
    authsvc::testing::TempDir dir;
    ManualClock clock{1'800'000'000'000};
    std::unique_ptr<Database> db;
};

TEST_F(MigratorTest, FreshDatabaseShowsPendingMigrations) {
    Migrator m(*db, clock);
    auto st = m.status();
    ASSERT_FALSE(st.empty());
    EXPECT_EQ(st[0].version, 1);
    EXPECT_FALSE(st[0].applied);
    EXPECT_EQ(st[0].appliedAt, 0);
}

TEST_F(MigratorTest, MigrateAppliesOnceAndRecordsTheTime) {
    Migrator m(*db, clock);
    const int pending = int(m.status().size());
    EXPECT_EQ(m.migrate(), pending);
    EXPECT_EQ(m.migrate(), 0);
    for (const auto& s : m.status()) {
        EXPECT_TRUE(s.applied) << s.name;
        EXPECT_EQ(s.appliedAt, 1'800'000'000) << s.name;
    }
}

TEST_F(MigratorTest, EveryTableOfTheSchemaExists) {
    Migrator(*db, clock).migrate();
    // If the split had merged statements, SQLite would have run only the first one.
    long long n = db->read([](soci::session& s) {
        long long count = 0;
        s << "SELECT COUNT(*) FROM sqlite_master WHERE type IN ('table', 'index') AND name IN "
             "('users', 'refresh_families', 'refresh_tokens', 'refresh_tokens_hash', "
             "'refresh_families_user_created')",
            soci::into(count);
        return count;
    });
    EXPECT_EQ(n, 5);
}

// Version 1 alone, as the Migrator applied it before later versions existed, with a user
// and a family 'f' of theirs.
void versionOneWithAFamily(soci::session& s) {
    s << "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, "
         "applied_at BIGINT NOT NULL)";
    for (const auto& m : embeddedMigrations()) {
        if (std::string(m.dialect) != "sqlite" || m.version != 1) continue;
        for (const auto& statement : splitStatements(m.sql)) s << statement;
    }
    s << "INSERT INTO schema_migrations VALUES (1, '0001_init', 0)";
    s << "INSERT INTO users (email, password_hash, created_at) VALUES ('a@b.c', 'x', 0)";
    s << "INSERT INTO refresh_families (id, user_id, created_ms, expires_ms) "
         "VALUES ('f', 1, 0, 9)";
}

TEST_F(MigratorTest, HexHashesOfVersionOneBecomeTheirBytes) {
    db->write([&](soci::session& s) {
        versionOneWithAFamily(s);
        s << "INSERT INTO refresh_tokens (family_id, token_hash, issued_ms, used_ms, "
             "successor_hash) VALUES ('f', '00ab', 0, 1, 'FF10')";
        s << "INSERT INTO refresh_tokens (family_id, token_hash, parent_id, issued_ms) "
             "VALUES ('f', 'ff10', 1, 1)";
    });
    EXPECT_GT(Migrator(*db, clock).migrate(), 0);
    std::vector<std::string> rows(10);
    db->read([&](soci::session& s) {
        s << "SELECT id || ' ' || typeof(token_hash) || ' ' || hex(token_hash) || ' ' || "
             "ifnull(parent_id, '-') || ' ' || coalesce(nullif(hex(successor_hash), ''), '-') "
             "FROM refresh_tokens ORDER BY id",
            soci::into(rows);
    });
    EXPECT_EQ(rows, (std::vector<std::string>{"1 blob 00AB - FF10", "2 blob FF10 1 -"}));
}

TEST_F(MigratorTest, AHashThatIsNotHexFailsTheMigrationAndKeepsTheRows) {
    db->write([&](soci::session& s) {
        versionOneWithAFamily(s);
        s << "INSERT INTO refresh_tokens (family_id, token_hash, issued_ms) VALUES ('f', 'xyz', 0)";
    });
    EXPECT_ANY_THROW(Migrator(*db, clock).migrate());
    std::string hash;
    db->read(
        [&](soci::session& s) { s << "SELECT token_hash FROM refresh_tokens", soci::into(hash); });
    EXPECT_EQ(hash, "xyz");
}

// Versions 1 to 8, as a database was before refresh_tokens moved into family order
// (0009), with two families of one user: "f" with tokens 1 (used) and 3, "g" with token 2.
void versionEightWithTwoFamilies(soci::session& s) {
    authsvc::models::defineSqliteUnhex(s);  // 0004 converts hex hashes, as the Migrator does
    s << "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, "
         "applied_at BIGINT NOT NULL)";
    for (const auto& m : embeddedMigrations()) {
        if (std::string(m.dialect) != "sqlite" || m.version > 8) continue;
        for (const auto& statement : splitStatements(m.sql)) s << statement;
        s << "INSERT INTO schema_migrations VALUES (" + std::to_string(m.version) + ", '" + m.name +
                 "', 0)";
    }
    s << "INSERT INTO users (email, password_hash, created_at) VALUES ('a@b.c', 'x', 0)";
    s << "INSERT INTO refresh_families (id, user_id, created_ms, expires_ms) VALUES "
         "('f', 1, 0, 9), ('g', 1, 0, 9)";
    s << "INSERT INTO refresh_tokens (family_id, token_hash, issued_ms, used_ms, successor_hash) "
         "VALUES ('f', x'01', 0, 1, x'03')";
    s << "INSERT INTO refresh_tokens (family_id, token_hash, issued_ms) VALUES ('g', x'02', 0)";
    s << "INSERT INTO refresh_tokens (family_id, token_hash, parent_id, issued_ms) "
         "VALUES ('f', x'03', 1, 1)";
}

TEST_F(MigratorTest, TokensKeepTheirIdsInFamilyOrderAndANewOneFollowsItsFamily) {
    db->write([&](soci::session& s) { versionEightWithTwoFamilies(s); });
    EXPECT_EQ(Migrator(*db, clock).migrate(), 1);
    std::vector<std::string> rows(10);
    std::string table;
    long long familyIndexes = -1;
    db->read([&](soci::session& s) {
        // The table's own order, which is the primary key's: family, then id.
        s << "SELECT family_id || ' ' || id || ' ' || hex(token_hash) || ' ' || "
             "ifnull(parent_id, '-') FROM refresh_tokens",
            soci::into(rows);
        s << "SELECT sql FROM sqlite_master WHERE name = 'refresh_tokens'", soci::into(table);
        s << "SELECT COUNT(*) FROM sqlite_master WHERE name = 'refresh_tokens_family'",
            soci::into(familyIndexes);
    });
    EXPECT_EQ(rows, (std::vector<std::string>{"f 1 01 -", "f 3 03 1", "g 2 02 -"}));
    EXPECT_NE(table.find("WITHOUT ROWID"), std::string::npos) << table;
    EXPECT_EQ(familyIndexes, 0) << "the primary key serves a family's tokens";

    // A rotation in each family: the successor's id is its family's largest plus one (with
    // a table-wide id, g's successor would have been 4 and f's 5).
    authsvc::models::RefreshTokenRepository tokens;
    db->write([&](authsvc::models::Connection& c) {
        for (const char* h : {"\x02", "\x03"}) {
            auto rec = tokens.findByHash(c, h);
            ASSERT_TRUE(rec) << int(h[0]);
            EXPECT_FALSE(rec->usedMs);
            ASSERT_TRUE(
                tokens.markUsed(c, rec->familyId, rec->id, 5, std::string(1, char(h[0] + 16))));
            tokens.insertToken(c, rec->familyId, std::string(1, char(h[0] + 16)), rec->id, 5);
            EXPECT_FALSE(tokens.markUsed(c, rec->familyId, rec->id, 6, "x")) << "used already";
        }
    });
    rows.resize(10);
    db->read([&](soci::session& s) {
        s << "SELECT family_id || ' ' || id || ' ' || hex(token_hash) || ' ' || "
             "ifnull(parent_id, '-') || ' ' || ifnull(used_ms, '-') FROM refresh_tokens",
            soci::into(rows);
    });
    EXPECT_EQ(rows, (std::vector<std::string>{"f 1 01 - 1", "f 3 03 1 5", "f 4 13 3 -",
                                              "g 2 02 - 5", "g 3 12 2 -"}));
}

// app::Extension's migrations: applied with authsvc's own, in version order, only those of
// the database's dialect; a version of authsvc's is refused before anything runs.
TEST_F(MigratorTest, ExtraMigrationsOfTheDialectAreAppliedAfterAuthsvcsOwn) {
    const std::vector<authsvc::models::EmbeddedMigration> extra = {
        {"postgresql", 1001, "1001_extra", "CREATE TABLE never_here (id BIGSERIAL)"},
        {"sqlite", 1001, "1001_extra",
         "CREATE TABLE extra (user_id INTEGER REFERENCES users(id));"},
    };
    Migrator m(*db, clock, extra);
    const auto pending = m.status();
    ASSERT_FALSE(pending.empty());
    EXPECT_EQ(pending.back().version, 1001);
    EXPECT_EQ(pending.back().name, "1001_extra");
    EXPECT_EQ(m.migrate(), int(pending.size()));
    EXPECT_EQ(m.migrate(), 0);
    const long long tables = db->read([](soci::session& s) {
        long long n = 0;
        s << "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('extra', 'never_here')",
            soci::into(n);
        return n;
    });
    EXPECT_EQ(tables, 1);
}

TEST_F(MigratorTest, AnExtraMigrationWithTheVersionOfOneOfAuthsvcsIsRefused) {
    const std::vector<authsvc::models::EmbeddedMigration> clash = {
        {"postgresql", 2, "0002_mine", "SELECT 1"}};
    EXPECT_THROW(Migrator(*db, clock, clash), std::invalid_argument);
}

TEST_F(MigratorTest, SecondDatabaseObjectSeesTheMigrationsApplied) {
    Migrator(*db, clock).migrate();
    DatabaseSettings s;
    s.sqlitePath = (dir.path() / "sub" / "m.db").string();
    s.poolSize = 1;
    Database again(s);
    EXPECT_EQ(Migrator(again, clock).migrate(), 0);
    EXPECT_TRUE(again.ping());
}

}  // namespace
