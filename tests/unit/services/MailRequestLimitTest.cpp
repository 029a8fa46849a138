// MailRequestLimit (password recovery, resent verification): per address and per client
// address in a sliding hour, 0 turns a half off, refusals do not count; against each store
// of auth.limits_store. With the database store, two limits of one scope (two instances)
// share their counts and two scopes (recovery, verify) do not.
#include "services/MailRequestLimit.h"

#include <gtest/gtest.h>

#include "support/LimitStores.h"
#include "support/ManualClock.h"

namespace {

using authsvc::models::MailRequestLimit;
using authsvc::testing::LimitStore;
using authsvc::verify::ManualClock;

class MailRequestLimitTest : public authsvc::testing::LimitStoreTest {
  protected:
    MailRequestLimit limit(int perEmail, int perIp, const std::string& scope = "recovery") {
        return MailRequestLimit(perEmail, perIp, clock, store.counters(), scope);
    }
};

INSTANTIATE_TEST_SUITE_P(Stores, MailRequestLimitTest, authsvc::testing::allLimitStores(),
                         authsvc::testing::limitStoreName);

TEST_P(MailRequestLimitTest, PerAddressAndPerClientInASlidingHour) {
    MailRequestLimit l = limit(2, 3);
    EXPECT_TRUE(l.allow("a@x", "192.0.2.1"));
    clock.advanceMs(600'000);
    EXPECT_TRUE(l.allow("a@x", "192.0.2.2"));
    EXPECT_FALSE(l.allow("a@x", "192.0.2.3")) << "the 3rd for one address";
    EXPECT_TRUE(l.allow("b@x", "192.0.2.1"));
    EXPECT_TRUE(l.allow("c@x", "192.0.2.1"));
    EXPECT_FALSE(l.allow("d@x", "192.0.2.1")) << "the 4th from one client";
    clock.advanceMs(MailRequestLimit::kWindowMs - 600'000);  // the first request has left
    EXPECT_TRUE(l.allow("a@x", "192.0.2.9"));
    EXPECT_FALSE(l.allow("a@x", "192.0.2.9"));
}

TEST_P(MailRequestLimitTest, ZeroTurnsAHalfOff) {
    MailRequestLimit perIpOnly = limit(0, 3);
    for (int i = 0; i < 3; ++i) EXPECT_TRUE(perIpOnly.allow("a@x", "192.0.2.1")) << i;
    EXPECT_FALSE(perIpOnly.allow("a@x", "192.0.2.1"));
    MailRequestLimit off = limit(0, 0, "verify");
    for (int i = 0; i < 20; ++i) EXPECT_TRUE(off.allow("a@x", "192.0.2.1")) << i;
}

TEST_P(MailRequestLimitTest, ScopesCountApart) {
    MailRequestLimit recovery = limit(1, 10, "recovery");
    MailRequestLimit verify = limit(1, 10, "verify");
    EXPECT_TRUE(recovery.allow("a@x", "192.0.2.1"));
    EXPECT_FALSE(recovery.allow("a@x", "192.0.2.1"));
    EXPECT_TRUE(verify.allow("a@x", "192.0.2.1"));
}

TEST_P(MailRequestLimitTest, TwoLimitsOfOneScopeShareTheDatabaseNotMemory) {
    MailRequestLimit first = limit(2, 10), second = limit(2, 10);
    EXPECT_TRUE(first.allow("a@x", "192.0.2.1"));
    EXPECT_TRUE(second.allow("a@x", "192.0.2.1"));
    // Two instances: in memory each has its own count, in the database they share one.
    EXPECT_EQ(first.allow("a@x", "192.0.2.1"), GetParam() == LimitStore::Memory);
}

}  // namespace
