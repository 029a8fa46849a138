#include "app/scheduling/WorkerPool.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <future>
#include <mutex>
#include <string>
#include <vector>

namespace authsvc::app {
namespace {

int threadNice() {
    errno = 0;
    return getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
}

struct Scheduling {
    int policy;
    int nice;
};

Scheduling schedulingInPool(WorkerPool::Priority priority) {
    WorkerPool pool("test-pool", 1, 4, priority);
    std::promise<Scheduling> seen;
    EXPECT_TRUE(pool.trySubmit([&] { seen.set_value({sched_getscheduler(0), threadNice()}); }));
    return seen.get_future().get();
}

TEST(WorkerPoolTest, RunsJobsAtTheCallersPriorityByDefault) {
    const Scheduling s = schedulingInPool(WorkerPool::Priority::Normal);
    EXPECT_EQ(s.policy, sched_getscheduler(0));
    EXPECT_EQ(s.nice, threadNice());
}

TEST(WorkerPoolTest, BackgroundThreadsRunAtNicePlusTenUnderTheCallersPolicy) {
    const int base = threadNice();
    const int policy = sched_getscheduler(0);
    const Scheduling s = schedulingInPool(WorkerPool::Priority::Background);
    // Not SCHED_IDLE: that policy starves the pool whenever the cores are busy.
    EXPECT_EQ(s.policy, policy);
    EXPECT_EQ(s.nice, std::min(19, base + 10));
    // The caller's own scheduling is untouched (both are per thread).
    EXPECT_EQ(threadNice(), base);
    EXPECT_EQ(sched_getscheduler(0), policy);
}

// Keeps the one thread of a pool busy until release(), so that jobs submitted meanwhile
// queue.
class Occupied {
  public:
    explicit Occupied(WorkerPool& pool) {
        auto gate = release_.get_future().share();
        std::promise<void> started;
        EXPECT_TRUE(pool.trySubmit([&started, gate] {
            started.set_value();
            gate.wait();
        }));
        started.get_future().wait();
    }
    ~Occupied() { release(); }
    void release() {
        if (!released_) release_.set_value();
        released_ = true;
    }

  private:
    std::promise<void> release_;
    bool released_ = false;
};

TEST(WorkerPoolTest, RefusesWorkBeyondItsQueueAndAfterStop) {
    WorkerPool pool("test-pool", 1, 1);
    Occupied busy(pool);
    std::atomic<int> ran{0};
    EXPECT_TRUE(pool.trySubmit([&] { ++ran; }));   // queued
    EXPECT_FALSE(pool.trySubmit([&] { ++ran; }));  // queue full
    busy.release();
    pool.stop();  // finishes the queued job
    EXPECT_EQ(ran.load(), 1);
    EXPECT_FALSE(pool.trySubmit([&] { ++ran; }));
}

// A flood of deferred jobs (registrations) does not queue ahead of normal ones (logins):
// with both waiting, three normal jobs run for each deferred one, and deferred ones run as
// soon as no normal job waits.
TEST(WorkerPoolTest, DeferredJobsWaitBehindNormalOnesButDoNotStarve) {
    WorkerPool pool("test-pool", 1, 64);
    Occupied busy(pool);
    std::mutex mu;
    std::string order;
    auto note = [&](char c) {
        return [&, c] {
            std::lock_guard lock(mu);
            order += c;
        };
    };
    for (char c : std::string("abcdef")) {
        ASSERT_TRUE(pool.trySubmit(note(c), WorkerPool::Order::Deferred));
    }
    for (char c : std::string("1234567")) ASSERT_TRUE(pool.trySubmit(note(c)));
    busy.release();
    pool.stop();
    EXPECT_EQ(order, "123a456b7cdef");
}

TEST(WorkerPoolTest, TheQueueBoundCountsBothOrders) {
    WorkerPool pool("test-pool", 1, 2);
    Occupied busy(pool);
    EXPECT_TRUE(pool.trySubmit([] {}, WorkerPool::Order::Deferred));
    EXPECT_TRUE(pool.trySubmit([] {}));
    EXPECT_FALSE(pool.trySubmit([] {}, WorkerPool::Order::Deferred));
    EXPECT_FALSE(pool.trySubmit([] {}));
    busy.release();
}

}  // namespace
TEST(WorkerPoolTest, BatchThreadsRunUnderSchedBatchAtTheCallersNice) {
    const Scheduling s = schedulingInPool(WorkerPool::Priority::Batch);
    EXPECT_EQ(s.policy, SCHED_BATCH);
    EXPECT_EQ(s.nice, threadNice());
    EXPECT_NE(sched_getscheduler(0), SCHED_BATCH) << "the caller's policy is untouched";
}

TEST(WorkerPoolTest, AfterEachJobTheHookLearnsWhetherJobsStillWait) {
    std::mutex mu;
    std::vector<std::string> seen;  // the jobs and the hook's calls, in order
    WorkerPool pool("test-pool", 1, 8, WorkerPool::Priority::Normal, [&](bool drained) {
        std::lock_guard<std::mutex> lock(mu);
        seen.push_back(drained ? "drained" : "more");
    });
    auto job = [&](std::string name) {
        return [&, name] {
            std::lock_guard<std::mutex> lock(mu);
            seen.push_back(name);
        };
    };
    {
        Occupied busy(pool);
        ASSERT_TRUE(pool.trySubmit(job("a")));
        ASSERT_TRUE(pool.trySubmit(job("b"), WorkerPool::Order::Deferred));
    }
    pool.stop();
    // The occupying job, then a (b still queued), then b (nothing left).
    EXPECT_EQ(seen, (std::vector<std::string>{"more", "a", "more", "b", "drained"}));
}

}  // namespace authsvc::app
