// Secrets and the files that hold them, end to end: refresh.secret is its own (required
// beside jwt.secret), what an in-flight retry gets when it changes (the upgrade path in the
// README), a config file holding a secret that others can read is warned about, and an
// unknown email costs what a known one costs after an argon2id parameter change.
#include <sys/stat.h>

#include <algorithm>
#include <iostream>

#include "support/Harness.h"

namespace it {
namespace {

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

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
    const std::string warning = "and every user of this machine may read the file";
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

// The stored hashes were made with costlier parameters than the configured ones (the
// configuration was made cheaper, or its change has not reached most users yet): an unknown
// email must not answer faster than a known one with a wrong password.
TEST(SecretsTest, AfterAParameterChangeUnknownEmailsCostWhatKnownOnesCost) {
    const json limits = {{"per_ip_per_minute", 100000}, {"per_account_per_minute", 100000}};
    ServerProcess server(json{
        {"auth",
         {{"argon2id", {{"memory_kib", 4096}, {"iterations", 6}}}, {"login_rate_limit", limits}}}});
    ASSERT_TRUE(server.start()) << server.logTail();
    std::vector<std::string> emails;
    {
        HttpClient c(server.port());
        for (int i = 0; i < 3; ++i) {
            emails.push_back(uniqueEmail("costly"));
            ASSERT_EQ(registerUser(c, emails.back(), kPassword).status, 201);
        }
    }
    server.config()["auth"]["argon2id"] = {{"memory_kib", 64}, {"iterations", 1}};
    ASSERT_TRUE(server.restart()) << server.logTail();
    const std::string log = server.waitForLog(
        "unknown emails now verify a dummy hash of argon2id m=4096 t=6", std::chrono::seconds(20));
    ASSERT_NE(log.find("unknown emails now verify a dummy hash of argon2id m=4096 t=6"),
              std::string::npos)
        << server.logTail();

    HttpClient c(server.port());
    std::vector<double> known, unknown;
    for (int i = 0; i < 9; ++i) {
        auto k = loginRaw(c, emails[size_t(i) % emails.size()], "wrong password");
        auto u = loginRaw(c, uniqueEmail("nobody"), "wrong password");
        ASSERT_EQ(k.status, 401) << k;
        ASSERT_EQ(u.status, 401) << u;
        known.push_back(k.seconds);
        unknown.push_back(u.seconds);
    }
    // The same argon2id work on both sides: about 1. With the configured parameters the
    // unknown email took a small fraction (m=64 t=1 against m=4096 t=6).
    const double ratio = median(unknown) / median(known);
    std::cout << "login medians: unknown email " << median(unknown) * 1000 << " ms, known email "
              << median(known) * 1000 << " ms\n";
    EXPECT_GT(ratio, 0.4) << "unknown " << median(unknown) << " s, known " << median(known) << " s";
}

}  // namespace
}  // namespace it
