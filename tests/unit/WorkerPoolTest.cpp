#include "app/WorkerPool.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <future>

namespace authsvc::app {
namespace {

int threadNice() {
    errno = 0;
    return getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
}

int niceInPool(int niceness) {
    WorkerPool pool("test-pool", 1, 4, niceness);
    std::promise<int> seen;
    EXPECT_TRUE(pool.trySubmit([&] { seen.set_value(threadNice()); }));
    return seen.get_future().get();
}

TEST(WorkerPoolTest, RunsJobsAtTheCallersPriorityByDefault) {
    EXPECT_EQ(niceInPool(0), threadNice());
}

TEST(WorkerPoolTest, LowersItsThreadsPriorityByTheNiceness) {
    const int base = threadNice();
    EXPECT_EQ(niceInPool(10), std::min(19, base + 10));
    // The caller's own priority is untouched (the nice value is per thread).
    EXPECT_EQ(threadNice(), base);
}

TEST(WorkerPoolTest, RefusesWorkBeyondItsQueueAndAfterStop) {
    WorkerPool pool("test-pool", 1, 1);
    std::promise<void> release;
    auto gate = release.get_future().share();
    std::promise<void> started;
    ASSERT_TRUE(pool.trySubmit([&] {
        started.set_value();
        gate.wait();
    }));
    started.get_future().wait();
    std::atomic<int> ran{0};
    EXPECT_TRUE(pool.trySubmit([&] { ++ran; }));   // queued
    EXPECT_FALSE(pool.trySubmit([&] { ++ran; }));  // queue full
    release.set_value();
    pool.stop();  // finishes the queued job
    EXPECT_EQ(ran.load(), 1);
    EXPECT_FALSE(pool.trySubmit([&] { ++ran; }));
}

}  // namespace
}  // namespace authsvc::app
