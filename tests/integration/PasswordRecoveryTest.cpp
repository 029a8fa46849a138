// Password recovery end to end through mail actually received by a real SMTP server
// (python3-aiosmtpd): forgot -> mail -> reset -> the old password and every old refresh
// token refused, a notice mailed; the same 202 for unknown addresses, in body and in time;
// bad tokens; the operator's reset link.
#include <algorithm>
#include <cmath>

#include "support/Harness.h"

namespace it {
namespace {

using namespace std::chrono_literals;
const std::string kNewPassword = "a completely new passphrase";

class PasswordRecoveryTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(sink.start()) << "python3-aiosmtpd (scripts/setup.sh --test)";
        server = std::make_unique<ServerProcess>(
            json{{"server", {{"public_url", "https://auth.example.com"}}},
                 {"mail",
                  {{"transport", "smtp"},
                   {"smtp_url", sink.url()},
                   {"starttls", "off"},
                   {"from", "Example App <no-reply@example.com>"},
                   {"retry_initial", "200ms"}}},
                 {"auth", {{"recovery", extraRecovery()}}}});
        ASSERT_TRUE(server->start()) << server->logTail();
        client = std::make_unique<HttpClient>(server->port());
    }
    virtual json extraRecovery() const { return json::object(); }
    void TearDown() override {
        if (server) {
            // Never a token in the log.
            for (const auto& m : sink.messages()) {
                const std::string token = linkTokenIn(m);
                if (!token.empty()) {
                    EXPECT_EQ(server->log().find(token), std::string::npos) << "token in the log";
                }
            }
            server->stop();
        }
    }
    std::string registered() {
        const std::string email = uniqueEmail("recover");
        EXPECT_EQ(registerUser(*client, email, kPassword).status, 201);
        return email;
    }
    HttpResponse forgot(const std::string& email) {
        return client->postJson("/api/password/forgot", {{"email", email}});
    }
    HttpResponse reset(const std::string& token, const std::string& password = kNewPassword) {
        return client->postJson("/api/password/reset",
                                {{"token", token}, {"new_password", password}});
    }

    SmtpSink sink;
    std::unique_ptr<ServerProcess> server;
    std::unique_ptr<HttpClient> client;
};

TEST_F(PasswordRecoveryTest, ForgotMailResetThenOldPasswordAndEverySessionRefused) {
    const std::string email = registered();
    const Tokens first = login(*client, email, kPassword);
    const Tokens second = login(*client, email, kPassword);

    const HttpResponse accepted = forgot(email);
    ASSERT_EQ(accepted.status, 202) << accepted;
    EXPECT_EQ(accepted.jsonBody(), json::object());

    const auto mails = sink.waitForMessages(1, 30s, "To: " + email);
    ASSERT_EQ(mails.size(), 1u) << server->logTail();
    const std::string& mail = mails[0];
    EXPECT_NE(mail.find("X-Envelope-To: " + email), std::string::npos) << mail;
    EXPECT_NE(mail.find("From: Example App <no-reply@example.com>"), std::string::npos) << mail;
    EXPECT_NE(mail.find("Content-Type: text/plain; charset=utf-8"), std::string::npos) << mail;
    EXPECT_NE(mail.find("\r\nDate: "), std::string::npos) << mail;
    EXPECT_NE(mail.find("\r\nMessage-ID: <"), std::string::npos) << mail;
    EXPECT_NE(mail.find("https://auth.example.com/account/reset?token="), std::string::npos)
        << mail;
    const std::string token = linkTokenIn(mail);
    ASSERT_EQ(token.size(), 43u) << mail;

    const HttpResponse done = reset(token);
    ASSERT_EQ(done.status, 204) << done;
    expectError(loginRaw(*client, email, kPassword), 401, "invalid_credentials");
    EXPECT_EQ(loginRaw(*client, email, kNewPassword).status, 200);
    for (const auto* t : {&first, &second}) {
        expectError(refresh(*client, t->refresh), 401, "invalid_grant");
    }
    // Single use.
    expectError(reset(token, "and yet another passphrase"), 400, "invalid_grant");
    EXPECT_EQ(loginRaw(*client, email, kNewPassword).status, 200);
    // The notice.
    const auto notices = sink.waitForMessages(1, 30s, "Subject: Your password was changed");
    ASSERT_EQ(notices.size(), 1u);
    EXPECT_NE(notices[0].find("To: " + email), std::string::npos);
}

TEST_F(PasswordRecoveryTest, UnknownAddressesGetTheSameAnswerAndNoMail) {
    const std::string known = registered();
    const std::string unknown = uniqueEmail("ghost");
    const HttpResponse a = forgot(known);
    const HttpResponse b = forgot(unknown);
    EXPECT_EQ(a.status, 202);
    EXPECT_EQ(b.status, 202);
    EXPECT_EQ(a.body, b.body);
    EXPECT_EQ(forgot("not an address").status, 202);
    ASSERT_EQ(sink.waitForMessages(1, 30s, "To: " + known).size(), 1u);
    // The unknown address's request was handled (skipped) by now or soon: wait for the
    // metric rather than for a mail that must not come.
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline &&
           client->get("/metrics")
                   .body.find("authsvc_mail_total{kind=\"password_reset\",result=\"skipped\"} 1") ==
               std::string::npos) {
        std::this_thread::sleep_for(50ms);
    }
    EXPECT_NE(client->get("/metrics")
                  .body.find("authsvc_mail_total{kind=\"password_reset\",result=\"skipped\"} 1"),
              std::string::npos);
    for (const auto& m : sink.messages()) EXPECT_EQ(m.find(unknown), std::string::npos);
}

TEST_F(PasswordRecoveryTest, BadTokensAre400InvalidGrantAndChangeNothing) {
    const std::string email = registered();
    for (const std::string& bad :
         {std::string("nope"), std::string(43, 'A'), std::string(44, 'A'), std::string("")}) {
        expectError(reset(bad), 400, "invalid_grant");
    }
    expectError(client->postJson("/api/password/reset", {{"token", std::string(43, 'A')}}), 400,
                "invalid_request");
    ASSERT_EQ(forgot(email).status, 202);
    const auto mails = sink.waitForMessages(1, 30s, "To: " + email);
    ASSERT_EQ(mails.size(), 1u);
    const std::string token = linkTokenIn(mails[0]);
    // A password the register rules refuse: 400 invalid_request, and the token still works.
    expectError(reset(token, "short"), 400, "invalid_request");
    EXPECT_EQ(loginRaw(*client, email, kPassword).status, 200);
    // A newer link voids the older one.
    ASSERT_EQ(forgot(email).status, 202);
    const auto both = sink.waitForMessages(2, 30s, "To: " + email);
    ASSERT_EQ(both.size(), 2u);
    const std::string newer = linkTokenIn(both[1]);
    ASSERT_NE(newer, token);
    expectError(reset(token), 400, "invalid_grant");
    EXPECT_EQ(loginRaw(*client, email, kPassword).status, 200);
    EXPECT_EQ(reset(newer).status, 204);
}

TEST_F(PasswordRecoveryTest, OperatorResetLink) {
    const std::string email = registered();
    const CommandResult r = runAuthsvc(
        {"user", "reset-link", email, "--config", server->configPath().string()}, server->dir());
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const std::string prefix = "https://auth.example.com/account/reset?token=";
    ASSERT_EQ(r.out.rfind(prefix, 0), 0u) << r.out;
    const std::string token = r.out.substr(prefix.size(), 43);
    EXPECT_EQ(reset(token).status, 204);
    EXPECT_EQ(loginRaw(*client, email, kNewPassword).status, 200);
    const CommandResult unknown = runAuthsvc(
        {"user", "reset-link", uniqueEmail("ghost"), "--config", server->configPath().string()},
        server->dir());
    EXPECT_EQ(unknown.exitCode, 1);
}

class RecoveryThrottleTest : public PasswordRecoveryTest {
  protected:
    json extraRecovery() const override {
        return {{"per_email_per_hour", 2}, {"per_ip_per_hour", 1000}};
    }
};

TEST_F(RecoveryThrottleTest, BeyondTheLimitTheAnswerIsTheSameAndNothingIsQueued) {
    const std::string email = registered();
    for (int i = 0; i < 4; ++i) {
        const HttpResponse r = forgot(email);
        EXPECT_EQ(r.status, 202) << r;
        EXPECT_EQ(r.jsonBody(), json::object());
    }
    EXPECT_EQ(sink.waitForMessages(2, 30s, "To: " + email).size(), 2u);
    // Give a third mail, if one were queued, the time to arrive.
    std::this_thread::sleep_for(1500ms);
    EXPECT_EQ(sink.waitForMessages(3, 1ms, "To: " + email).size(), 2u);
}

class RecoveryTimingTest : public PasswordRecoveryTest {
  protected:
    json extraRecovery() const override {
        return {{"per_email_per_hour", 0}, {"per_ip_per_hour", 0}};
    }
};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// Known and unknown addresses: the same work before the 202, so the same time. Interleaved,
// many requests, medians compared with a margin (a loaded 2-core VM).
TEST_F(RecoveryTimingTest, KnownAndUnknownAddressesTakeTheSameTime) {
    const std::string known = registered();
    std::vector<double> knownTimes, unknownTimes;
    for (int i = 0; i < 5; ++i) forgot(uniqueEmail("warmup"));
    for (int i = 0; i < 60; ++i) {
        const HttpResponse a = forgot(known);
        const HttpResponse b = forgot(uniqueEmail("nobody"));
        ASSERT_EQ(a.status, 202);
        ASSERT_EQ(b.status, 202);
        EXPECT_EQ(a.body, b.body);
        knownTimes.push_back(a.seconds * 1000);
        unknownTimes.push_back(b.seconds * 1000);
    }
    const double mk = median(knownTimes), mu = median(unknownTimes);
    RecordProperty("median_known_ms", std::to_string(mk));
    RecordProperty("median_unknown_ms", std::to_string(mu));
    std::cout << "forgot median: known " << mk << " ms, unknown " << mu << " ms\n";
    EXPECT_LT(std::fabs(mk - mu), std::max(3.0, 0.5 * std::min(mk, mu)))
        << "known " << mk << " ms, unknown " << mu << " ms";
}

}  // namespace
}  // namespace it
