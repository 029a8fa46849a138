// SlidingWindowCounter: the mechanism of both throttles. The window, and the bound in bytes:
// what it counts, that it holds for big keys, that stale keys go before live ones, and that
// the count matches what the heap really holds (mallinfo2).
#include "services/SlidingWindow.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <memory>
#include <string>

namespace {

using authsvc::models::SlidingWindowCounter;

TEST(SlidingWindowTest, BlocksTheNthEventUntilTheOldestLeavesTheWindow) {
    SlidingWindowCounter c(2, 1000, 1 << 20);
    EXPECT_EQ(c.acquire("k", 0), std::nullopt);
    EXPECT_EQ(c.acquire("k", 400), std::nullopt);
    EXPECT_EQ(c.acquire("k", 500), 1000);  // refused, not counted
    EXPECT_EQ(c.blockedUntil("k", 999), 1000);
    EXPECT_EQ(c.acquire("k", 1000), std::nullopt);
    EXPECT_EQ(c.blockedUntil("k", 1000), 1400);
    EXPECT_EQ(c.blockedUntil("other", 1000), std::nullopt);
}

TEST(SlidingWindowTest, BytesCountKeyTextTimestampsAndOverhead) {
    SlidingWindowCounter c(5, 1000, 1 << 20);
    c.record("short", 0);
    EXPECT_EQ(c.bytes(), SlidingWindowCounter::kKeyOverheadBytes + sizeof(int64_t));
    const std::string longKey(200, 'x');
    c.record(longKey, 0);
    EXPECT_GE(c.bytes(), 2 * SlidingWindowCounter::kKeyOverheadBytes + 200 + 2 * sizeof(int64_t));
    EXPECT_EQ(c.keys(), 2u);
}

TEST(SlidingWindowTest, TheBoundInBytesHoldsForAFloodOfLargeDistinctKeys) {
    const size_t bound = 1 << 20;
    SlidingWindowCounter c(5, 60'000, bound);
    const std::string pad(15'000, 'p');  // the flood of the issue: 15 KB keys
    size_t maxBytes = 0;
    for (int i = 0; i < 2000; ++i) {
        c.record(pad + std::to_string(i), i);
        maxBytes = std::max(maxBytes, c.bytes());
    }
    EXPECT_LE(maxBytes, bound);
    EXPECT_LE(c.keys(), bound / 15'000);
    EXPECT_GT(c.keys(), 0u);
    // The most recent key is always kept.
    EXPECT_EQ(c.blockedUntil(pad + "1999", 2000), std::nullopt);
    c.record(pad + "1999", 2000);
    c.record(pad + "1999", 2000);
    c.record(pad + "1999", 2000);
    c.record(pad + "1999", 2000);
    EXPECT_TRUE(c.blockedUntil(pad + "1999", 2000));
}

TEST(SlidingWindowTest, StaleKeysAreEvictedBeforeLiveOnes) {
    const size_t perKey = SlidingWindowCounter::kKeyOverheadBytes + sizeof(int64_t);
    SlidingWindowCounter c(1, 1000, 10 * perKey);
    c.record("live-0", 0);  // the oldest insertion ...
    for (int i = 0; i < 8; ++i) c.record("stale" + std::to_string(i), 100);
    c.record("live-0", 700);  // ... still inside the window at t=1500
    c.record("live-1", 600);
    c.record("live-2", 1500);  // 11 keys: over the bound; stale are those of t=100
    EXPECT_TRUE(c.blockedUntil("live-0", 1500)) << "a live key was evicted";
    EXPECT_TRUE(c.blockedUntil("live-1", 1500));
    EXPECT_TRUE(c.blockedUntil("live-2", 1500));
    EXPECT_EQ(c.keys(), 3u);
}

TEST(SlidingWindowTest, OldestKeysGoWhenAllAreLive) {
    const size_t perKey = SlidingWindowCounter::kKeyOverheadBytes + sizeof(int64_t);
    SlidingWindowCounter c(1, 60'000, 10 * perKey);
    for (int i = 0; i < 11; ++i) {
        // Appended, not "k" + std::string: GCC 12 at -O3 warns falsely (-Wrestrict) on that.
        std::string key = "k";
        key += std::to_string(i);
        c.record(key, i);
    }
    EXPECT_LE(c.bytes(), 10 * perKey);
    EXPECT_EQ(c.blockedUntil("k0", 20), std::nullopt);  // the oldest went
    EXPECT_TRUE(c.blockedUntil("k10", 20));
}

// What the bound counts is what the heap holds: the real growth of the heap stays within
// the counted bytes (plus a little for the hash table's bucket array growth).
TEST(SlidingWindowTest, CountedBytesCoverTheHeapReallyUsed) {
    if (mallinfo2().uordblks == 0) GTEST_SKIP() << "no malloc statistics (sanitizer build?)";
    for (const size_t keyLength : {size_t(10), size_t(40), size_t(254)}) {
        for (const int events : {1, 5}) {
            const size_t before = mallinfo2().uordblks;
            auto c = std::make_unique<SlidingWindowCounter>(events, 60'000, size_t(1) << 30);
            for (int i = 0; i < 20'000; ++i) {
                std::string key = std::to_string(i);
                key.resize(keyLength, 'k');
                for (int e = 0; e < events; ++e) c->record(key, i);
            }
            const size_t heap = mallinfo2().uordblks - before;
            const size_t counted = c->bytes();
            EXPECT_LE(heap, counted + counted / 20)
                << "key length " << keyLength << ", " << events << " events: heap " << heap
                << " B, counted " << counted << " B";
            // ... and not wildly more: the bound is what an operator plans with.
            EXPECT_GE(heap, counted / 2) << "key length " << keyLength;
        }
    }
}

}  // namespace
