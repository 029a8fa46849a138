// The rule that schedules the hashing pool (made-up samples, an injected time), and the
// sampling over real threads.
#include "app/scheduling/HashingGovernor.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <spdlog/sinks/null_sink.h>
#include <unistd.h>

#include <time.h>

#include <atomic>
#include <future>

namespace authsvc::app {
namespace {

using namespace std::chrono_literals;
using Clock = GovernorRule::Clock;

GovernorSample busy(double reactor) {
    GovernorSample s;
    s.reactorBusy = reactor;
    s.poolCpu = 0.5;
    s.poolHadWork = true;
    s.fullWindow = true;
    return s;
}

// Reactors busy, the pool with work but almost no CPU; `waited`: what the busiest reactor
// waited for a CPU.
GovernorSample starved(double waited) {
    GovernorSample s = busy(0.9);
    s.poolCpu = 0.01;
    s.reactorWaited = waited;
    return s;
}

// The times below are written for these settings (the thresholds are the defaults).
GovernorRule::Settings testSettings() {
    GovernorRule::Settings s;
    s.starvedWindow = 1000ms;
    s.sharedHold = 1000ms;
    s.maxSharedHold = 30000ms;
    s.stableBackground = 10000ms;
    return s;
}

class GovernorRuleTest : public ::testing::Test {
  protected:
    GovernorRule rule{testSettings()};
    Clock::time_point t0 = Clock::now();
    Clock::time_point at(std::chrono::milliseconds d) const { return t0 + d; }
};

TEST_F(GovernorRuleTest, StartsSharedAndStaysSoWhileTheReactorsHaveRoom) {
    EXPECT_EQ(rule.mode(), HashingMode::Shared);
    EXPECT_EQ(rule.next(busy(0.0), at(0ms)), HashingMode::Shared);
    EXPECT_EQ(rule.next(busy(0.74), at(50ms)), HashingMode::Shared);
}

TEST_F(GovernorRuleTest, BackgroundWhileAReactorIsBusyWithHysteresis) {
    EXPECT_EQ(rule.next(busy(0.75), at(0ms)), HashingMode::Background);
    // Between calmBelow and busyAt: no change either way.
    EXPECT_EQ(rule.next(busy(0.6), at(50ms)), HashingMode::Background);
    EXPECT_EQ(rule.next(busy(0.49), at(100ms)), HashingMode::Shared);
    EXPECT_EQ(rule.next(busy(0.6), at(150ms)), HashingMode::Shared);
    EXPECT_EQ(rule.next(busy(0.8), at(200ms)), HashingMode::Background);
}

TEST_F(GovernorRuleTest, APoolStarvedByTheReactorsAloneStaysBackground) {
    ASSERT_EQ(rule.next(busy(0.9), at(0ms)), HashingMode::Background);
    for (int i = 1; i <= 100; ++i) {
        EXPECT_EQ(rule.next(starved(0.01), at(i * 50ms)), HashingMode::Background) << i;
    }
}

TEST_F(GovernorRuleTest, APoolStarvedWhileTheReactorsWaitTooGoesSharedForAHold) {
    ASSERT_EQ(rule.next(busy(0.9), at(0ms)), HashingMode::Background);
    // Not before a whole starvedWindow was spent in Background.
    EXPECT_EQ(rule.next(starved(0.5), at(999ms)), HashingMode::Background);
    EXPECT_EQ(rule.next(starved(0.5), at(1000ms)), HashingMode::Shared);
    // Held Shared for sharedHold however busy the reactors are, then Background again.
    EXPECT_EQ(rule.next(busy(1.0), at(1999ms)), HashingMode::Shared);
    EXPECT_EQ(rule.next(busy(1.0), at(2000ms)), HashingMode::Background);
}

TEST_F(GovernorRuleTest, EachStarvingInARowDoublesTheHoldUpToItsBound) {
    auto t = 0ms;
    ASSERT_EQ(rule.next(busy(0.9), at(t)), HashingMode::Background);
    std::chrono::milliseconds expected = 1000ms;
    for (int round = 0; round < 8; ++round) {
        t += 1000ms;
        ASSERT_EQ(rule.next(starved(0.5), at(t)), HashingMode::Shared) << round;
        EXPECT_EQ(rule.next(busy(1.0), at(t + expected - 1ms)), HashingMode::Shared) << round;
        t += expected;
        ASSERT_EQ(rule.next(busy(1.0), at(t)), HashingMode::Background) << round;
        expected = std::min(expected * 2, std::chrono::milliseconds(30000));
    }
    // Background that ends because the reactors calm down starts the holds over.
    t += 50ms;
    ASSERT_EQ(rule.next(busy(0.1), at(t)), HashingMode::Shared);
    t += 50ms;
    ASSERT_EQ(rule.next(busy(0.9), at(t)), HashingMode::Background);
    t += 1000ms;
    ASSERT_EQ(rule.next(starved(0.5), at(t)), HashingMode::Shared);
    EXPECT_EQ(rule.next(busy(1.0), at(t + 1000ms)), HashingMode::Background);
}

TEST_F(GovernorRuleTest, ABackgroundThatLastedStartsTheHoldsOver) {
    auto t = 0ms;
    ASSERT_EQ(rule.next(busy(0.9), at(t)), HashingMode::Background);
    t += 1000ms;
    ASSERT_EQ(rule.next(starved(0.5), at(t)), HashingMode::Shared);  // hold 1 s, next 2 s
    t += 1000ms;
    ASSERT_EQ(rule.next(busy(0.9), at(t)), HashingMode::Background);
    t += 10000ms;  // stableBackground
    ASSERT_EQ(rule.next(starved(0.5), at(t)), HashingMode::Shared);
    EXPECT_EQ(rule.next(busy(1.0), at(t + 1000ms)), HashingMode::Background);
}

TEST_F(GovernorRuleTest, StarvingIsJudgedOnlyWithWorkAllAlongAndAFullWindow) {
    ASSERT_EQ(rule.next(busy(0.9), at(0ms)), HashingMode::Background);
    GovernorSample idlePool = starved(0.5);
    idlePool.poolHadWork = false;  // the pool was empty at some sample: not starved
    EXPECT_EQ(rule.next(idlePool, at(2000ms)), HashingMode::Background);
    GovernorSample shortWindow = starved(0.5);
    shortWindow.fullWindow = false;  // the governor has just started
    EXPECT_EQ(rule.next(shortWindow, at(2050ms)), HashingMode::Background);
    GovernorSample fed = starved(0.5);
    fed.poolCpu = 0.05;  // starvedBelow: enough
    EXPECT_EQ(rule.next(fed, at(2100ms)), HashingMode::Background);
    EXPECT_EQ(rule.next(starved(0.5), at(2150ms)), HashingMode::Shared);
}

// Uses `cpu` of this thread's CPU time (not wall time: the machine may be busy).
void burnCpu(std::chrono::nanoseconds cpu) {
    const auto used = [] {
        timespec ts{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
    };
    const auto until = used() + cpu;
    std::atomic<uint64_t> spin{0};
    while (used() < until) spin.fetch_add(1);
}

int policyOf(WorkerPool& pool) {
    std::promise<int> seen;
    EXPECT_TRUE(pool.trySubmit([&] { seen.set_value(sched_getscheduler(0)); }));
    return seen.get_future().get();
}

TEST(HashingGovernorTest, ThePoolFollowsTheModeOnEveryThread) {
    if (!WorkerPool::canLeaveIdle()) GTEST_SKIP() << "no CAP_SYS_NICE or RLIMIT_NICE here";
    WorkerPool pool("test-pool", 1, 4, WorkerPool::Priority::Background);
    const int normal = policyOf(pool);
    EXPECT_NE(normal, SCHED_IDLE);
    ASSERT_TRUE(pool.setIdle(true));
    EXPECT_EQ(policyOf(pool), SCHED_IDLE);
    ASSERT_TRUE(pool.setIdle(false));
    EXPECT_EQ(policyOf(pool), normal);
}

TEST(HashingGovernorTest, SamplesTheReactorsAndThePoolAndSwitchesThePool) {
    if (!WorkerPool::canLeaveIdle()) GTEST_SKIP() << "no CAP_SYS_NICE or RLIMIT_NICE here";
    WorkerPool pool("test-pool", 2, 4, WorkerPool::Priority::Background);
    ReactorThreads reactors;
    // This thread plays the reactor: its CPU time is what the governor reads.
    reactors.addCurrentThread();
    reactors.addCurrentThread();  // once only
    ASSERT_EQ(reactors.times().size(), 1u);
    EXPECT_GT(reactors.times()[0].cpuNanos, 0);
    auto log =
        std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>());
    HashingGovernor governor(pool, reactors, log);
    auto t = Clock::now();
    // No work in the pool: nothing sampled, whatever the reactors do.
    EXPECT_EQ(governor.tick(t), HashingMode::Shared);
    burnCpu(100ms);
    EXPECT_EQ(governor.tick(t + 50ms), HashingMode::Shared);

    // A job in the pool; ticks at made-up times 50 ms apart, this thread burning 100 ms of
    // CPU in between: the reactor reads as busy.
    std::promise<void> release;
    auto gate = release.get_future().share();
    ASSERT_TRUE(pool.trySubmit([gate] { gate.wait(); }));
    EXPECT_EQ(governor.tick(t + 100ms), HashingMode::Shared);  // one snapshot: no window yet
    burnCpu(100ms);
    EXPECT_EQ(governor.tick(t + 150ms), HashingMode::Background);
    EXPECT_EQ(policyOf(pool), SCHED_IDLE);  // the pool's other thread
    governor.stop();                        // back to Shared
    EXPECT_NE(policyOf(pool), SCHED_IDLE);
    release.set_value();
}

TEST(HashingGovernorTest, ThePoolReportsItsWorkAndItsCpuTime) {
    WorkerPool pool("test-pool", 1, 4);
    std::promise<void> release;
    auto gate = release.get_future().share();
    std::promise<void> started;
    EXPECT_FALSE(pool.hasWork());
    ASSERT_TRUE(pool.trySubmit([&] {
        burnCpu(10ms);
        started.set_value();
        gate.wait();
    }));
    started.get_future().wait();
    EXPECT_TRUE(pool.hasWork());
    EXPECT_GE(pool.cpuNanos(), 10'000'000);
    release.set_value();
    pool.stop();
    EXPECT_FALSE(pool.hasWork());
}

}  // namespace
}  // namespace authsvc::app
