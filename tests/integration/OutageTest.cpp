// Database outages. PostgreSQL: each test brings a PostgreSQL of its own (scripts/pg.sh, temp
// dir, free port), so stopping it disturbs nobody; they run in both modes. Stopped cleanly or
// killed with SIGKILL under load: 503 `unavailable` + Retry-After within database.timeout, never
// a 500, /readyz 503, /api/protected 200, and recovery on its own once it is back. Started while
// the database is down: live, not ready, then ready. SQLite: an unwritable (immutable) file under a
// running server.
#include <atomic>
#include <fstream>
#include <functional>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "support/Harness.h"

namespace it {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

long long msSince(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

// 503 with the error envelope, code `unavailable` and a numeric Retry-After.
void expectUnavailable(const HttpResponse& r, const std::string& what) {
    SCOPED_TRACE(what);
    expectError(r, 503, "unavailable");
    const std::string retryAfter = r.header("Retry-After").value_or("");
    EXPECT_FALSE(retryAfter.empty()) << r;
    EXPECT_EQ(retryAfter.find_first_not_of("0123456789"), std::string::npos) << r;
}

// Why a response seen during an outage is wrong, or "" if it is acceptable.
std::string problemWith(const HttpResponse& r, std::initializer_list<long> allowed) {
    if (r.seconds >= 3.0) return "took " + std::to_string(r.seconds) + " s";
    if (r.status == 503) {
        if (r.errorCode() != "unavailable") return "503 without error unavailable";
        if (!r.hasHeader("Retry-After")) return "503 without Retry-After";
        return "";
    }
    for (long s : allowed) {
        if (r.status == s) return "";
    }
    return "unexpected status " + std::to_string(r.status);
}

const json kGenerousThrottle = {
    {"auth",
     {{"login_rate_limit", {{"per_ip_per_minute", 100000}, {"per_account_per_minute", 100000}}}}}};

class PgOutageAnyBackendTest : public ::testing::Test {
  protected:
    void SetUp() override {
        pg = std::make_unique<TempPostgres>();
        ASSERT_TRUE(pg->start()) << pg->lastError();
    }
    virtual json overrides() const {
        json o = {
            {"database",
             {{"backend", "postgresql"}, {"postgresql", {{"dsn", pg->dsn()}}}, {"timeout", "2s"}}}};
        o.merge_patch(kGenerousThrottle);
        return o;
    }
    void outageUnderLoad(const std::function<bool()>& down, const char* how);
    void startWhileDown();

    // Declared first: destroyed after the server. (MysqlOutageAnyBackendTest: a MariaDB.)
    std::unique_ptr<TempDatabaseServer> pg;
    std::unique_ptr<ServerProcess> server;
};

// A few threads calling login, refresh and /api/me in a loop, recording what is wrong.
class Load {
  public:
    Load(int port, const std::vector<std::string>& emails) {
        for (const auto& email : emails)
            threads_.emplace_back([this, port, email] { run(port, email); });
    }
    ~Load() { stop(); }
    void stop() {
        stop_ = true;
        for (auto& t : threads_) {
            if (t.joinable()) t.join();
        }
    }
    int ok() const { return ok_; }
    int unavailable() const { return unavailable_; }
    int total() const { return total_; }
    std::vector<std::string> problems() {
        std::lock_guard lock(mu_);
        return problems_;
    }

  private:
    void record(const char* what, const HttpResponse& r, std::initializer_list<long> allowed) {
        ++total_;
        if (r.status == 200) ++ok_;
        if (r.status == 503) ++unavailable_;
        const std::string p = problemWith(r, allowed);
        if (!p.empty()) {
            std::ostringstream os;
            os << what << ": " << p << ": " << r;
            std::lock_guard lock(mu_);
            problems_.push_back(os.str());
        }
    }
    void run(int port, const std::string& email) {
        HttpClient c(port);
        c.setTimeoutMs(10000);  // a hang shows as a slow response, not a transport error
        std::string access, token;
        bool lastRefreshFailed = false;
        while (!stop_) {
            const HttpResponse l = loginRaw(c, email, kPassword);
            record("login", l, {200});
            if (l.status == 200 && token.empty()) {
                access = l.jsonBody().value("access_token", "");
                token = l.jsonBody().value("refresh_token", "");
            }
            if (!token.empty()) {
                const HttpResponse r = refresh(c, token);
                // A 401 is acceptable only right after a failed attempt on the same token.
                if (lastRefreshFailed) {
                    record("refresh", r, {200, 401});
                } else {
                    record("refresh", r, {200});
                }
                if (r.status == 200) {
                    token = r.jsonBody().value("refresh_token", "");
                    access = r.jsonBody().value("access_token", "");
                } else if (r.status == 401) {
                    token.clear();
                }
                lastRefreshFailed = r.status != 200;
            }
            if (!access.empty()) record("me", c.getWithToken("/api/me", access), {200});
        }
    }

    std::vector<std::thread> threads_;
    std::atomic<bool> stop_{false};
    std::atomic<int> ok_{0}, unavailable_{0}, total_{0};
    std::mutex mu_;
    std::vector<std::string> problems_;
};

template <typename Pred>
bool waitUntil(Pred pred, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!pred()) {
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

// /api/protected called in a loop from one thread: every answer must be a prompt 200.
class ProtectedCaller {
  public:
    ProtectedCaller(int port, const std::string& access)
        : thread_([this, port, access] {
              HttpClient c(port);
              c.setTimeoutMs(10000);
              while (!stop_) {
                  const HttpResponse r = c.getWithToken("/api/protected", access);
                  ++total_;
                  if (r.status != 200 || r.seconds >= 1.0) {
                      std::ostringstream os;
                      os << r;
                      std::lock_guard lock(mu_);
                      if (problems_.empty()) first_ = os.str();
                      problems_.push_back(os.str());
                  }
              }
          }) {}
    ~ProtectedCaller() { stop(); }
    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
    }
    int total() const { return total_; }
    size_t bad() {
        std::lock_guard lock(mu_);
        return problems_.size();
    }
    std::string first() {
        std::lock_guard lock(mu_);
        return first_;
    }

  private:
    std::atomic<bool> stop_{false};
    std::atomic<int> total_{0};
    std::mutex mu_;
    std::vector<std::string> problems_;
    std::string first_;
    std::thread thread_;  // last: starts when the rest is ready
};

// The database server (PostgreSQL; MariaDB in MysqlOutageAnyBackendTest) taken away by `down` (a
// clean stop, or SIGKILL) while logins, refreshes and /api/me run: 503 + Retry-After meanwhile,
// never a 500; /api/protected 200 throughout; then pg.sh starts it again and authsvc recovers
// without a restart.
void PgOutageAnyBackendTest::outageUnderLoad(const std::function<bool()>& down, const char* how) {
    server = std::make_unique<ServerProcess>(overrides());
    ASSERT_TRUE(server->start()) << server->logTail();
    HttpClient c(server->port());
    c.setTimeoutMs(10000);
    std::vector<std::string> emails;
    for (int i = 0; i < 3; ++i) {
        emails.push_back(uniqueEmail("load"));
        ASSERT_EQ(registerUser(c, emails.back(), kPassword).status, 201);
    }
    const std::string email = uniqueEmail();
    ASSERT_EQ(registerUser(c, email, kPassword).status, 201);
    const Tokens t = login(c, email, kPassword);
    ASSERT_FALSE(t.refresh.empty());
    const pid_t pidBefore = server->pid();

    Load load(server->port(), emails);
    ProtectedCaller protectedCaller(server->port(), t.access);
    ASSERT_TRUE(waitUntil([&] { return load.ok() >= 15; }, 10s)) << "no load before the outage";

    ASSERT_TRUE(down()) << pg->lastError();
    const auto stoppedAt = Clock::now();
    HttpResponse ready;
    ASSERT_TRUE(waitUntil(
        [&] {
            ready = c.get("/readyz");
            return ready.status != 200;
        },
        5s))
        << "/readyz still 200 " << msSince(stoppedAt) << " ms after the database stopped";
    expectUnavailable(ready, "/readyz during the outage");
    EXPECT_TRUE(waitUntil([&] { return load.unavailable() >= 6; }, 8s))
        << "the load saw " << load.unavailable() << " 503s during the outage";

    // Token-only routes do not notice; database routes answer 503 quickly.
    const HttpResponse p = c.getWithToken("/api/protected", t.access);
    EXPECT_EQ(p.status, 200) << p;
    EXPECT_LT(p.seconds, 1.0);
    const HttpResponse reg = registerUser(c, uniqueEmail(), kPassword);
    expectUnavailable(reg, "register during the outage");
    EXPECT_LT(reg.seconds, 3.0);
    const HttpResponse rf = refresh(c, t.refresh);
    expectUnavailable(rf, "refresh during the outage");
    EXPECT_LT(rf.seconds, 3.0);
    expectUnavailable(c.getWithToken("/api/me", t.access), "/api/me during the outage");

    // Back: ready, and a refresh succeeds, within 2 s of pg.sh start returning.
    ASSERT_TRUE(pg->start()) << pg->lastError();
    const auto startedAt = Clock::now();
    bool readyAgain = false, refreshed = false;
    HttpResponse last;
    waitUntil(
        [&] {
            if (!readyAgain) {
                last = c.get("/readyz");
                readyAgain = last.status == 200;
                return false;
            }
            last = refresh(c, t.refresh);
            refreshed = last.status == 200;
            return refreshed;
        },
        10s);
    const long long recoveryMs = msSince(startedAt);
    std::cout
        << "recovery_ms=" << recoveryMs << " (the database " << how
        << ", under load; outage lasted "
        << std::chrono::duration_cast<std::chrono::milliseconds>(startedAt - stoppedAt).count()
        << " ms)" << std::endl;
    RecordProperty("recovery_ms", std::to_string(recoveryMs));
    ASSERT_TRUE(readyAgain && refreshed)
        << "not recovered 10 s after the database came back: " << last;
    EXPECT_LE(recoveryMs, 2000);

    // The load recovers too.
    const int okBefore = load.ok();
    EXPECT_TRUE(waitUntil([&] { return load.ok() >= okBefore + 9; }, 5s))
        << "the load did not recover";
    load.stop();
    protectedCaller.stop();
    EXPECT_EQ(protectedCaller.bad(), 0u)
        << "of " << protectedCaller.total()
        << " calls of /api/protected, the first bad one: " << protectedCaller.first();
    const auto problems = load.problems();
    EXPECT_TRUE(problems.empty()) << problems.size() << " bad responses of " << load.total()
                                  << ", the first: " << problems.front();
    EXPECT_TRUE(server->running()) << "authsvc died";
    EXPECT_EQ(server->pid(), pidBefore);
    EXPECT_EQ(loginRaw(c, email, kPassword).status, 200);
    EXPECT_EQ(registerUser(c, uniqueEmail(), kPassword).status, 201);
}

TEST_F(PgOutageAnyBackendTest, StopUnderLoadGives503ThenRecoversWithoutRestart) {
    outageUnderLoad([this] { return pg->stop(); }, "stopped");
}

// SIGKILL of the postmaster and its backends: connections reset mid-query, no shutdown
// message, crash recovery at the next start.
TEST_F(PgOutageAnyBackendTest, KilledUnderLoadGives503ThenRecoversWithoutRestart) {
    outageUnderLoad([this] { return pg->kill9(); }, "killed");
}

TEST_F(PgOutageAnyBackendTest, StartsWhileDatabaseIsDownAndBecomesReadyWhenItComes) {
    startWhileDown();
}

void PgOutageAnyBackendTest::startWhileDown() {
    ASSERT_TRUE(pg->stop());
    server = std::make_unique<ServerProcess>(overrides());
    ASSERT_TRUE(server->startLive()) << "authsvc did not start with the database down:\n"
                                     << server->logTail();
    HttpClient c(server->port());
    c.setTimeoutMs(10000);
    EXPECT_EQ(c.get("/healthz").status, 200);
    const HttpResponse notReady = c.get("/readyz");
    expectUnavailable(notReady, "/readyz with the database down");
    const std::string email = uniqueEmail();
    const HttpResponse early = registerUser(c, email, kPassword);
    expectUnavailable(early, "register before the database came");
    EXPECT_LT(early.seconds, 3.0);

    ASSERT_TRUE(pg->start()) << pg->lastError();
    const auto startedAt = Clock::now();
    HttpResponse ready;
    const bool ok = waitUntil(
        [&] {
            ready = c.get("/readyz");
            return ready.status == 200;
        },
        10s);
    const long long readyMs = msSince(startedAt);
    std::cout << "ready_after_late_start_ms=" << readyMs << std::endl;
    RecordProperty("ready_ms", std::to_string(readyMs));
    ASSERT_TRUE(ok) << "not ready 10 s after the database came: " << ready << "\n"
                    << server->logTail();
    EXPECT_LE(readyMs, 2000);
    // Migrations were applied late: the whole flow works.
    ASSERT_EQ(registerUser(c, email, kPassword).status, 201);
    const Tokens t = login(c, email, kPassword);
    EXPECT_EQ(refresh(c, t.refresh).status, 200);
    EXPECT_EQ(c.getWithToken("/api/me", t.access).status, 200);
}

// The same with MariaDB (scripts/mariadb.sh): stopped, killed with SIGKILL (connections reset
// mid-query), or not yet there at start. MySQL's errors of a server gone or unreachable
// (2002, 2003, 2006, 2013) are 503 + Retry-After, never 500.
class MysqlOutageAnyBackendTest : public PgOutageAnyBackendTest {
  protected:
    void SetUp() override {
        pg = std::make_unique<TempMariadb>();
        ASSERT_TRUE(pg->start()) << pg->lastError();
    }
    json overrides() const override {
        json o = {{"database",
                   {{"backend", "mysql"}, {"mysql", {{"dsn", pg->dsn()}}}, {"timeout", "2s"}}}};
        o.merge_patch(kGenerousThrottle);
        return o;
    }
};

TEST_F(MysqlOutageAnyBackendTest, StopUnderLoadGives503ThenRecoversWithoutRestart) {
    outageUnderLoad([this] { return pg->stop(); }, "stopped");
}

TEST_F(MysqlOutageAnyBackendTest, KilledUnderLoadGives503ThenRecoversWithoutRestart) {
    outageUnderLoad([this] { return pg->kill9(); }, "killed");
}

TEST_F(MysqlOutageAnyBackendTest, StartsWhileDatabaseIsDownAndBecomesReadyWhenItComes) {
    startWhileDown();
}

// ---------------------------------------------------------------- SQLite: immutable file

std::string chattrPath() {
    for (const char* p : {"/usr/bin/chattr", "/bin/chattr", "/sbin/chattr", "/usr/sbin/chattr"}) {
        if (fs::exists(p)) return p;
    }
    return "";
}

// Files made immutable with chattr +i, made mutable again however the test ends.
class Immutable {
  public:
    Immutable(std::string chattr, std::vector<fs::path> files)
        : chattr_(std::move(chattr)), files_(std::move(files)) {}
    ~Immutable() { release(); }
    bool apply() {
        applied_ = true;
        for (const auto& f : files_) {
            if (runCommand({chattr_, "+i", f.string()}, f.parent_path(), 10s).exitCode != 0) {
                return false;
            }
        }
        return true;
    }
    void release() {
        if (!applied_) return;
        for (const auto& f : files_) runCommand({chattr_, "-i", f.string()}, f.parent_path(), 10s);
        applied_ = false;
    }

  private:
    std::string chattr_;
    std::vector<fs::path> files_;
    bool applied_ = false;
};

TEST(SqliteOutageTest, ImmutableFileGives503AndRecoversAfterwards) {
    SKIP_IF_POSTGRESQL("makes the SQLite file unwritable");
    json o = {{"database", {{"timeout", "2s"}}}};
    o.merge_patch(kGenerousThrottle);
    ServerProcess server(o);
    ASSERT_TRUE(server.start()) << server.logTail();
    HttpClient c(server.port());
    c.setTimeoutMs(10000);
    const std::string email = uniqueEmail();
    ASSERT_EQ(registerUser(c, email, kPassword).status, 201);
    const Tokens t = login(c, email, kPassword);
    ASSERT_FALSE(t.refresh.empty());

    // chattr +i must work here (root, ext4-like file system), else the test cannot run.
    const std::string chattr = chattrPath();
    if (chattr.empty()) GTEST_SKIP() << "no chattr";
    {
        const fs::path probe = server.dir() / "chattr-probe";
        std::ofstream(probe) << "x";
        Immutable guard(chattr, {probe});
        const bool applied = guard.apply();
        const bool blocked = applied && !std::ofstream(probe, std::ios::app).good();
        guard.release();
        if (!blocked) GTEST_SKIP() << "chattr +i does not make files unwritable here";
    }

    std::vector<fs::path> files{server.dbPath()};
    const fs::path wal = server.dbPath().string() + "-wal";
    if (fs::exists(wal)) files.push_back(wal);
    Immutable immutable(chattr, files);
    ASSERT_TRUE(immutable.apply());

    const HttpResponse reg = registerUser(c, uniqueEmail(), kPassword);
    expectUnavailable(reg, "register with an immutable database");
    EXPECT_LT(reg.seconds, 3.0);
    const HttpResponse rf = refresh(c, t.refresh);
    expectUnavailable(rf, "refresh with an immutable database");
    EXPECT_LT(rf.seconds, 3.0);
    const HttpResponse l = loginRaw(c, email, kPassword);
    expectUnavailable(l, "login (creates a family) with an immutable database");
    EXPECT_LT(l.seconds, 3.0);
    const HttpResponse p = c.getWithToken("/api/protected", t.access);
    EXPECT_EQ(p.status, 200) << p;
    EXPECT_TRUE(server.running());

    immutable.release();
    // Recovers by itself: a few requests at most.
    int attempts = 0;
    HttpResponse again;
    const std::string later = uniqueEmail();
    waitUntil(
        [&] {
            ++attempts;
            again = registerUser(c, later, kPassword);
            return again.status == 201 || attempts >= 5;
        },
        10s);
    std::cout << "sqlite_recovery_attempts=" << attempts << std::endl;
    ASSERT_EQ(again.status, 201) << "not recovered after " << attempts << " requests: " << again;
    EXPECT_EQ(refresh(c, t.refresh).status, 200);
    EXPECT_EQ(loginRaw(c, email, kPassword).status, 200);
    EXPECT_EQ(c.get("/readyz").status, 200);
}

}  // namespace
}  // namespace it
