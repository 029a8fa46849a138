// VerifiedTokenCache: hits, the time window re-checked on every hit (exact boundaries,
// with the leeway), the size bound, other bytes missing, concurrent use.
#include "verify/VerifiedTokenCache.h"

#include <gtest/gtest.h>

#include <thread>

#include "support/TestSupport.h"

namespace {

using authsvc::verify::AccessClaims;
using authsvc::verify::ManualClock;
using authsvc::verify::VerifiedTokenCache;

using authsvc::testing::kStartMs;
constexpr int64_t kLeeway = 30'000;

AccessClaims claimsFor(const std::string& sub) {
    AccessClaims c;
    c.sub = sub;
    c.sid = "family-" + sub;
    c.jti = "jti-" + sub;
    c.iat = kStartMs / 1000;
    c.exp = kStartMs / 1000 + 900;
    return c;
}

VerifiedTokenCache::Window window(int64_t notBeforeMs, int64_t expiresMs) {
    VerifiedTokenCache::Window w;
    w.notBeforeMs = notBeforeMs;
    w.expiresMs = expiresMs;
    return w;
}

const VerifiedTokenCache::Window kWindow = window(kStartMs, kStartMs + 900'000);

class VerifiedTokenCacheTest : public ::testing::Test {
  protected:
    ManualClock clock{kStartMs};
    VerifiedTokenCache cache{64, kLeeway, clock};
};

TEST_F(VerifiedTokenCacheTest, AnInsertedTokenIsFoundWithItsClaims) {
    EXPECT_FALSE(cache.find("aaa.bbb.ccc"));
    cache.insert("aaa.bbb.ccc", claimsFor("7"), kWindow);
    auto hit = cache.find("aaa.bbb.ccc");
    ASSERT_TRUE(hit);
    EXPECT_EQ(hit->sub, "7");
    EXPECT_EQ(hit->sid, "family-7");
    EXPECT_EQ(hit->jti, "jti-7");
    EXPECT_EQ(hit->exp, kStartMs / 1000 + 900);
    EXPECT_EQ(cache.size(), 1u);
}

TEST_F(VerifiedTokenCacheTest, TokensWithTheSameSignatureAreStillTwoTokens) {
    // The hash looks at the last 32 bytes only; equality looks at all of them, so a
    // token re-using a cached token's signature under another payload misses.
    const std::string signature(43, 'S');
    const std::string mine = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI3In0." + signature;
    const std::string forged = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0." + signature;
    cache.insert(mine, claimsFor("7"), kWindow);
    EXPECT_FALSE(cache.find(forged));
    cache.insert(forged, claimsFor("1"), kWindow);
    ASSERT_TRUE(cache.find(mine));
    ASSERT_TRUE(cache.find(forged));
    EXPECT_EQ(cache.find(mine)->sub, "7");
    EXPECT_EQ(cache.find(forged)->sub, "1");
    EXPECT_EQ(cache.size(), 2u);
}

TEST_F(VerifiedTokenCacheTest, AHitSharesTheCachedClaimsInsteadOfCopyingThem) {
    cache.insert("aaa.bbb.ccc", claimsFor("7"), kWindow);
    const auto first = cache.find("aaa.bbb.ccc");
    const auto second = cache.find("aaa.bbb.ccc");
    ASSERT_TRUE(first);
    EXPECT_EQ(first.get(), second.get());
    // Replaced in the cache, the claims a request holds stay valid.
    cache.insert("aaa.bbb.ccc", claimsFor("8"), kWindow);
    EXPECT_EQ(first->sub, "7");
    EXPECT_EQ(cache.find("aaa.bbb.ccc")->sub, "8");
}

TEST_F(VerifiedTokenCacheTest, OtherBytesMiss) {
    cache.insert("aaa.bbb.ccc", claimsFor("7"), kWindow);
    for (const char* other : {"aaa.bbb.ccd", "aaa.bbb.cc", "aaa.bbb.cccc", "aaa.bbc.ccc",
                              "Aaa.bbb.ccc", "aaa.bbb.ccc ", ""}) {
        EXPECT_FALSE(cache.find(other)) << other;
    }
}

TEST_F(VerifiedTokenCacheTest, AHitExpiresAtTheExactLeewayBoundary) {
    cache.insert("t", claimsFor("7"), kWindow);
    clock.setMs(kStartMs + 900'000 + kLeeway);
    EXPECT_TRUE(cache.find("t"));
    clock.advanceMs(1);
    EXPECT_FALSE(cache.find("t"));
    EXPECT_EQ(cache.size(), 0u) << "an expired entry is dropped";
    clock.setMs(kStartMs);
    EXPECT_FALSE(cache.find("t")) << "dropped entries stay dropped";
}

TEST_F(VerifiedTokenCacheTest, AHitIsRefusedBeforeNotBeforeMinusLeeway) {
    const int64_t nbf = kStartMs + 100'000;
    cache.insert("t", claimsFor("7"), window(nbf, nbf + 900'000));
    clock.setMs(nbf - kLeeway);
    EXPECT_TRUE(cache.find("t"));
    clock.advanceMs(-1);
    EXPECT_FALSE(cache.find("t"));
}

TEST_F(VerifiedTokenCacheTest, ReinsertingReplacesTheEntry) {
    cache.insert("t", claimsFor("7"), kWindow);
    cache.insert("t", claimsFor("8"), kWindow);
    EXPECT_EQ(cache.size(), 1u);
    EXPECT_EQ(cache.find("t")->sub, "8");
}

TEST_F(VerifiedTokenCacheTest, SizeStaysWithinCapacityAndTheNewestEntryIsKept) {
    for (int i = 0; i < 1000; ++i) {
        const std::string token = "token-" + std::to_string(i);
        cache.insert(token, claimsFor(std::to_string(i)), kWindow);
        ASSERT_LE(cache.size(), 64u);
        auto hit = cache.find(token);
        ASSERT_TRUE(hit) << token;
        EXPECT_EQ(hit->sub, std::to_string(i));
    }
    EXPECT_GE(cache.size(), 32u) << "most of the capacity is used";
}

TEST_F(VerifiedTokenCacheTest, ASmallCapacityIsABoundToo) {
    VerifiedTokenCache small{3, kLeeway, clock};
    for (int i = 0; i < 50; ++i) {
        small.insert("token-" + std::to_string(i), claimsFor("1"), kWindow);
        ASSERT_LE(small.size(), 3u);
    }
}

TEST_F(VerifiedTokenCacheTest, CapacityZeroRemembersNothing) {
    VerifiedTokenCache off{0, kLeeway, clock};
    off.insert("t", claimsFor("7"), kWindow);
    EXPECT_FALSE(off.find("t"));
    EXPECT_EQ(off.size(), 0u);
}

TEST_F(VerifiedTokenCacheTest, ConcurrentUseKeepsEveryEntryConsistent) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([this, t] {
            for (int i = 0; i < 2000; ++i) {
                const std::string sub = std::to_string((t * 7919 + i) % 200);
                cache.insert("token-" + sub, claimsFor(sub), kWindow);
                if (auto hit = cache.find("token-" + sub)) {
                    EXPECT_EQ(hit->sub, sub);
                }
            }
        });
    }
    for (auto& th : threads) th.join();
    EXPECT_LE(cache.size(), 64u);
}

}  // namespace
