// RegistrationLimit: attempts per client address in a sliding hour, IPv6 by /64, 0 = off;
// against each store of auth.limits_store.
#include "services/RegistrationLimit.h"

#include <gtest/gtest.h>

#include "support/LimitStores.h"

namespace {

using authsvc::models::RegistrationLimit;
using authsvc::testing::LimitStore;

class RegistrationLimitTest : public authsvc::testing::LimitStoreTest {};

INSTANTIATE_TEST_SUITE_P(Stores, RegistrationLimitTest, authsvc::testing::allLimitStores(),
                         authsvc::testing::limitStoreName);

TEST_P(RegistrationLimitTest, AttemptNPlusOneInTheHourIsRefusedWithTheWait) {
    RegistrationLimit limit(3, clock, store.counters());
    for (int i = 0; i < 3; ++i) EXPECT_EQ(limit.acquire("192.0.2.1"), std::nullopt) << i;
    EXPECT_EQ(limit.acquire("192.0.2.1"), 3600);
    clock.advanceMs(1'800'000);
    EXPECT_EQ(limit.acquire("192.0.2.1"), 1800);  // refusals do not count
    EXPECT_EQ(limit.acquire("192.0.2.2"), std::nullopt);
    clock.advanceMs(1'800'000);  // the first three have left the hour
    EXPECT_EQ(limit.acquire("192.0.2.1"), std::nullopt);
}

TEST_P(RegistrationLimitTest, Ipv6CountsBySlash64) {
    RegistrationLimit limit(2, clock, store.counters());
    EXPECT_EQ(limit.acquire("2001:db8:0:1::1"), std::nullopt);
    EXPECT_EQ(limit.acquire("2001:db8:0:1::2"), std::nullopt);
    EXPECT_TRUE(limit.acquire("2001:db8:0:1:ffff::3"));
    EXPECT_EQ(limit.acquire("2001:db8:0:2::1"), std::nullopt);
}

TEST_P(RegistrationLimitTest, ZeroTurnsItOff) {
    RegistrationLimit limit(0, clock, store.counters());
    for (int i = 0; i < 100; ++i) ASSERT_EQ(limit.acquire("192.0.2.1"), std::nullopt) << i;
}

}  // namespace
