// Refresh tokens across restarts, and what the SQLite file holds (never a token or password).
#include "support/Harness.h"

namespace it {
namespace {

class RefreshStorageTest : public ServiceTest {};

std::string toHex(const std::string& bytes) {
    static const char* kHex = "0123456789abcdef";
    std::string out;
    for (unsigned char ch : bytes) {
        out += kHex[ch >> 4];
        out += kHex[ch & 15];
    }
    return out;
}

TEST_F(RefreshStorageTest, TokensSurviveARestart) {
    const auto [email, id] = newUser();
    const Tokens t = login(*client, email, kPassword);
    const HttpResponse r1 = refresh(*client, t.refresh);
    ASSERT_EQ(r1.status, 200) << r1;
    const std::string t1 = r1.jsonBody()["refresh_token"];
    const Tokens other = login(*client, email, kPassword);

    int stopStatus = -2;
    ASSERT_TRUE(restartServer(&stopStatus)) << server->logTail();
    EXPECT_EQ(stopStatus, 0);

    const HttpResponse r2 = refresh(*client, t1);
    ASSERT_EQ(r2.status, 200) << "a rotated token did not survive the restart: " << r2;
    EXPECT_EQ(refresh(*client, other.refresh).status, 200);
    // The consumed token is still known as consumed (its successor t1 is used now): theft.
    EXPECT_EQ(refresh(*client, t.refresh).status, 401);
    EXPECT_EQ(refresh(*client, r2.jsonBody()["refresh_token"].get<std::string>()).status, 401)
        << "reuse after restart did not revoke the family";
}

TEST_F(RefreshStorageTest, RetryInsideGraceWorksAcrossARestart) {
    // The successor is derived, not stored: it must be the same after a restart.
    const auto [email, id] = newUser();
    const Tokens t = login(*client, email, kPassword);
    const HttpResponse r1 = refresh(*client, t.refresh);
    ASSERT_EQ(r1.status, 200) << r1;
    ASSERT_TRUE(restartServer()) << server->logTail();
    const HttpResponse retry = refresh(*client, t.refresh);
    ASSERT_EQ(retry.status, 200) << retry;
    EXPECT_EQ(retry.jsonBody()["refresh_token"], r1.jsonBody()["refresh_token"]);
}

TEST_F(RefreshStorageTest, DatabaseHoldsNoTokenOrPasswordInClear) {
    SKIP_IF_POSTGRESQL("reads the bytes of the SQLite files");
    const std::string email = uniqueEmail();
    const std::string password = "Plaintext-Parrot-" + randomString(16);
    ASSERT_EQ(registerUser(*client, email, password).status, 201);
    const Tokens t = login(*client, email, password);
    const HttpResponse r1 = refresh(*client, t.refresh);
    ASSERT_EQ(r1.status, 200);
    const std::string t1 = r1.jsonBody()["refresh_token"];
    const HttpResponse r2 = refresh(*client, t.refresh);  // retry: same successor
    ASSERT_EQ(r2.status, 200);
    const Tokens t2 = login(*client, email, password);

    std::vector<std::string> secrets = {password, t.refresh, t1, t2.refresh, t.access, t2.access};
    for (const std::string& token : {t.refresh, t1, t2.refresh}) {
        if (auto raw = base64UrlDecode(token)) {
            secrets.push_back(*raw);
            secrets.push_back(toHex(*raw));
        }
    }
    auto check = [&](const std::string& when) {
        std::string bytes;
        for (const char* suffix : {"", "-wal", "-journal", "-shm"}) {
            bytes += readFileBytes(server->dbPath().string() + suffix);
        }
        ASSERT_GT(bytes.size(), 1000u) << "the database file is not where the config says";
        EXPECT_NE(bytes.find(email), std::string::npos)
            << when << ": sanity check failed, the user's email is not in the files";
        for (const auto& s : secrets) {
            EXPECT_EQ(bytes.find(s), std::string::npos)
                << when << ": found a secret in clear (" << s.size() << " bytes)";
        }
    };
    check("while running");
    EXPECT_EQ(server->stop(), 0);
    check("after shutdown");
}

}  // namespace
}  // namespace it
