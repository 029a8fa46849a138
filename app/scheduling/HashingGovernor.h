// HashingGovernor: decides how the hashing pool (argon2id) is scheduled, every 10 ms while
// the pool has work.
//
// - Shared (the default): nice +10. Logins keep a share of the CPU however busy the cores
//   are, whoever keeps them busy. The price: on a core that a reactor thread keeps busy,
//   the kernel hands a hashing thread the core at a scheduler tick and lets it keep it
//   until the next (4 ms at HZ=250), and every request waiting on that reactor waits
//   those milliseconds too.
// - Background: SCHED_IDLE. A reactor that wakes takes the core at once; logins use only
//   the CPU time nothing else wants, so a login storm adds nothing to verification
//   latency.
//
// Background is chosen while a reactor thread was busy (on a CPU, or waiting for one)
// for most of the last 50 ms: token verification is near the CPU's capacity. It is left
// as soon as the reactors calm down; or when the pool, with work waiting all along, got
// almost no CPU over the last 500 ms while a reactor itself waited for a CPU: something
// else keeps the cores busy, another process perhaps, and Background would starve the
// logins for that other work rather than for token verification. Shared is then kept for
// a second before Background may be tried again, two after the next such starving, then
// four, up to 30. A pool starved by the reactors alone stays Background: token
// verification at capacity comes first.
//
// Leaving SCHED_IDLE needs CAP_SYS_NICE or an RLIMIT_NICE of at least 10 (systemd:
// LimitNICE=10); without it the governor never enters Background, and the pool stays at
// nice +10. The rule (GovernorRule) is separate from the sampling, so that it is tested
// with made-up samples and times.
#pragma once

#include <pthread.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "app/observability/Logging.h"
#include "app/scheduling/WorkerPool.h"

namespace authsvc::app {

enum class HashingMode { Shared, Background };

// A look back over the last busyWindow (reactors) and starvedWindow (pool).
struct GovernorSample {
    double reactorBusy = 0;    // the busiest reactor's time on or waiting for a CPU / busyWindow
    double reactorWaited = 0;  // the longest a reactor waited for a CPU / starvedWindow
    double poolCpu = 0;        // the hashing pool's CPU time / starvedWindow (1.0: one core)
    bool poolHadWork = false;  // a job queued or running at every sample of starvedWindow
    bool fullWindow = false;   // the samples cover starvedWindow (not just started)
};

class GovernorRule {
  public:
    using Clock = std::chrono::steady_clock;
    struct Settings {
        double busyAt = 0.75;        // enter Background when the busiest reactor reaches this
        double calmBelow = 0.5;      // leave it when every reactor is below this
        double starvedBelow = 0.05;  // ... or when the pool, with work, got less than this
        double waitedAt = 0.10;      // while a reactor waited for a CPU at least this share
        std::chrono::milliseconds busyWindow{50};
        std::chrono::milliseconds starvedWindow{500};
        // Shared at least this long after the pool starved; doubled at each starving that
        // follows, up to maxSharedHold, until Background ends by the reactors calming down
        // or lasts stableBackground.
        std::chrono::milliseconds sharedHold{1000};
        std::chrono::milliseconds maxSharedHold{30000};
        std::chrono::milliseconds stableBackground{10000};
    };
    GovernorRule() = default;
    explicit GovernorRule(Settings settings) : settings_(settings) {}

    HashingMode next(const GovernorSample& s, Clock::time_point now);
    HashingMode mode() const { return mode_; }
    const Settings& settings() const { return settings_; }

  private:
    Settings settings_;
    HashingMode mode_ = HashingMode::Shared;
    Clock::time_point since_{};        // the current mode's start
    Clock::time_point sharedUntil_{};  // no Background before this
    std::chrono::milliseconds hold_ = settings_.sharedHold;
};

// The reactor threads, as they show themselves (Dispatcher::reactorThreadSeen): Pistache
// 0.0.5 neither names nor exposes them. Thread-safe.
class ReactorThreads {
  public:
    ReactorThreads() = default;
    ~ReactorThreads();
    ReactorThreads(const ReactorThreads&) = delete;
    ReactorThreads& operator=(const ReactorThreads&) = delete;

    void addCurrentThread();
    struct Times {
        int64_t cpuNanos = 0;   // on a CPU
        int64_t waitNanos = 0;  // runnable, waiting for a CPU (schedstat's run_delay)
    };
    // Each registered thread's times so far, in registration order.
    std::vector<Times> times();

  private:
    std::mutex mu_;
    std::vector<pthread_t> threads_;
    std::vector<int> schedstat_;  // an open /proc/self/task/TID/schedstat per thread, or -1
};

class HashingGovernor {
  public:
    using Clock = GovernorRule::Clock;
    // Between ticks while the pool has work or is in Background; kIdlePeriod otherwise (a
    // tick then only asks the pool whether it has work: the governor costs nothing
    // measurable while no one logs in).
    static constexpr std::chrono::milliseconds kPeriod{10};
    static constexpr std::chrono::milliseconds kIdlePeriod{50};

    HashingGovernor(WorkerPool& pool, ReactorThreads& reactors, std::shared_ptr<spdlog::logger> log,
                    GovernorRule::Settings settings = GovernorRule::Settings{});
    ~HashingGovernor();
    HashingGovernor(const HashingGovernor&) = delete;
    HashingGovernor& operator=(const HashingGovernor&) = delete;

    // Probes whether this process may leave SCHED_IDLE; if so, starts the thread that
    // samples every kPeriod. False (and a log line) if not: the pool stays Shared.
    bool start();
    // Back to Shared, thread joined. Before the pool stops.
    void stop();
    // One sample and decision at `now` (the thread's loop; tests call it directly).
    HashingMode tick(Clock::time_point now);

  private:
    struct Snapshot {
        Clock::time_point at;
        std::vector<ReactorThreads::Times> reactors;
        int64_t poolNanos = 0;
        bool poolHasWork = false;
    };
    void run();

    WorkerPool& pool_;
    ReactorThreads& reactors_;
    std::shared_ptr<spdlog::logger> log_;
    GovernorRule rule_;
    std::deque<Snapshot> history_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace authsvc::app
