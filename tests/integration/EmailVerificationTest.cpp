// Email verification end to end through mail received by a real SMTP server: with
// `required`, a new user's correct password gets 403 email_not_verified until the link of
// the mail is opened (POST /api/email/verify), then logs in with email_verified in the
// token and in GET /api/me; resend; users from before verification was turned on.
#include "support/Harness.h"

namespace it {
namespace {

using namespace std::chrono_literals;

json verificationConfig(const SmtpSink& sink, const std::string& mode) {
    return {{"server", {{"public_url", "https://auth.example.com"}}},
            {"auth", {{"email_verification", mode}}},
            {"mail",
             {{"transport", "smtp"},
              {"smtp_url", sink.url()},
              {"starttls", "off"},
              {"from", "no-reply@example.com"},
              {"retry_initial", "200ms"}}}};
}

bool claimVerified(const std::string& accessToken, bool* present = nullptr) {
    auto decoded = decodeJwt(accessToken);
    if (!decoded) return false;
    const json& claims = decoded->second;
    if (present) *present = claims.contains("email_verified");
    return claims.value("email_verified", false);
}

TEST(EmailVerificationTest, RequiredRefusesTheLoginUntilTheMailedLinkIsOpened) {
    SmtpSink sink;
    ASSERT_TRUE(sink.start());
    ServerProcess server(verificationConfig(sink, "required"));
    ASSERT_TRUE(server.start()) << server.logTail();
    HttpClient client(server.port());
    const std::string email = uniqueEmail("verify");
    ASSERT_EQ(registerUser(client, email, kPassword).status, 201);
    expectError(loginRaw(client, email, kPassword), 403, "email_not_verified");
    expectError(loginRaw(client, email, "a wrong password"), 401, "invalid_credentials");

    const auto mails = sink.waitForMessages(1, 30s, "To: " + email);
    ASSERT_EQ(mails.size(), 1u) << server.logTail();
    EXPECT_NE(mails[0].find("https://auth.example.com/account/verify?token="), std::string::npos)
        << mails[0];
    const std::string token = linkTokenIn(mails[0], "/verify");
    ASSERT_EQ(token.size(), 43u);

    const HttpResponse verified = client.postJson("/api/email/verify", {{"token", token}});
    ASSERT_EQ(verified.status, 200) << verified;
    EXPECT_EQ(verified.jsonBody(), (json{{"email_verified", true}}));
    expectError(client.postJson("/api/email/verify", {{"token", token}}), 400, "invalid_grant");

    const Tokens t = login(client, email, kPassword);
    EXPECT_TRUE(claimVerified(t.access));
    const HttpResponse me = client.getWithToken("/api/me", t.access);
    ASSERT_EQ(me.status, 200) << me;
    EXPECT_EQ(me.jsonBody().value("email_verified", false), true) << me;
    const HttpResponse refreshed = refresh(client, t.refresh);
    ASSERT_EQ(refreshed.status, 200) << refreshed;
    EXPECT_TRUE(claimVerified(refreshed.jsonBody().value("access_token", "")));
    server.stop();
}

TEST(EmailVerificationTest, ResendAnswersTheSameAndMailsANewLink) {
    SmtpSink sink;
    ASSERT_TRUE(sink.start());
    ServerProcess server(verificationConfig(sink, "optional"));
    ASSERT_TRUE(server.start()) << server.logTail();
    HttpClient client(server.port());
    const std::string email = uniqueEmail("resend");
    ASSERT_EQ(registerUser(client, email, kPassword).status, 201);
    // optional: tokens as usual, the claim false.
    const Tokens t = login(client, email, kPassword);
    bool present = false;
    EXPECT_FALSE(claimVerified(t.access, &present));
    EXPECT_TRUE(present);
    EXPECT_EQ(client.getWithToken("/api/me", t.access).jsonBody().value("email_verified", true),
              false);
    ASSERT_EQ(sink.waitForMessages(1, 30s, "To: " + email).size(), 1u);
    const HttpResponse a = client.postJson("/api/email/verify/resend", {{"email", email}});
    const HttpResponse b =
        client.postJson("/api/email/verify/resend", {{"email", uniqueEmail("ghost")}});
    EXPECT_EQ(a.status, 202);
    EXPECT_EQ(b.status, 202);
    EXPECT_EQ(a.body, b.body);
    const auto mails = sink.waitForMessages(2, 30s, "To: " + email);
    ASSERT_EQ(mails.size(), 2u);
    const std::string older = linkTokenIn(mails[0], "/verify");
    const std::string newer = linkTokenIn(mails[1], "/verify");
    expectError(client.postJson("/api/email/verify", {{"token", older}}), 400, "invalid_grant");
    EXPECT_EQ(client.postJson("/api/email/verify", {{"token", newer}}).status, 200);
    server.stop();
}

TEST(EmailVerificationTest, UsersFromBeforeCountAsVerifiedWhenRequiredIsTurnedOn) {
    SmtpSink sink;
    ASSERT_TRUE(sink.start());
    ServerProcess server(verificationConfig(sink, "off"));
    ASSERT_TRUE(server.start()) << server.logTail();
    HttpClient client(server.port());
    const std::string email = uniqueEmail("before");
    ASSERT_EQ(registerUser(client, email, kPassword).status, 201);
    bool present = true;
    claimVerified(login(client, email, kPassword).access, &present);
    EXPECT_FALSE(present) << "no claim while verification is off";
    server.config()["auth"]["email_verification"] = "required";
    ASSERT_TRUE(server.restart()) << server.logTail();
    client.setPort(server.port());
    const Tokens t = login(client, email, kPassword);
    EXPECT_TRUE(claimVerified(t.access));
    server.stop();
}

TEST(EmailVerificationTest, ChangingTheAddressThroughALinkToTheNewOne) {
    SmtpSink sink;
    ASSERT_TRUE(sink.start());
    ServerProcess server(verificationConfig(sink, "off"));
    ASSERT_TRUE(server.start()) << server.logTail();
    HttpClient client(server.port());
    const std::string email = uniqueEmail("old");
    const std::string next = uniqueEmail("new");
    const std::string taken = uniqueEmail("taken");
    ASSERT_EQ(registerUser(client, email, kPassword).status, 201);
    ASSERT_EQ(registerUser(client, taken, kPassword).status, 201);
    const Tokens t = login(client, email, kPassword);
    const std::string bearer = "Authorization: Bearer " + t.access;
    const auto change = [&](const std::string& to, const std::string& password) {
        return client.postJson("/api/email", {{"new_email", to}, {"password", password}}, {bearer});
    };
    expectError(client.postJson("/api/email", {{"new_email", next}, {"password", kPassword}}), 401,
                "missing_token");
    expectError(change(next, "a wrong password"), 401, "invalid_credentials");
    expectError(change(taken, kPassword), 409, "email_taken");
    expectError(change("nope", kPassword), 400, "invalid_request");
    const HttpResponse accepted = change(next, kPassword);
    ASSERT_EQ(accepted.status, 202) << accepted;
    const auto mails = sink.waitForMessages(1, 30s, "To: " + next);
    ASSERT_EQ(mails.size(), 1u) << server.logTail();
    const std::string token = linkTokenIn(mails[0], "/verify");
    ASSERT_EQ(token.size(), 43u);
    EXPECT_EQ(loginRaw(client, email, kPassword).status, 200) << "nothing changed yet";
    const HttpResponse verified = client.postJson("/api/email/verify", {{"token", token}});
    ASSERT_EQ(verified.status, 200) << verified;
    expectError(loginRaw(client, email, kPassword), 401, "invalid_credentials");
    const Tokens after = login(client, next, kPassword);
    EXPECT_EQ(client.getWithToken("/api/me", after.access).jsonBody().value("email", ""), next);
    // The notice to the old address.
    const auto notices = sink.waitForMessages(1, 30s, "To: " + email);
    ASSERT_EQ(notices.size(), 1u);
    EXPECT_NE(notices[0].find(next), std::string::npos);
    server.stop();
}

}  // namespace
}  // namespace it
