// The operator's account commands: `authsvc user delete EMAIL`, `user set-password EMAIL`
// (password from stdin, every session revoked) and `user list [--limit N]`, run beside a
// serving instance on the same database.
#include <regex>

#include "support/Harness.h"

namespace it {
namespace {

const std::string kNewPassword = "an operator's new passphrase";

class UserCommandsTest : public ServiceTest {
  protected:
    CommandResult run(std::vector<std::string> args, const std::string& stdinData = "") {
        args.push_back("--config");
        args.push_back(server->configPath().string());
        return runAuthsvc(args, server->dir(), stdinData);
    }
    static std::vector<std::string> lines(const std::string& text) {
        std::vector<std::string> out;
        for (auto& l : splitLines(text)) {
            if (!l.empty()) out.push_back(l);
        }
        return out;
    }
    // An expected refusal: exit code 1 and one "authsvc: ..." line on stderr.
    static void expectRefused(const CommandResult& r, const std::string& mentioning) {
        EXPECT_EQ(r.exitCode, 1) << r.out << r.err;
        const auto err = lines(r.err);
        ASSERT_EQ(err.size(), 1u) << r.err;
        EXPECT_EQ(err[0].rfind("authsvc: ", 0), 0u) << err[0];
        EXPECT_TRUE(containsI(err[0], mentioning)) << err[0];
    }
};

TEST_F(UserCommandsTest, DeleteRemovesTheUserAndEverySession) {
    const auto [email, id] = newUser();
    const auto [bystander, bystanderId] = newUser();
    const Tokens t = login(*client, email, kPassword);
    const Tokens kept = login(*client, bystander, kPassword);

    const CommandResult r = run({"user", "delete", email});
    ASSERT_EQ(r.exitCode, 0) << r.out << r.err;
    EXPECT_TRUE(containsI(r.out, email)) << r.out;

    expectError(loginRaw(*client, email, kPassword), 401, "invalid_credentials");
    expectError(refresh(*client, t.refresh), 401, "invalid_grant");
    expectError(client->getWithToken("/api/me", t.access), 401, "invalid_token");
    EXPECT_EQ(refresh(*client, kept.refresh).status, 200) << "another user was touched";

    expectRefused(run({"user", "delete", email}), email);
    expectRefused(run({"user", "delete", "nobody@example.com"}), "nobody@example.com");
    EXPECT_EQ(registerUser(*client, email, kPassword).status, 201) << "the email is free again";
}

TEST_F(UserCommandsTest, SetPasswordReadsStdinAndRevokesEverySession) {
    const auto [email, id] = newUser();
    const Tokens a = login(*client, email, kPassword);
    const Tokens b = login(*client, email, kPassword);

    CommandResult r = run({"user", "set-password", email}, "short\n");
    expectRefused(r, "password");
    EXPECT_EQ(refresh(*client, a.refresh).status, 200) << "a refused command revoked a session";
    const Tokens c = login(*client, email, kPassword);
    expectRefused(run({"user", "set-password", "nobody@example.com"}, kNewPassword + "\n"),
                  "nobody@example.com");

    r = run({"user", "set-password", email}, kNewPassword + "\n");
    ASSERT_EQ(r.exitCode, 0) << r.out << r.err;
    EXPECT_EQ((r.out + r.err).find(kNewPassword), std::string::npos) << "password echoed";
    expectError(refresh(*client, b.refresh), 401, "invalid_grant");
    expectError(refresh(*client, c.refresh), 401, "invalid_grant");
    expectError(loginRaw(*client, email, kPassword), 401, "invalid_credentials");
    EXPECT_EQ(loginRaw(*client, email, kNewPassword).status, 200);
}

TEST_F(UserCommandsTest, ListPrintsOneLineAUserByIdUpToTheLimit) {
    std::vector<std::pair<std::string, long long>> made;
    for (int i = 0; i < 3; ++i) made.push_back(newUser());

    CommandResult r = run({"user", "list"});
    ASSERT_EQ(r.exitCode, 0) << r.out << r.err;
    const std::regex line(R"((\d+) (\S+) (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ))");
    auto all = lines(r.out);
    ASSERT_EQ(all.size(), 3u) << r.out;
    for (size_t i = 0; i < all.size(); ++i) {
        std::smatch m;
        ASSERT_TRUE(std::regex_match(all[i], m, line)) << all[i];
        EXPECT_EQ(std::stoll(m[1]), made[i].second) << all[i];
        EXPECT_EQ(m[2], made[i].first) << all[i];
    }
    EXPECT_TRUE(r.err.empty()) << r.err;

    r = run({"user", "list", "--limit", "2"});
    ASSERT_EQ(r.exitCode, 0) << r.out << r.err;
    const auto two = lines(r.out);
    ASSERT_EQ(two.size(), 2u) << r.out;
    EXPECT_EQ(two[0], all[0]);
    EXPECT_EQ(two[1], all[1]);
    EXPECT_TRUE(containsI(r.err, "more")) << "stderr should say there are more: " << r.err;

    EXPECT_EQ(lines(run({"user", "list", "--limit", "3"}).err).size(), 0u);
    for (const char* bad : {"0", "-1", "many"}) {
        r = run({"user", "list", "--limit", bad});
        EXPECT_NE(r.exitCode, 0) << "--limit " << bad;
        EXPECT_TRUE(r.out.empty()) << r.out;
    }
}

}  // namespace
}  // namespace it
