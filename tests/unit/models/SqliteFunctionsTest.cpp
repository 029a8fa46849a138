// unhex() as the SQLite migrations call it (models/SqliteFunctions.h): SQLite 3.41's
// semantics for text input on Debian 12's 3.40, which has none.
#include "models/SqliteFunctions.h"

#include <gtest/gtest.h>
#include <soci/sqlite3/soci-sqlite3.h>

namespace {

using authsvc::models::defineSqliteUnhex;

class SqliteUnhexTest : public ::testing::Test {
  protected:
    SqliteUnhexTest() : s(soci::sqlite3, "db=:memory:") { defineSqliteUnhex(s); }

    // typeof(unhex(text)) and its bytes in hex ("" for NULL).
    std::pair<std::string, std::string> unhexOf(const std::string& text) {
        std::string type, bytes;
        soci::indicator ind = soci::i_ok;
        s << "SELECT typeof(unhex(:t)), lower(hex(unhex(:t2)))", soci::use(text), soci::use(text),
            soci::into(type), soci::into(bytes, ind);
        return {type, ind == soci::i_ok ? bytes : ""};
    }

    soci::session s;
};

TEST_F(SqliteUnhexTest, HexTextBecomesABlobOfItsBytes) {
    EXPECT_EQ(unhexOf("00abff10"), (std::pair<std::string, std::string>{"blob", "00abff10"}));
    EXPECT_EQ(unhexOf("00ABFF10"), (std::pair<std::string, std::string>{"blob", "00abff10"}));
    const std::string sha = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    EXPECT_EQ(unhexOf(sha), (std::pair<std::string, std::string>{"blob", sha}));
    long long n = 0;
    s << "SELECT length(unhex('" + sha + "'))", soci::into(n);
    EXPECT_EQ(n, 32);
}

TEST_F(SqliteUnhexTest, NullAndAnythingButHexGiveNull) {
    for (const char* bad : {"0", "abc", "zz", "00 11", "0x00"}) {
        EXPECT_EQ(unhexOf(bad).first, "null") << bad;
    }
    std::string type;
    s << "SELECT typeof(unhex(NULL))", soci::into(type);
    EXPECT_EQ(type, "null");
}

TEST_F(SqliteUnhexTest, TheBlobEqualsTheSameBytesBoundAsABlob) {
    // How RefreshTokenRepository binds a hash: CAST of the bytes to BLOB.
    const std::string bytes("\x00\xab\xff\x10", 4);
    long long n = 0;
    s << "SELECT unhex('00abff10') = CAST(:b AS BLOB)", soci::use(bytes), soci::into(n);
    EXPECT_EQ(n, 1);
}

TEST(SqliteUnhexDefineTest, RefusesASessionThatIsNotSqlite) {
    soci::session none;  // not connected: no backend
    EXPECT_ANY_THROW(defineSqliteUnhex(none));
}

}  // namespace
