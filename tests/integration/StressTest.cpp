// Many concurrent logins while /api/protected is called: every response arrives, promptly.
#include <atomic>
#include <mutex>
#include <thread>

#include "support/Harness.h"

namespace it {
namespace {

using Clock = std::chrono::steady_clock;

// Cheap hashing (the test config's 64 KiB), so that many responses are sent from the worker
// pool in a short time: a lost wake-up (LIBRARIES.md section 1) shows up as a stalled response.
class StressTest : public ServiceTest {};

TEST_F(StressTest, ConcurrentLoginsWhileProtectedIsCalled) {
    const std::string email = newUser().first;  // captured below: a plain variable
    const Tokens t = login(*client, email, kPassword);
    ASSERT_FALSE(t.access.empty());

    constexpr int kThreads = 40;
    constexpr int kLoginsPerThread = 60;
    double slowestLogin = 0;
    std::atomic<int> loginOk{0}, loginBad{0}, protectedOk{0}, protectedBad{0};
    std::atomic<bool> done{false};
    std::mutex mu;
    std::vector<std::string> failures;
    double slowestProtected = 0;

    const auto t0 = Clock::now();
    std::vector<std::thread> protectedCallers;
    for (int p = 0; p < 2; ++p) {
        protectedCallers.emplace_back([&] {
            HttpClient c(server->port());
            c.setTimeoutMs(10000);
            while (!done) {
                const HttpResponse r = c.getWithToken("/api/protected", t.access);
                std::lock_guard lock(mu);
                slowestProtected = std::max(slowestProtected, r.seconds);
                if (r.status == 200) {
                    ++protectedOk;
                } else {
                    ++protectedBad;
                    failures.push_back("protected: " + std::to_string(r.status) + " " + r.error);
                }
            }
        });
    }
    std::vector<std::thread> loginThreads;
    for (int i = 0; i < kThreads; ++i) {
        loginThreads.emplace_back([&, i] {
            HttpClient c(server->port());
            c.setTimeoutMs(10000);
            for (int k = 0; k < kLoginsPerThread; ++k) {
                // Half the threads reconnect every time, half keep the connection.
                const Headers h = i % 2 ? Headers{"Connection: close"} : Headers{};
                const HttpResponse r =
                    c.postJson("/api/login", {{"email", email}, {"password", kPassword}}, h);
                {
                    std::lock_guard lock(mu);
                    slowestLogin = std::max(slowestLogin, r.seconds);
                }
                if (r.status == 200 && !r.jsonBody().value("access_token", "").empty()) {
                    ++loginOk;
                } else {
                    ++loginBad;
                    std::lock_guard lock(mu);
                    failures.push_back("login: " + std::to_string(r.status) + " " + r.error +
                                       " after " + std::to_string(r.seconds) + " s");
                }
            }
        });
    }
    for (auto& th : loginThreads) th.join();
    done = true;
    for (auto& th : protectedCallers) th.join();
    const double total = std::chrono::duration<double>(Clock::now() - t0).count();

    EXPECT_EQ(loginOk, kThreads * kLoginsPerThread);
    EXPECT_EQ(loginBad, 0);
    EXPECT_GT(protectedOk, 0);
    EXPECT_EQ(protectedBad, 0);
    EXPECT_LT(slowestProtected, 2.0) << "a protected call stalled behind the logins";
    EXPECT_LT(slowestLogin, 5.0) << "a login response stalled";
    // The total is a throughput check; stalls are the two bounds above. Under AddressSanitizer
    // the same 2,400 logins took 26.6 s alone and up to 44 s beside another test in this
    // session's runs, so that build gets twice the time.
#if defined(__SANITIZE_ADDRESS__)
    constexpr double kTotalLimit = 60.0;
#else
    constexpr double kTotalLimit = 30.0;
#endif
    EXPECT_LT(total, kTotalLimit);
    for (size_t i = 0; i < std::min<size_t>(failures.size(), 10); ++i) {
        ADD_FAILURE() << failures[i];
    }
    EXPECT_TRUE(server->running());
    EXPECT_EQ(client->get("/healthz").status, 200);
    EXPECT_EQ(server->stop(), 0);
}

// One spinning thread per core, at normal priority, until destroyed.
class Hogs {
  public:
    Hogs() {
        for (unsigned i = 0; i < std::max(1u, std::thread::hardware_concurrency()); ++i) {
            threads_.emplace_back([this] {
                volatile unsigned long spin = 0;
                while (!done_.load(std::memory_order_relaxed)) spin = spin + 1;
            });
        }
    }
    ~Hogs() {
        done_ = true;
        for (auto& th : threads_) th.join();
    }

  private:
    std::atomic<bool> done_{false};
    std::vector<std::thread> threads_;
};

// kThreads x kLoginsPerThread logins of `email`; returns the seconds they took, and
// records a failure for each that did not give 200.
double timeLogins(int port, const std::string& email) {
    constexpr int kThreads = 8;
    constexpr int kLoginsPerThread = 25;
    std::atomic<int> loginOk{0};
    const auto t0 = Clock::now();
    std::vector<std::thread> loginThreads;
    for (int i = 0; i < kThreads; ++i) {
        loginThreads.emplace_back([&] {
            HttpClient c(port);
            c.setTimeoutMs(60000);
            for (int k = 0; k < kLoginsPerThread; ++k) {
                const HttpResponse r =
                    c.postJson("/api/login", {{"email", email}, {"password", kPassword}});
                if (r.status == 200) ++loginOk;
            }
        });
    }
    for (auto& th : loginThreads) th.join();
    EXPECT_EQ(loginOk, kThreads * kLoginsPerThread);
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Every core busy with other work at normal priority (a co-located application, a noisy
// neighbour): logins slow down but keep their share of the CPU. The hashing pool once ran
// under SCHED_IDLE, which gets about 0.3% of a busy core: these 200 logins then took 22 s
// instead of 1 s (ASan build).
TEST_F(StressTest, LoginsKeepTheirShareWhileEveryCoreIsBusy) {
    const auto [email, id] = newUser();
    double total = 0;
    {
        Hogs hogs;
        total = timeLogins(server->port(), email);
    }
    EXPECT_LT(total, 10.0) << "logins starved by work at normal priority";
    EXPECT_EQ(server->stop(), 0);
}

// The same with token verification keeping the one reactor busy too: the hashing pool goes
// to SCHED_IDLE then (HashingGovernor), and must come back when it starves because of the
// other work rather than of the reactor. Without that way back these logins took 25 s
// (ASan build); with it, 3.5 s.
class OneReactorStressTest : public StressTest {
  protected:
    json overrides() const override { return {{"server", {{"threads", 1}}}}; }
};

TEST_F(OneReactorStressTest, LoginsKeepTheirShareWhileTheReactorAndEveryCoreAreBusy) {
    const auto [email, id] = newUser();
    const Tokens t = login(*client, email, kPassword);
    ASSERT_FALSE(t.access.empty());
    std::atomic<bool> done{false};
    std::atomic<int> protectedBad{0};
    std::vector<std::thread> protectedCallers;
    for (int p = 0; p < 4; ++p) {
        protectedCallers.emplace_back([&] {
            HttpClient c(server->port());
            c.setTimeoutMs(60000);
            while (!done) {
                if (c.getWithToken("/api/protected", t.access).status != 200) ++protectedBad;
            }
        });
    }
    double total = 0;
    {
        Hogs hogs;
        total = timeLogins(server->port(), email);
    }
    done = true;
    for (auto& th : protectedCallers) th.join();
    EXPECT_EQ(protectedBad, 0);
    EXPECT_LT(total, 15.0) << "logins starved by work at normal priority";
    EXPECT_EQ(server->stop(), 0);
}

}  // namespace
}  // namespace it
