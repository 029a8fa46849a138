// RegistrationLimit: attempts per client address in a sliding hour, IPv6 by /64, 0 = off.
#include "services/RegistrationLimit.h"

#include <gtest/gtest.h>

#include "support/ManualClock.h"

namespace {

using authsvc::models::RegistrationLimit;
using authsvc::verify::ManualClock;

TEST(RegistrationLimitTest, AttemptNPlusOneInTheHourIsRefusedWithTheWait) {
    ManualClock clock{1'800'000'000'000};
    RegistrationLimit limit(3, clock);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(limit.acquire("192.0.2.1"), std::nullopt) << i;
    EXPECT_EQ(limit.acquire("192.0.2.1"), 3600);
    clock.advanceMs(1'800'000);
    EXPECT_EQ(limit.acquire("192.0.2.1"), 1800);  // refusals do not count
    EXPECT_EQ(limit.acquire("192.0.2.2"), std::nullopt);
    clock.advanceMs(1'800'000);  // the first three have left the hour
    EXPECT_EQ(limit.acquire("192.0.2.1"), std::nullopt);
}

TEST(RegistrationLimitTest, Ipv6CountsBySlash64) {
    ManualClock clock;
    RegistrationLimit limit(2, clock);
    EXPECT_EQ(limit.acquire("2001:db8:0:1::1"), std::nullopt);
    EXPECT_EQ(limit.acquire("2001:db8:0:1::2"), std::nullopt);
    EXPECT_TRUE(limit.acquire("2001:db8:0:1:ffff::3"));
    EXPECT_EQ(limit.acquire("2001:db8:0:2::1"), std::nullopt);
}

TEST(RegistrationLimitTest, ZeroTurnsItOff) {
    ManualClock clock;
    RegistrationLimit limit(0, clock);
    for (int i = 0; i < 1000; ++i) ASSERT_EQ(limit.acquire("192.0.2.1"), std::nullopt) << i;
}

}  // namespace
