// Secrets and the files that hold them, end to end: refresh.secret is its own (required
// beside jwt.secret), what an in-flight retry gets when it changes (the upgrade path in the
// README), and a config file holding a secret that others can read is warned about.
#include <sys/stat.h>

#include "support/Harness.h"

namespace it {
namespace {

TEST(SecretsTest, RefreshSecretIsRequiredBesideJwtSecret) {
    ServerProcess only(json{{"refresh", {{"secret", nullptr}}}});  // jwt.secret alone
    EXPECT_FALSE(only.start());
    const std::string log = only.log();
    EXPECT_NE(log.find("refresh.secret: required beside jwt.secret"), std::string::npos) << log;
    EXPECT_NE(log.find("AUTHSVC_REFRESH_SECRET"), std::string::npos) << log;
    EXPECT_EQ(log.find(only.secret()), std::string::npos);  // never the secret itself

    ServerProcess same(json{{"refresh", {{"secret", nullptr}}}},
                       {{"AUTHSVC_REFRESH_SECRET", only.secret()}});
    same.config()["jwt"]["secret"] = only.secret();
    EXPECT_FALSE(same.start());
    EXPECT_NE(same.log().find("refresh.secret: must differ from jwt.secret"), std::string::npos)
        << same.logTail();

    ServerProcess fixed(json{{"refresh", {{"secret", nullptr}}}},
                        {{"AUTHSVC_REFRESH_SECRET", randomString(48)}});
    ASSERT_TRUE(fixed.start()) << fixed.logTail();
    HttpClient c(fixed.port());
    const std::string email = uniqueEmail("secrets");
    ASSERT_EQ(registerUser(c, email, kPassword).status, 201);
    Tokens t = login(c, email, kPassword);
    EXPECT_EQ(refresh(c, t.refresh).status, 200);
}

// The README's upgrade path: a deployment whose successor key was jwt.secret sets a
// refresh.secret of its own. A retry, within the grace window, of a refresh answered before
// the change cannot get the same successor again: it is refused (401 invalid_grant) without
// revoking the family, and the successor already handed out keeps working.
TEST(SecretsTest, ANewRefreshSecretRefusesAnEarlierRetryWithoutRevokingTheFamily) {
    ServerProcess server(json{{"refresh", {{"reuse_grace", "300s"}}}});
    ASSERT_TRUE(server.start()) << server.logTail();
    HttpClient c(server.port());
    const std::string email = uniqueEmail("upgrade");
    ASSERT_EQ(registerUser(c, email, kPassword).status, 201);
    Tokens t = login(c, email, kPassword);
    auto rotated = refresh(c, t.refresh);
    ASSERT_EQ(rotated.status, 200) << rotated;
    ASSERT_EQ(refresh(c, t.refresh).jsonBody()["refresh_token"],
              rotated.jsonBody()["refresh_token"]);           // the retry before the change
    server.config()["refresh"]["secret"] = randomString(48);  // the upgrade
    ASSERT_TRUE(server.restart()) << server.logTail();
    c.setPort(server.port());
    expectError(refresh(c, t.refresh), 401, "invalid_grant");
    auto next = refresh(c, rotated.jsonBody()["refresh_token"]);
    EXPECT_EQ(next.status, 200) << next;
    EXPECT_EQ(server.log().find("reuse detected"), std::string::npos);
}

TEST(SecretsTest, AConfigFileWithASecretReadableByOthersIsWarnedAbout) {
    const std::string warning = "and is readable by other users of this machine";
    ServerProcess readable;
    readable.writeConfig();
    ASSERT_EQ(::chmod(readable.configPath().c_str(), 0644), 0);
    ASSERT_TRUE(readable.start()) << readable.logTail();
    const std::string log = readable.waitForLog(warning, std::chrono::seconds(5));
    EXPECT_NE(log.find(readable.configPath().string() +
                       " holds a secret (jwt.secret, refresh.secret) " + warning),
              std::string::npos)
        << log;
    EXPECT_EQ(log.find(readable.secret()), std::string::npos);

    // Group-readable is fine (the service's group); so is a file without secrets.
    ServerProcess groupOnly;
    groupOnly.writeConfig();
    ASSERT_EQ(::chmod(groupOnly.configPath().c_str(), 0640), 0);
    ASSERT_TRUE(groupOnly.start()) << groupOnly.logTail();
    const std::string secret = randomString(48), refreshSecret = randomString(48);
    ServerProcess fromEnv(
        json{{"jwt", {{"secret", nullptr}}}, {"refresh", {{"secret", nullptr}}}},
        {{"AUTHSVC_JWT_SECRET", secret}, {"AUTHSVC_REFRESH_SECRET", refreshSecret}});
    fromEnv.writeConfig();
    ASSERT_EQ(::chmod(fromEnv.configPath().c_str(), 0644), 0);
    ASSERT_TRUE(fromEnv.start()) << fromEnv.logTail();
    for (ServerProcess* s : {&groupOnly, &fromEnv}) {
        HttpClient c(s->port());
        EXPECT_EQ(c.get("/healthz").status, 200);
        EXPECT_EQ(s->log().find(warning), std::string::npos) << s->log();
    }
}

}  // namespace
}  // namespace it
