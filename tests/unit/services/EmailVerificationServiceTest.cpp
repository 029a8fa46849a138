// Email verification on a real SQLite file with a ManualClock: registration queues a
// verification mail in its transaction and starts unverified; the link's token verifies
// once; `required` refuses a correct password of an unverified user; access tokens carry
// email_verified at login and at every refresh; users from before count as verified.
#include "services/EmailVerificationService.h"

#include <gtest/gtest.h>

#include "models/Migrator.h"
#include "services/MailSender.h"
#include "services/OneTimeToken.h"
#include "support/TestSupport.h"

namespace {

using namespace authsvc::models;
using authsvc::testing::kEmail;
using authsvc::testing::kPassword;

class NoTransport : public MailTransport {
  public:
    std::optional<std::string> send(const std::string&, const std::string& to,
                                    const std::string& message) override {
        sent.emplace_back(to, message);
        return std::nullopt;
    }
    std::vector<std::pair<std::string, std::string>> sent;
};

class EmailVerificationServiceTest : public ::testing::Test,
                                     protected authsvc::testing::SqliteServiceParts {
  protected:
    EmailVerificationServiceTest() : SqliteServiceParts("verify.db") {
        MailSettings ms;
        ms.linkBaseUrl = "https://app.example.com/account";
        sender = std::make_unique<MailSender>(*db, users, outbox, oneTime, transport, clock, ms);
        verification = std::make_unique<EmailVerificationService>(*db, users, outbox, oneTime,
                                                                  hasher, clock, 2, 10);
    }
    void useMode(EmailVerification mode) {
        settings.emailVerification = mode;
        makeAuth(&outbox);
    }
    // The token of the newest verification mail sent.
    std::string mailedToken() {
        sender->runOnce();
        if (transport.sent.empty()) return "";
        return linkTokenOfLast();
    }
    std::string linkTokenOfLast() {
        const std::string& m = transport.sent.back().second;
        const auto pos = m.find("/verify?token=");
        return pos == std::string::npos ? "" : m.substr(pos + 14, kOneTimeTokenLength);
    }
    std::optional<bool> claimOf(const std::string& accessToken) {
        auto claims = authsvc::testing::jwtSegment(accessToken, 1);
        if (!claims.contains("email_verified")) return std::nullopt;
        return claims["email_verified"].get<bool>();
    }

    MailOutboxRepository outbox;
    OneTimeTokenRepository oneTime;
    NoTransport transport;
    std::unique_ptr<MailSender> sender;
    std::unique_ptr<EmailVerificationService> verification;
};

TEST_F(EmailVerificationServiceTest, OffIsTodaysBehaviour) {
    useMode(EmailVerification::Off);
    auto u = auth->registerUser(kEmail, kPassword);
    ASSERT_TRUE(u);
    EXPECT_TRUE(u->emailVerified);
    EXPECT_EQ(db->read([&](Connection& s) { return outbox.status(s).queued; }), 0);
    auto pair = auth->login(kEmail, kPassword);
    ASSERT_TRUE(pair);
    EXPECT_FALSE(claimOf(pair->accessToken)) << "no email_verified claim when off";
}

TEST_F(EmailVerificationServiceTest, RequiredRefusesUntilTheLinkIsOpened) {
    useMode(EmailVerification::Required);
    auto u = auth->registerUser(kEmail, kPassword);
    ASSERT_TRUE(u);
    EXPECT_FALSE(u->emailVerified);
    auto refused = auth->login(kEmail, kPassword);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, ErrorCode::EmailNotVerified);
    // A wrong password is still invalid_credentials (no hint about verification).
    EXPECT_EQ(auth->login(kEmail, "wrong password!").error().code, ErrorCode::InvalidCredentials);

    const std::string token = mailedToken();
    ASSERT_EQ(token.size(), 43u);
    EXPECT_EQ(transport.sent.back().first, kEmail);
    ASSERT_TRUE(verification->verify(token));
    auto again = verification->verify(token);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, ErrorCode::InvalidOneTimeToken);

    auto pair = auth->login(kEmail, kPassword);
    ASSERT_TRUE(pair);
    EXPECT_EQ(claimOf(pair->accessToken), true);
    auto refreshed = auth->refresh(pair->refreshToken);
    ASSERT_TRUE(refreshed);
    EXPECT_EQ(claimOf(refreshed->accessToken), true) << "kept by the refreshes";
}

TEST_F(EmailVerificationServiceTest, OptionalGivesTokensWithTheClaimFalseUntilVerified) {
    useMode(EmailVerification::Optional);
    ASSERT_TRUE(auth->registerUser(kEmail, kPassword));
    auto pair = auth->login(kEmail, kPassword);
    ASSERT_TRUE(pair);
    EXPECT_EQ(claimOf(pair->accessToken), false);
    ASSERT_TRUE(verification->verify(mailedToken()));
    auto refreshed = auth->refresh(pair->refreshToken);
    ASSERT_TRUE(refreshed);
    EXPECT_EQ(claimOf(refreshed->accessToken), true) << "the next refresh shows the change";
}

TEST_F(EmailVerificationServiceTest, UsersFromBeforeCountAsVerified) {
    useMode(EmailVerification::Off);
    ASSERT_TRUE(auth->registerUser(kEmail, kPassword));
    useMode(EmailVerification::Required);
    auto pair = auth->login(kEmail, kPassword);
    ASSERT_TRUE(pair);
    EXPECT_EQ(claimOf(pair->accessToken), true);
    // An operator-added user counts as verified, and gets no mail.
    ASSERT_TRUE(auth->registerUser("op@example.com", kPassword, /*operatorOverride=*/true));
    EXPECT_TRUE(auth->login("op@example.com", kPassword));
    EXPECT_EQ(db->read([&](Connection& s) { return outbox.status(s).queued; }), 0);
}

TEST_F(EmailVerificationServiceTest, ResendIsThrottledAndOnlyMailsUnverifiedAccounts) {
    useMode(EmailVerification::Required);
    ASSERT_TRUE(auth->registerUser(kEmail, kPassword));
    const std::string first = mailedToken();
    EXPECT_TRUE(verification->resend(kEmail, "192.0.2.1"));
    const std::string second = mailedToken();
    ASSERT_NE(first, second);
    EXPECT_FALSE(verification->verify(first)) << "a newer link voids the older";
    EXPECT_TRUE(verification->resend("nobody@example.com", "192.0.2.1"));
    EXPECT_TRUE(verification->resend(kEmail, "192.0.2.1"));
    EXPECT_FALSE(verification->resend(kEmail, "192.0.2.1")) << "2 an hour per address";
    const size_t mails = transport.sent.size();
    sender->runOnce();
    EXPECT_EQ(transport.sent.size(), mails + 1) << "none for the unknown address";
    ASSERT_TRUE(verification->verify(linkTokenOfLast()));
    clock.advanceMs(MailRequestLimit::kWindowMs);
    EXPECT_TRUE(verification->resend(kEmail, "192.0.2.1"));
    sender->runOnce();
    EXPECT_EQ(transport.sent.size(), mails + 1) << "none for a verified address";
}

TEST_F(EmailVerificationServiceTest, ExpiredOrMalformedTokensAreRefused) {
    useMode(EmailVerification::Required);
    ASSERT_TRUE(auth->registerUser(kEmail, kPassword));
    const std::string token = mailedToken();
    EXPECT_FALSE(verification->verify("short"));
    clock.advanceMs(24LL * 3600 * 1000);
    EXPECT_FALSE(verification->verify(token));
    EXPECT_EQ(auth->login(kEmail, kPassword).error().code, ErrorCode::EmailNotVerified);
}

TEST_F(EmailVerificationServiceTest, ChangingTheAddressGoesThroughALinkToTheNewOne) {
    useMode(EmailVerification::Off);
    auto u = auth->registerUser(kEmail, kPassword);
    ASSERT_TRUE(u);
    ASSERT_TRUE(auth->registerUser("taken@example.com", kPassword));
    EXPECT_EQ(verification->requestChange(u->id, "not an address", kPassword).error().code,
              ErrorCode::InvalidRequest);
    EXPECT_EQ(verification->requestChange(u->id, "taken@example.com", kPassword).error().code,
              ErrorCode::EmailTaken);
    EXPECT_EQ(verification->requestChange(u->id, "new@example.com", "wrong password").error().code,
              ErrorCode::InvalidCredentials);
    ASSERT_TRUE(verification->requestChange(u->id, " New@Example.com", kPassword));
    const std::string token = mailedToken();
    ASSERT_EQ(token.size(), 43u);
    EXPECT_EQ(transport.sent.back().first, "new@example.com") << "the link goes to the NEW address";
    EXPECT_TRUE(auth->login(kEmail, kPassword)) << "nothing changes before the link is opened";
    ASSERT_TRUE(verification->verify(token));
    EXPECT_FALSE(auth->login(kEmail, kPassword));
    auto after = auth->userForEmail("new@example.com");
    ASSERT_TRUE(after);
    EXPECT_EQ(after->id, u->id);
    EXPECT_TRUE(after->emailVerified);
    // The notice to the OLD address.
    sender->runOnce();
    EXPECT_EQ(transport.sent.back().first, kEmail);
    EXPECT_NE(transport.sent.back().second.find("new@example.com"), std::string::npos);
    EXPECT_FALSE(verification->verify(token)) << "single use";
}

TEST_F(EmailVerificationServiceTest, AnAddressTakenMeanwhileIs409AndNothingChanges) {
    useMode(EmailVerification::Off);
    auto u = auth->registerUser(kEmail, kPassword);
    ASSERT_TRUE(u);
    ASSERT_TRUE(verification->requestChange(u->id, "new@example.com", kPassword));
    const std::string token = mailedToken();
    ASSERT_TRUE(auth->registerUser("new@example.com", kPassword));
    auto r = verification->verify(token);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::EmailTaken);
    EXPECT_TRUE(auth->login(kEmail, kPassword));
}

}  // namespace
