// The command line: --version, --help, migrate [status], user add, config errors, env overrides.
#include <regex>

#include "support/Harness.h"

namespace it {
namespace {

using namespace std::chrono_literals;

std::vector<std::string> nonEmptyLines(const std::string& text) {
    std::vector<std::string> out;
    for (auto& l : splitLines(text)) {
        if (l.find_first_not_of(" \t") != std::string::npos) out.push_back(l);
    }
    return out;
}

class CliTest : public ::testing::Test {
  protected:
    void SetUp() override { server = std::make_unique<ServerProcess>(); }
    CommandResult run(std::vector<std::string> args, const std::string& stdinData = "") {
        args.push_back("--config");
        args.push_back(server->configPath().string());
        return runAuthsvc(args, server->dir(), stdinData);
    }
    std::unique_ptr<ServerProcess> server;
};

TEST_F(CliTest, VersionPrintsAVersionAndExitsZero) {
    const CommandResult r = runAuthsvc({"--version"}, server->dir());
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_TRUE(std::regex_search(r.out + r.err, std::regex(R"(\d+\.\d+\.\d+)"))) << r.out << r.err;
}

TEST_F(CliTest, HelpListsTheCommands) {
    const CommandResult r = runAuthsvc({"--help"}, server->dir());
    EXPECT_EQ(r.exitCode, 0) << r.err;
    for (const char* word : {"serve", "migrate", "user"}) {
        EXPECT_TRUE(containsI(r.out + r.err, word)) << word << " missing from --help:\n" << r.out;
    }
}

TEST_F(CliTest, UnknownCommandFails) {
    const CommandResult r = runAuthsvc({"frobnicate"}, server->dir());
    EXPECT_NE(r.exitCode, 0);
    EXPECT_FALSE(r.timedOut);
}

TEST_F(CliTest, MigrateAppliesOnceAndStatusReportsIt) {
    server->writeConfig();
    const CommandResult before = run({"migrate", "status"});
    EXPECT_EQ(before.exitCode, 0) << before.out << before.err;
    EXPECT_FALSE(nonEmptyLines(before.out + before.err).empty());

    const CommandResult apply = run({"migrate"});
    ASSERT_EQ(apply.exitCode, 0) << apply.out << apply.err;
    if (!serverDbMode()) {
        EXPECT_TRUE(fs::exists(server->dbPath()));
    }

    const CommandResult after = run({"migrate", "status"});
    EXPECT_EQ(after.exitCode, 0) << after.out << after.err;
    EXPECT_NE(before.out, after.out) << "status did not change after migrate:\n" << after.out;

    const CommandResult again = run({"migrate"});
    EXPECT_EQ(again.exitCode, 0) << again.out << again.err;
    const CommandResult still = run({"migrate", "status"});
    EXPECT_EQ(still.out, after.out) << "a second migrate changed the status";

    // The server starts on the migrated database (auto_migrate has nothing left to do).
    ASSERT_TRUE(server->start()) << server->logTail();
    const auto email = uniqueEmail();
    HttpClient c(server->port());
    EXPECT_EQ(registerUser(c, email, kPassword).status, 201);
    EXPECT_EQ(server->stop(), 0);
    EXPECT_EQ(run({"migrate", "status"}).out, after.out);
}

TEST_F(CliTest, UserAddThenLogin) {
    server->writeConfig();
    const std::string email = uniqueEmail("operator");
    const CommandResult add = run({"user", "add", email}, kPassword + "\n");
    ASSERT_EQ(add.exitCode, 0) << add.out << add.err;
    EXPECT_EQ((add.out + add.err).find(kPassword), std::string::npos) << "password echoed";

    const CommandResult dup = run({"user", "add", email}, kPassword + "\n");
    EXPECT_NE(dup.exitCode, 0) << "adding an existing user must fail";
    const CommandResult weak = run({"user", "add", uniqueEmail("weak")}, "short\n");
    EXPECT_NE(weak.exitCode, 0) << "a password below the minimum length must be refused";

    ASSERT_TRUE(server->start()) << server->logTail();
    HttpClient c(server->port());
    const HttpResponse r = loginRaw(c, email, kPassword);
    EXPECT_EQ(r.status, 200) << r;
    EXPECT_EQ(loginRaw(c, email, kPassword + "\n").status, 401);
    EXPECT_EQ(server->stop(), 0);
}

struct BadConfigCase {
    const char* name;
    json overrides;
    const char* key;  // what the error line must name
};

void PrintTo(const BadConfigCase& c, std::ostream* os) {
    *os << c.name;
}

class BadConfigTest : public ::testing::TestWithParam<BadConfigCase> {};

TEST_P(BadConfigTest, ExitsNonZeroWithOneLineNamingKeyAndFile) {
    const BadConfigCase& c = GetParam();
    ServerProcess server(c.overrides);
    server.writeConfig();
    const CommandResult r =
        runAuthsvc({"serve", "--config", server.configPath().string()}, server.dir(), "", {}, 10s);
    EXPECT_FALSE(r.timedOut) << "authsvc kept running with a bad config";
    EXPECT_NE(r.exitCode, 0);
    EXPECT_LT(r.exitCode, 128) << "crashed instead of exiting";
    const auto lines = nonEmptyLines(r.err);
    EXPECT_EQ(lines.size(), 1u) << "stderr:\n" << r.err;
    bool named = false;
    for (const auto& l : lines) {
        named = named ||
                (containsI(l, c.key) && l.find(server.configPath().string()) != std::string::npos);
    }
    EXPECT_TRUE(named) << "no line names '" << c.key << "' and " << server.configPath()
                       << "; stderr:\n"
                       << r.err;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadConfigTest,
    ::testing::Values(
        BadConfigCase{"UnknownKey", {{"server", {{"prot", 8080}}}}, "prot"},
        BadConfigCase{"UnknownSection", {{"sever", {{"port", 8080}}}}, "sever"},
        BadConfigCase{"WrongType", {{"server", {{"max_body_bytes", "lots"}}}}, "max_body_bytes"},
        BadConfigCase{"ShortSecret", {{"jwt", {{"secret", "too-short"}}}}, "secret"},
        BadConfigCase{"BadDuration", {{"jwt", {{"access_ttl", "15 parsecs"}}}}, "access_ttl"},
        BadConfigCase{"BadRegistration", {{"auth", {{"registration", "maybe"}}}}, "registration"},
        BadConfigCase{"NegativeGrace", {{"refresh", {{"reuse_grace", "-5s"}}}}, "reuse_grace"},
        BadConfigCase{"BadAlgorithm", {{"jwt", {{"algorithm", "none"}}}}, "algorithm"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(CliConfigFileAnyBackendTest, MissingConfigFileIsAnError) {
    ServerProcess server;
    const std::string missing = (server.dir() / "does-not-exist.yaml").string();
    const CommandResult r = runAuthsvc({"serve", "--config", missing}, server.dir(), "", {}, 10s);
    EXPECT_FALSE(r.timedOut);
    EXPECT_NE(r.exitCode, 0);
    EXPECT_TRUE(r.err.find("does-not-exist.yaml") != std::string::npos) << r.err;
}

class EnvOverrideTest : public ServiceTest {
  protected:
    std::map<std::string, std::string> environment() const override {
        return {{"AUTHSVC_AUTH_REGISTRATION", "closed"}, {"AUTHSVC_JWT_ACCESS_TTL", "60s"}};
    }
};

TEST_F(EnvOverrideTest, EnvironmentOverridesTheFile) {
    expectError(registerUser(*client, uniqueEmail(), kPassword), 403, "registration_closed");
    const std::string email = uniqueEmail();
    const CommandResult add =
        runAuthsvc({"user", "add", email, "--config", server->configPath().string()}, server->dir(),
                   kPassword + "\n");
    ASSERT_EQ(add.exitCode, 0) << add.err;
    const HttpResponse r = loginRaw(*client, email, kPassword);
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_EQ(r.jsonBody()["expires_in"], 60);
}

TEST(EnvOverridePortAnyBackendTest, ServerPortFromEnvironment) {
    const int envPort = freePort();
    ServerProcess server({}, {{"AUTHSVC_SERVER_PORT", std::to_string(envPort)}});
    server.probeOn(envPort);
    ASSERT_TRUE(server.start()) << "nothing listens on AUTHSVC_SERVER_PORT:\n" << server.logTail();
    ASSERT_NE(server.port(), envPort);
    HttpClient fileClient(server.port());  // the port written in the file
    fileClient.setTimeoutMs(300);
    EXPECT_EQ(fileClient.get("/healthz").status, 0) << "the file's port was used";
    EXPECT_EQ(server.stop(), 0);
}

}  // namespace
}  // namespace it
