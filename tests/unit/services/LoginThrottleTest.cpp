// LoginThrottle: sliding minute per IP and per email, Retry-After: the same cases against
// each store of auth.limits_store (memory, database on SQLite and PostgreSQL); the memory
// bound of the memory store.
#include "services/LoginThrottle.h"

#include <gtest/gtest.h>

#include "support/LimitStores.h"
#include "support/ManualClock.h"
#include "support/TestPeers.h"

namespace {

using authsvc::models::LoginThrottle;
using authsvc::models::LoginThrottleTestPeer;
using authsvc::testing::LimitStore;
using authsvc::verify::ManualClock;

class LoginThrottleTest : public authsvc::testing::LimitStoreTest {
  protected:
    LoginThrottle throttle(int perIp, int perAccount) {
        return LoginThrottle(perIp, perAccount, clock, store.counters());
    }
};

INSTANTIATE_TEST_SUITE_P(Stores, LoginThrottleTest, authsvc::testing::allLimitStores(),
                         authsvc::testing::limitStoreName);

class LoginThrottleMemoryTest : public ::testing::Test {
  protected:
    ManualClock clock;
};

TEST_P(LoginThrottleTest, AllowsNFailuresAndRefusesAttemptNPlusOne) {
    LoginThrottle t = throttle(100, 3);
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(t.retryAfter("ip", "a@x"), std::nullopt) << i;
        t.recordFailure("ip", "a@x");
    }
    EXPECT_EQ(t.retryAfter("ip", "a@x"), 60);
}

TEST_P(LoginThrottleTest, RetryAfterCountsDownToTheOldestFailureLeavingTheMinute) {
    LoginThrottle t = throttle(100, 2);
    t.recordFailure("ip", "a@x");  // t0
    clock.advanceMs(10'000);
    t.recordFailure("ip", "a@x");  // t0 + 10 s
    clock.advanceMs(5'000);
    EXPECT_EQ(t.retryAfter("ip", "a@x"), 45);  // t0 + 60 s - (t0 + 15 s)
    clock.advanceMs(44'000);
    EXPECT_EQ(t.retryAfter("ip", "a@x"), 1);
}

TEST_P(LoginThrottleTest, RetryAfterRoundsUpToWholeSeconds) {
    LoginThrottle t = throttle(100, 1);
    t.recordFailure("ip", "a@x");
    clock.advanceMs(500);
    EXPECT_EQ(t.retryAfter("ip", "a@x"), 60);  // 59.5 s -> 60
    clock.advanceMs(59'499);
    EXPECT_EQ(t.retryAfter("ip", "a@x"), 1);  // 1 ms left -> 1, never 0
}

TEST_P(LoginThrottleTest, TheWindowSlides) {
    LoginThrottle t = throttle(100, 3);
    t.recordFailure("ip", "a@x");  // t0
    clock.advanceMs(20'000);
    t.recordFailure("ip", "a@x");  // t0 + 20
    clock.advanceMs(20'000);
    t.recordFailure("ip", "a@x");  // t0 + 40
    EXPECT_EQ(t.retryAfter("ip", "a@x"), 20);
    clock.advanceMs(19'999);
    EXPECT_TRUE(t.retryAfter("ip", "a@x"));
    clock.advanceMs(1);  // t0 + 60: the first failure has left the minute
    EXPECT_EQ(t.retryAfter("ip", "a@x"), std::nullopt);
    t.recordFailure("ip", "a@x");  // t0 + 60: full again, until t0 + 80
    EXPECT_EQ(t.retryAfter("ip", "a@x"), 20);
}

TEST_P(LoginThrottleTest, AFixedWindowWouldBeWrong) {
    // Failures at the end of one minute still count at the start of the next.
    clock.setMs(1'800'000'000'000 + 59'000);
    LoginThrottle t = throttle(100, 2);
    t.recordFailure("ip", "a@x");
    t.recordFailure("ip", "a@x");
    clock.advanceMs(2'000);  // crosses a minute boundary of the wall clock
    EXPECT_EQ(t.retryAfter("ip", "a@x"), 58);
}

TEST_P(LoginThrottleTest, PerIpLimitAcrossManyEmails) {
    LoginThrottle t = throttle(3, 100);
    t.recordFailure("1.2.3.4", "a@x");
    t.recordFailure("1.2.3.4", "b@x");
    t.recordFailure("1.2.3.4", "c@x");
    EXPECT_EQ(t.retryAfter("1.2.3.4", "new@x"), 60);
    EXPECT_EQ(t.retryAfter("5.6.7.8", "new@x"), std::nullopt);
}

TEST_P(LoginThrottleTest, PerEmailLimitAcrossManyIps) {
    LoginThrottle t = throttle(100, 2);
    t.recordFailure("1.1.1.1", "victim@x");
    t.recordFailure("2.2.2.2", "victim@x");
    EXPECT_EQ(t.retryAfter("3.3.3.3", "victim@x"), 60);
    EXPECT_EQ(t.retryAfter("3.3.3.3", "other@x"), std::nullopt);
}

TEST_P(LoginThrottleTest, TheLongerOfBothWaitsIsReported) {
    LoginThrottle t = throttle(2, 2);
    t.recordFailure("ip", "a@x");  // t0, ip and a@x
    clock.advanceMs(30'000);
    t.recordFailure("ip", "b@x");  // ip now full (until t0+60)
    t.recordFailure("ip2", "a@x");
    t.recordFailure("ip3", "a@x");  // a@x: failures at t0+30 and t0+30 (kept 2): until t0+90
    EXPECT_EQ(t.retryAfter("ip", "a@x"), 60);
    EXPECT_EQ(t.retryAfter("ip", "zzz@x"), 30);
}

TEST_P(LoginThrottleTest, KeysAreIndependentAndExact) {
    LoginThrottle t = throttle(100, 1);
    t.recordFailure("ip", "a@x");
    EXPECT_TRUE(t.retryAfter("ip", "a@x"));
    EXPECT_EQ(t.retryAfter("ip", "A@x"), std::nullopt);  // the caller normalises
    EXPECT_EQ(t.retryAfter("ip", "a@x "), std::nullopt);
}

TEST_F(LoginThrottleMemoryTest, MemoryIsBoundedInBytesUnderAFloodOfDistinctKeys) {
    const size_t bound = 256 << 10;
    LoginThrottle t(5, 5, clock, bound);
    const std::string longest(240, 'u');  // near the longest email login accepts
    for (int i = 0; i < 50'000; ++i) {
        t.recordFailure("10." + std::to_string(i / 65536) + "." + std::to_string(i / 256 % 256) +
                            "." + std::to_string(i % 256),
                        longest + std::to_string(i) + "@x");
        if (i % 1000 == 0) clock.advanceMs(1);
        ASSERT_LE(LoginThrottleTestPeer::trackedBytes(t), 2 * bound) << i;
    }
    EXPECT_GT(LoginThrottleTestPeer::trackedKeys(t), 0u);
}

TEST_F(LoginThrottleMemoryTest, DefaultBoundHoldsForAFloodOfDistinctEmailsFromOneIp) {
    LoginThrottle t(1'000'000, 5, clock);
    const std::string longest(240, 'u');
    for (size_t i = 0; i < 100'000; ++i) {
        t.recordFailure("192.0.2.1", longest + std::to_string(i));
    }
    EXPECT_LE(LoginThrottleTestPeer::trackedBytes(t), 2 * LoginThrottle::kMaxBytesPerDimension);
}

TEST_P(LoginThrottleTest, Ipv6AddressesOfOneSlash64ShareTheirLimit) {
    LoginThrottle t = throttle(3, 100);
    t.recordFailure("2001:db8:1:2::1", "a@x");
    t.recordFailure("2001:db8:1:2::2", "b@x");
    t.recordFailure("2001:db8:1:2:ffff:ffff:ffff:ffff", "c@x");
    EXPECT_EQ(t.retryAfter("2001:db8:1:2:1234::99", "new@x"), 60);
    EXPECT_EQ(t.retryAfter("2001:db8:1:3::1", "new@x"), std::nullopt);
    // IPv4 stays per address.
    t.recordFailure("192.0.2.1", "a@x");
    t.recordFailure("192.0.2.1", "b@x");
    t.recordFailure("192.0.2.1", "c@x");
    EXPECT_EQ(t.retryAfter("192.0.2.1", "new@x"), 60);
    EXPECT_EQ(t.retryAfter("192.0.2.2", "new@x"), std::nullopt);
}

TEST_F(LoginThrottleMemoryTest, NothingRecordedMeansNothingTracked) {
    LoginThrottle t(1, 1, clock);
    EXPECT_EQ(t.retryAfter("ip", "a@x"), std::nullopt);
    EXPECT_EQ(LoginThrottleTestPeer::trackedKeys(t), 0u);
}

}  // namespace
