// Password recovery on a real SQLite file with a ManualClock: a request queues the same one
// row for known and unknown addresses, within the throttles; a reset consumes the token,
// stores the password, revokes every session and queues a notice, and a bad token changes
// nothing.
#include "services/RecoveryService.h"

#include <gtest/gtest.h>

#include "models/Migrator.h"
#include "services/MailSender.h"
#include "services/OneTimeToken.h"
#include "support/TestSupport.h"

namespace {

using namespace authsvc::models;
using authsvc::testing::kEmail;
using authsvc::testing::kPassword;
const std::string kFreshPassword = "a fresh new passphrase";

class RecoveryServiceTest : public ::testing::Test, protected authsvc::testing::SqliteServiceParts {
  protected:
    RecoveryServiceTest() : SqliteServiceParts("recovery.db") {
        makeAuth();
        RecoverySettings rs;
        rs.perEmailPerHour = 3;
        rs.perIpPerHour = 5;
        rs.linkBaseUrl = "https://app.example.com/account";
        recovery = std::make_unique<RecoveryService>(*db, users, tokens, outbox, oneTime, hasher,
                                                     clock, rs, observer, [this] { ++wakes; });
        auto u = auth->registerUser(kEmail, kPassword);
        EXPECT_TRUE(u);
        userId = u ? u->id : 0;
    }
    int64_t queued() {
        return db->read([&](Connection& s) { return outbox.status(s).queued; });
    }
    // A token for the user as the sender mints it.
    std::string mint() {
        const MintedToken t = mintOneTimeToken();
        db->write([&](Connection& s) {
            oneTime.replace(s, t.hashHex, kPurposePasswordReset, userId, std::nullopt,
                            clock.nowMs(), clock.nowMs() + 30 * 60'000);
        });
        return t.token;
    }

    std::unique_ptr<RecoveryService> recovery;
    MailOutboxRepository outbox;
    OneTimeTokenRepository oneTime;
    int64_t userId = 0;
    int wakes = 0;
};

TEST_F(RecoveryServiceTest, KnownAndUnknownAddressesQueueTheSameOneRow) {
    EXPECT_TRUE(recovery->requestReset(kEmail, "192.0.2.1"));
    EXPECT_EQ(queued(), 1);
    EXPECT_TRUE(recovery->requestReset("nobody@example.com", "192.0.2.1"));
    EXPECT_EQ(queued(), 2);
    EXPECT_EQ(wakes, 2);
    EXPECT_FALSE(recovery->requestReset("not an address", "192.0.2.1"));
    EXPECT_EQ(queued(), 2);
}

TEST_F(RecoveryServiceTest, ThrottledPerAddressAndPerClientInASlidingHour) {
    for (int i = 0; i < 3; ++i)
        EXPECT_TRUE(recovery->requestReset(" ALICE@example.com", "192.0.2.1"));
    EXPECT_FALSE(recovery->requestReset(kEmail, "192.0.2.2")) << "the 4th for one address";
    EXPECT_EQ(queued(), 3);
    for (int i = 0; i < 2; ++i) {
        EXPECT_TRUE(
            recovery->requestReset("other" + std::to_string(i) + "@example.com", "192.0.2.9"));
    }
    EXPECT_EQ(queued(), 5);
    // 192.0.2.1 made 3 requests, 192.0.2.2 one: 192.0.2.1 has 2 left of 5.
    EXPECT_TRUE(recovery->requestReset("x1@example.com", "192.0.2.1"));
    EXPECT_TRUE(recovery->requestReset("x2@example.com", "192.0.2.1"));
    EXPECT_FALSE(recovery->requestReset("x3@example.com", "192.0.2.1"));
    EXPECT_EQ(queued(), 7);
    clock.advanceMs(MailRequestLimit::kWindowMs);
    EXPECT_TRUE(recovery->requestReset(kEmail, "192.0.2.1"));
}

TEST_F(RecoveryServiceTest, ResetConsumesTheTokenRevokesEverySessionAndQueuesANotice) {
    const TokenPair before = *auth->login(kEmail, kPassword);
    const std::string token = mint();
    ASSERT_TRUE(recovery->reset(token, kFreshPassword));
    EXPECT_FALSE(auth->login(kEmail, kPassword));
    EXPECT_TRUE(auth->login(kEmail, kFreshPassword));
    EXPECT_FALSE(auth->refresh(before.refreshToken)) << "every old session is revoked";
    EXPECT_EQ(queued(), 1) << "the notice";
    auto again = recovery->reset(token, "yet another passphrase");
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, ErrorCode::InvalidOneTimeToken);
    EXPECT_TRUE(auth->login(kEmail, kFreshPassword));
}

TEST_F(RecoveryServiceTest, BadTokensChangeNothing) {
    const std::string token = mint();
    for (const std::string& bad : {std::string(""), std::string("short"), std::string(43, 'A'),
                                   token.substr(0, 42) + (token[42] == 'A' ? "B" : "A")}) {
        auto r = recovery->reset(bad, kFreshPassword);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, ErrorCode::InvalidOneTimeToken) << bad;
    }
    // A password the register rules refuse: 400 invalid_request, the token kept.
    auto weak = recovery->reset(token, "short");
    ASSERT_FALSE(weak);
    EXPECT_EQ(weak.error().code, ErrorCode::InvalidRequest);
    EXPECT_TRUE(auth->login(kEmail, kPassword));
    EXPECT_EQ(queued(), 0);
    // Expired.
    clock.advanceMs(30 * 60'000);
    auto late = recovery->reset(token, kFreshPassword);
    ASSERT_FALSE(late);
    EXPECT_EQ(late.error().code, ErrorCode::InvalidOneTimeToken);
    EXPECT_TRUE(auth->login(kEmail, kPassword));
}

TEST_F(RecoveryServiceTest, ANewerTokenVoidsTheOlder) {
    const std::string older = mint();
    const std::string newer = mint();
    EXPECT_FALSE(recovery->reset(older, kFreshPassword));
    EXPECT_TRUE(recovery->reset(newer, kFreshPassword));
}

TEST_F(RecoveryServiceTest, OperatorResetLink) {
    auto link = recovery->resetLink(" Alice@Example.com ");
    ASSERT_TRUE(link);
    const std::string prefix = "https://app.example.com/account/reset?token=";
    ASSERT_EQ(link->rfind(prefix, 0), 0u) << *link;
    EXPECT_EQ(link->size(), prefix.size() + 43);
    EXPECT_TRUE(recovery->reset(link->substr(prefix.size()), kFreshPassword));
    EXPECT_FALSE(recovery->resetLink("nobody@example.com"));
}

}  // namespace
