// The mail outbox and its sender on a real SQLite file with a ManualClock and a recording
// transport: delivery, skipping unknown addresses, retries with backoff, dead rows and
// `mail retry`, and the lease that keeps two senders off one row.
#include "services/MailSender.h"

#include <gtest/gtest.h>

#include <fstream>

#include "models/Migrator.h"
#include "services/OneTimeToken.h"
#include "support/TestSupport.h"

namespace {

using namespace authsvc::models;
using authsvc::testing::TempDir;

class RecordingTransport : public MailTransport {
  public:
    std::optional<std::string> send(const std::string& from, const std::string& to,
                                    const std::string& message) override {
        sent.push_back({from, to, message});
        if (failWith) return failWith;
        return std::nullopt;
    }
    struct Mail {
        std::string from, to, message;
    };
    std::vector<Mail> sent;
    std::optional<std::string> failWith;
};

// The token of the link in a message ("...reset?token=<43 characters>").
std::string linkToken(const std::string& message) {
    const auto pos = message.find("/reset?token=");
    if (pos == std::string::npos) return "";
    return message.substr(pos + 13, kOneTimeTokenLength);
}

class MailSenderTest : public ::testing::Test {
  protected:
    MailSenderTest() {
        DatabaseSettings ds;
        ds.sqlitePath = (dir.path() / "mail.db").string();
        ds.poolSize = 2;
        db = std::make_unique<Database>(ds);
        Migrator(*db, clock).migrate();
        userId = *db->write([&](Connection& s) {
            return users.insert(s, "alice@example.com", "hash", clock.nowSeconds());
        });
        settings.from = "App <no-reply@example.com>";
        settings.linkBaseUrl = "https://app.example.com/account";
        settings.maxAttempts = 3;
        settings.retryInitial = std::chrono::milliseconds(1000);
    }
    std::unique_ptr<MailSender> sender(const std::string& tag = "") {
        (void)tag;
        return std::make_unique<MailSender>(
            *db, users, outbox, tokens, transport, clock, settings,
            MailEvents{[this](const std::string& kind, const std::string& result,
                              const std::string&) { results.push_back(kind + ":" + result); },
                       {}});
    }
    int64_t enqueue(const std::string& kind, std::optional<int64_t> user,
                    std::optional<std::string> address) {
        return db->write(
            [&](Connection& s) { return outbox.enqueue(s, kind, user, address, clock.nowMs()); });
    }
    OutboxStatus status() {
        return db->read([&](Connection& s) { return outbox.status(s); });
    }

    TempDir dir;
    authsvc::verify::ManualClock clock{1'800'000'000'000};
    std::unique_ptr<Database> db;
    UserRepository users;
    MailOutboxRepository outbox;
    OneTimeTokenRepository tokens;
    RecordingTransport transport;
    MailSettings settings;
    std::vector<std::string> results;
    int64_t userId = 0;
};

TEST_F(MailSenderTest, ARecoveryRequestForAKnownAddressSendsALinkWithAStoredHashOnly) {
    enqueue(kMailPasswordReset, std::nullopt, "alice@example.com");
    EXPECT_EQ(status().queued, 1);
    auto s = sender();
    EXPECT_EQ(s->runOnce(), 1);
    ASSERT_EQ(transport.sent.size(), 1u);
    const auto& mail = transport.sent[0];
    EXPECT_EQ(mail.from, "no-reply@example.com");
    EXPECT_EQ(mail.to, "alice@example.com");
    EXPECT_NE(mail.message.find("https://app.example.com/account/reset?token="), std::string::npos);
    const std::string token = linkToken(mail.message);
    ASSERT_EQ(token.size(), 43u);
    // Only the hash is stored: the token consumes once.
    auto hash = oneTimeTokenHash(token);
    ASSERT_TRUE(hash);
    auto consumed = db->write([&](Connection& c) {
        return tokens.consume(c, *hash, kPurposePasswordReset, clock.nowMs());
    });
    ASSERT_TRUE(consumed);
    EXPECT_EQ(consumed->userId, userId);
    EXPECT_FALSE(db->write([&](Connection& c) {
        return tokens.consume(c, *hash, kPurposePasswordReset, clock.nowMs());
    }));
    EXPECT_EQ(status().queued, 0);
    EXPECT_EQ(results, std::vector<std::string>{"password_reset:sent"});
    EXPECT_EQ(s->runOnce(), 0) << "a sent row is not sent again";
}

TEST_F(MailSenderTest, AnUnknownAddressIsSkippedWithoutAMail) {
    enqueue(kMailPasswordReset, std::nullopt, "nobody@example.com");
    EXPECT_EQ(sender()->runOnce(), 1);
    EXPECT_TRUE(transport.sent.empty());
    EXPECT_EQ(status().queued, 0);
    EXPECT_EQ(results, std::vector<std::string>{"password_reset:skipped"});
}

TEST_F(MailSenderTest, ANewerLinkVoidsTheOlderOne) {
    enqueue(kMailPasswordReset, std::nullopt, "alice@example.com");
    enqueue(kMailPasswordReset, std::nullopt, "alice@example.com");
    EXPECT_EQ(sender()->runOnce(), 2);
    ASSERT_EQ(transport.sent.size(), 2u);
    auto first = *oneTimeTokenHash(linkToken(transport.sent[0].message));
    auto second = *oneTimeTokenHash(linkToken(transport.sent[1].message));
    EXPECT_FALSE(db->write([&](Connection& c) {
        return tokens.consume(c, first, kPurposePasswordReset, clock.nowMs());
    }));
    EXPECT_TRUE(db->write([&](Connection& c) {
        return tokens.consume(c, second, kPurposePasswordReset, clock.nowMs());
    }));
}

TEST_F(MailSenderTest, LinksExpireAfterTheTtl) {
    settings.recoveryTtlMs = 60'000;
    enqueue(kMailPasswordReset, std::nullopt, "alice@example.com");
    sender()->runOnce();
    auto hash = *oneTimeTokenHash(linkToken(transport.sent.at(0).message));
    clock.advanceMs(60'000);
    EXPECT_FALSE(db->write([&](Connection& c) {
        return tokens.consume(c, hash, kPurposePasswordReset, clock.nowMs());
    }));
}

TEST_F(MailSenderTest, FailuresRetryWithBackoffThenTheRowIsDeadWithItsError) {
    transport.failWith = "connection refused";
    enqueue(kMailPasswordChanged, userId, std::nullopt);
    auto s = sender();
    EXPECT_EQ(s->runOnce(), 1);  // attempt 1 fails: due again in 1 s
    EXPECT_EQ(s->runOnce(), 0);
    clock.advanceMs(999);
    EXPECT_EQ(s->runOnce(), 0);
    clock.advanceMs(1);
    EXPECT_EQ(s->runOnce(), 1);  // attempt 2 fails: due again in 2 s
    clock.advanceMs(1999);
    EXPECT_EQ(s->runOnce(), 0);
    clock.advanceMs(1);
    EXPECT_EQ(s->runOnce(), 1);  // attempt 3 of 3 fails: dead
    clock.advanceMs(3'600'000);
    EXPECT_EQ(s->runOnce(), 0);
    EXPECT_EQ(transport.sent.size(), 3u);
    EXPECT_EQ(status().queued, 0);
    EXPECT_EQ(status().dead, 1);
    auto dead = db->read([&](Connection& c) { return outbox.deadErrors(c, 10); });
    ASSERT_EQ(dead.size(), 1u);
    EXPECT_EQ(dead[0].second, "password_changed: connection refused");
    EXPECT_EQ(results, (std::vector<std::string>{"password_changed:retry", "password_changed:retry",
                                                 "password_changed:dead"}));
    // `mail retry`: queued again, and delivered once the transport works.
    EXPECT_EQ(db->write([&](Connection& c) { return outbox.retryDead(c, clock.nowMs()); }), 1);
    transport.failWith.reset();
    EXPECT_EQ(s->runOnce(), 1);
    EXPECT_EQ(status().dead, 0);
    EXPECT_EQ(transport.sent.back().to, "alice@example.com");
}

TEST_F(MailSenderTest, ALeasedRowBelongsToOneSenderUntilTheLeaseExpires) {
    const int64_t id = enqueue(kMailPasswordChanged, userId, std::nullopt);
    const int64_t now = clock.nowMs();
    auto first = db->autocommit(
        [&](Connection& c) { return outbox.claim(c, id, "sender-a", now, now + 60'000); });
    ASSERT_TRUE(first);
    EXPECT_EQ(first->userId, userId);
    EXPECT_FALSE(db->autocommit(
        [&](Connection& c) { return outbox.claim(c, id, "sender-b", now, now + 60'000); }));
    // A second sender's round finds nothing while the lease lasts.
    EXPECT_EQ(sender()->runOnce(), 0);
    EXPECT_TRUE(transport.sent.empty());
    // The first sender died (kill -9): once the lease expired, another takes the row.
    clock.advanceMs(60'000);
    EXPECT_EQ(sender()->runOnce(), 1);
    EXPECT_EQ(transport.sent.size(), 1u);
    // The dead sender's late answer changes nothing.
    EXPECT_FALSE(db->write(
        [&](Connection& c) { return outbox.finish(c, id, "sender-a", "sent", clock.nowMs()); }));
}

TEST_F(MailSenderTest, ANoticeForADeletedUserIsSkipped) {
    enqueue(kMailPasswordChanged, userId + 100, std::nullopt);
    EXPECT_EQ(sender()->runOnce(), 1);
    EXPECT_TRUE(transport.sent.empty());
    EXPECT_EQ(results, std::vector<std::string>{"password_changed:skipped"});
}

TEST_F(MailSenderTest, TemplatesDirOverridesABuiltInTemplate) {
    std::ofstream(dir.path() / "password_changed.txt")
        << "Custom {{email}}\n\nBody for {{email}}\n";
    settings.templatesDir = dir.path().string();
    auto s = sender();
    EXPECT_EQ(s->templateFor(kMailPasswordChanged), "Custom {{email}}\n\nBody for {{email}}\n");
    enqueue(kMailPasswordChanged, userId, std::nullopt);
    s->runOnce();
    ASSERT_EQ(transport.sent.size(), 1u);
    EXPECT_NE(transport.sent[0].message.find("Subject: Custom alice@example.com\r\n"),
              std::string::npos);
    EXPECT_NE(transport.sent[0].message.find("\r\n\r\nBody for alice@example.com\r\n"),
              std::string::npos);
}

}  // namespace
