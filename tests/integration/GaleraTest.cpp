// A three-node MariaDB Galera cluster (scripts/galera.sh: Debian mariadb-server + galera-4,
// on one machine) with three authsvc instances, each on its own node: every node takes
// writes, and Galera settles conflicting ones at COMMIT (the loser gets 1213).
// - Many clients refreshing one token at once through the three instances: exactly one
//   successor (in the database too), the others the retry answer or invalid_grant, never a
//   500 or 503.
// - A node killed (SIGKILL) under refresh load: the instances on the other nodes go on; the
//   one whose node died answers 503 (its /readyz too) until the node is back, then serves
//   again without a restart; no rotation a client received is lost.
// Runs when AUTHSVC_TEST_GALERA=1 (the ctest run "galera.", as root: the nodes run as user
// mysql); skipped otherwise. Each test starts a cluster of its own (about 20 s).
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <mutex>
#include <regex>
#include <set>
#include <thread>

#include "support/Harness.h"

namespace it {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

// The cluster of scripts/galera.sh in a temp dir of its own; stopped and removed at the end.
class GaleraCluster {
  public:
    GaleraCluster() {
        char tmpl[] = "/tmp/authsvc-galera.XXXXXX";
        dir_ = ::mkdtemp(tmpl) ? tmpl : "";
    }
    ~GaleraCluster() {
        if (dir_.empty()) return;
        run("stop");
        fs::remove_all(dir_);
    }
    GaleraCluster(const GaleraCluster&) = delete;
    GaleraCluster& operator=(const GaleraCluster&) = delete;

    // Starts the three nodes; the DSNs then hold one per node.
    bool start() {
        const auto begin = SteadyClock::now();
        auto [ok, out] = run("start");
        startSeconds = std::chrono::duration<double>(SteadyClock::now() - begin).count();
        for (const std::string& line : splitLines(out))
            if (line.rfind("host=", 0) == 0) dsns.push_back(line);
        return ok && dsns.size() == 3;
    }
    bool kill(int node) { return run("kill", {std::to_string(node)}).first; }
    bool restart(int node) { return run("restart", {std::to_string(node)}).first; }
    // One statement's first column (tab-separated rows) on `node`, in database authsvc.
    std::string sql(int node, const std::string& statement) {
        auto [ok, out] = run("sql", {std::to_string(node), "USE authsvc; " + statement});
        EXPECT_TRUE(ok) << statement;
        while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
        return out;
    }

    std::vector<std::string> dsns;
    double startSeconds = 0;

  private:
    // scripts/galera.sh CMD DIR ARGS...; its stdout, and whether it exited 0 (its stderr,
    // the cluster's times and errors, goes to the test's output).
    std::pair<bool, std::string> run(const std::string& cmd, std::vector<std::string> args = {}) {
        std::vector<std::string> argv{std::string(AUTHSVC_SOURCE_DIR) + "/scripts/galera.sh", cmd,
                                      dir_};
        argv.insert(argv.end(), args.begin(), args.end());
        const CommandResult r = runCommand(argv, dir_, std::chrono::seconds(300));
        if (!r.err.empty()) std::cerr << r.err;
        return {r.exitCode == 0, r.out};
    }
    std::string dir_;
};

class GaleraTest : public ::testing::Test {
  protected:
    void SetUp() override {
        const char* on = std::getenv("AUTHSVC_TEST_GALERA");
        if (!on || std::string(on) != "1") GTEST_SKIP() << "AUTHSVC_TEST_GALERA is not 1";
        if (::geteuid() != 0) GTEST_SKIP() << "the Galera nodes are started as root";
        cluster = std::make_unique<GaleraCluster>();
        ASSERT_TRUE(cluster->start()) << "the Galera cluster did not form";
        std::cerr << "[ galera   ] cluster of 3 formed in " << cluster->startSeconds << " s\n";
        const json common = {{"jwt", {{"secret", randomString(48)}}},
                             {"refresh", {{"secret", randomString(48)}, {"reuse_grace", "60s"}}}};
        // The three at the same moment, on an empty database: one instance migrates, the
        // others wait for its lease (models/MigrationLock.h) and find the migrations applied.
        for (int i = 0; i < 3; ++i) {
            json o = common;
            o["database"] = {{"backend", "mysql"},
                             {"mysql", {{"dsn", cluster->dsns[size_t(i)]}}},
                             {"timeout", "5s"}};
            servers.push_back(std::make_unique<ServerProcess>(o));
        }
        std::array<bool, 3> started{};
        {
            std::vector<std::thread> starting;
            for (int i = 0; i < 3; ++i)
                starting.emplace_back([&, i] { started[size_t(i)] = servers[size_t(i)]->start(); });
            for (auto& t : starting) t.join();
        }
        for (int i = 0; i < 3; ++i)
            ASSERT_TRUE(started[size_t(i)]) << "instance " << i + 1 << " did not start:\n"
                                            << servers[size_t(i)]->logTail();
        expectEachMigrationAppliedOnce();
    }
    // Every migration of migrations/mysql/ is recorded once, the instances' "applied N
    // migration(s)" add up to their number (none ran one twice), and none failed one (a
    // second CREATE TABLE, a duplicate schema_migrations row: "migrations pending").
    void expectEachMigrationAppliedOnce() {
        int expected = 0;
        for (const auto& f :
             fs::directory_iterator(fs::path(AUTHSVC_SOURCE_DIR) / "migrations/mysql"))
            if (f.path().extension() == ".sql") ++expected;
        EXPECT_EQ(cluster->sql(2, "SELECT COUNT(*) FROM schema_migrations"),
                  std::to_string(expected));
        EXPECT_EQ(cluster->sql(3, "SELECT COUNT(DISTINCT version) FROM schema_migrations"),
                  std::to_string(expected));
        EXPECT_EQ(cluster->sql(1, "SELECT COUNT(*) FROM schema_migrations_lock"), "0");
        // The log is written in batches (100 ms): wait until the lines are out, and a
        // little longer for the late line of a second run.
        std::string logs;
        auto applied = [&] {
            int sum = 0;
            logs.clear();
            static const std::regex line("applied ([0-9]+) migration");
            for (auto& s : servers) {
                const std::string log = s->log();
                logs += log;
                for (std::sregex_iterator m(log.begin(), log.end(), line), end; m != end; ++m)
                    sum += std::stoi((*m)[1]);
            }
            return sum;
        };
        for (auto until = SteadyClock::now() + 20s; SteadyClock::now() < until;) {
            if (applied() >= expected) break;
            std::this_thread::sleep_for(100ms);
        }
        std::this_thread::sleep_for(300ms);
        EXPECT_EQ(applied(), expected) << "migrations applied by the three instances together";
        EXPECT_EQ(logs.find("migrations pending"), std::string::npos) << logs;
    }
    void TearDown() override {
        servers.clear();  // before the cluster goes
        if (cluster) {
            std::cerr << "[ galera   ] conflict retries: " << conflictRetries << "\n";
        }
        cluster.reset();
    }
    int port(int i) { return servers[size_t(i)]->port(); }
    // authsvc_db_conflict_retries_total summed over the instances that answer.
    long long sumConflictRetries() {
        long long sum = 0;
        for (auto& s : servers) {
            HttpClient c(s->port());
            const HttpResponse r = c.get("/metrics");
            for (const std::string& line : splitLines(r.body))
                if (line.rfind("authsvc_db_conflict_retries_total ", 0) == 0)
                    sum += std::stoll(line.substr(line.find(' ') + 1));
        }
        return sum;
    }
    static std::string hashSql(const std::string& token) {
        return "UNHEX(SHA2('" + token + "', 256))";  // a refresh token is base64url: no quotes
    }

    std::unique_ptr<GaleraCluster> cluster;
    std::vector<std::unique_ptr<ServerProcess>> servers;
    long long conflictRetries = 0;
};

TEST_F(GaleraTest, SixteenClientsThroughThreePrimariesGetOneSuccessor) {
    HttpClient c1(port(0));
    const std::string email = uniqueEmail("galera");
    ASSERT_EQ(registerUser(c1, email, kPassword).status, 201);
    std::string token = login(c1, email, kPassword).refresh;
    ASSERT_FALSE(token.empty());
    // 16 ports, the three instances in turn: one client each (refreshEverywhere).
    std::vector<int> ports;
    for (int i = 0; i < 16; ++i) ports.push_back(port(i % 3));
    constexpr int kRounds = 8;
    for (int round = 0; round < kRounds; ++round) {
        // The token was issued through instance (round % 3): the others read it causally.
        const auto results = refreshEverywhere(ports, token, 1);
        std::set<std::string> successors;
        int ok = 0;
        for (size_t i = 0; i < results.size(); ++i) {
            const HttpResponse& r = results[i];
            if (r.status == 200) {
                ++ok;
                successors.insert(r.jsonBody().value("refresh_token", ""));
            } else {
                // A client that lost gets the winner's successor (grace) or invalid_grant.
                ASSERT_EQ(r.status, 401) << "round " << round << ", client " << i << ": " << r;
                ASSERT_EQ(r.errorCode(), "invalid_grant") << r;
            }
        }
        ASSERT_GE(ok, 1) << "round " << round << ": nobody rotated";
        ASSERT_EQ(successors.size(), 1u) << "round " << round << ": two successors answered";
        // In the database (read on another node than most writers): one child, unused.
        const std::string node = std::to_string(round % 3 + 1);
        EXPECT_EQ(cluster->sql(round % 3 + 1,
                               "SELECT COUNT(*) FROM refresh_tokens WHERE parent_id = (SELECT id "
                               "FROM refresh_tokens WHERE token_hash = " +
                                   hashSql(token) + ")"),
                  "1")
            << "round " << round << " on node " << node;
        token = *successors.begin();
        ASSERT_FALSE(token.empty());
        EXPECT_EQ(cluster->sql(round % 3 + 1,
                               "SELECT COUNT(*) FROM refresh_tokens WHERE used_ms IS NULL AND "
                               "token_hash = " +
                                   hashSql(token)),
                  "1");
    }
    // The family has one live token, the last successor.
    EXPECT_EQ(cluster->sql(2, "SELECT COUNT(*) FROM refresh_tokens WHERE used_ms IS NULL"), "1");
    EXPECT_EQ(cluster->sql(3, "SELECT COUNT(*) FROM refresh_tokens"), std::to_string(kRounds + 1));
    conflictRetries = sumConflictRetries();
    const HttpResponse last = refresh(c1, token);
    EXPECT_EQ(last.status, 200) << last;
}

TEST_F(GaleraTest, AKilledNodeLosesNoAcknowledgedRotationAndItsInstanceRecovers) {
    constexpr int kClients = 6;
    std::vector<std::string> tokens(kClients);
    {
        HttpClient c(port(0));
        for (int k = 0; k < kClients; ++k) {
            const std::string email = uniqueEmail("galera-kill");
            ASSERT_EQ(registerUser(c, email, kPassword).status, 201);
            tokens[size_t(k)] = login(c, email, kPassword).refresh;
            ASSERT_FALSE(tokens[size_t(k)].empty());
        }
    }
    // Client k refreshes through instance k % 3 and, when that answers 503, through the next
    // (as a client with fallbacks or behind a load balancer would): each 200's successor is
    // the client's token from then on.
    std::atomic<bool> stop{false};
    std::mutex mu;
    std::vector<std::string> unexpected;                           // guarded by mu
    std::vector<std::set<std::string>> received(kClients);         // guarded by mu
    std::array<std::atomic<int>, 3> okAfterKill{}, unavailable{};  // per instance
    std::atomic<bool> killed{false};
    std::vector<std::thread> threads;
    for (int k = 0; k < kClients; ++k) {
        threads.emplace_back([&, k] {
            std::vector<std::unique_ptr<HttpClient>> clients;
            for (int i = 0; i < 3; ++i) {
                clients.push_back(std::make_unique<HttpClient>(port(i)));
                clients.back()->setTimeoutMs(60000);
            }
            int at = k % 3;
            while (!stop) {
                const HttpResponse r = refresh(*clients[size_t(at)], tokens[size_t(k)]);
                if (r.status == 200) {
                    const std::string next = r.jsonBody().value("refresh_token", "");
                    std::lock_guard lock(mu);
                    received[size_t(k)].insert(next);
                    tokens[size_t(k)] = next;
                    if (killed) okAfterKill[size_t(at)]++;
                    at = k % 3;                        // back to its own instance
                    std::this_thread::sleep_for(5ms);  // load, not a flood: the machine is shared
                } else if (r.status == 503) {
                    unavailable[size_t(at)]++;
                    at = (at + 1) % 3;
                    std::this_thread::sleep_for(50ms);
                } else {
                    std::lock_guard lock(mu);
                    unexpected.push_back("client " + std::to_string(k) + " via instance " +
                                         std::to_string(at + 1) + ": " + std::to_string(r.status) +
                                         " " + r.body);
                    return;
                }
            }
        });
    }
    auto stopLoad = [&] {
        stop = true;
        for (auto& t : threads) t.join();
        threads.clear();
    };
    std::this_thread::sleep_for(2s);
    ASSERT_TRUE(cluster->kill(2)) << "could not kill node 2";
    killed = true;
    const auto killedAt = SteadyClock::now();

    // Instance 2 answers 503, its /readyz too, while node 2 is down.
    HttpClient c2(port(1));
    c2.setTimeoutMs(60000);
    HttpResponse ready;
    for (auto until = SteadyClock::now() + 60s; SteadyClock::now() < until;) {
        ready = c2.get("/readyz");
        if (ready.status == 503) break;
        std::this_thread::sleep_for(200ms);
    }
    EXPECT_EQ(ready.status, 503) << ready;
    const HttpResponse down = refresh(c2, randomString(42) + "A");  // well-formed, unknown
    EXPECT_EQ(down.status, 503) << down;
    EXPECT_TRUE(down.hasHeader("retry-after")) << down;

    // The instances on nodes 1 and 3 keep serving (the cluster notices the dead node within
    // a few seconds: Galera's suspect timeout).
    for (auto until = SteadyClock::now() + 90s; SteadyClock::now() < until;) {
        if (okAfterKill[0] >= 20 && okAfterKill[2] >= 20) break;
        std::this_thread::sleep_for(200ms);
    }
    EXPECT_GE(okAfterKill[0].load(), 20) << "instance 1 stopped serving";
    EXPECT_GE(okAfterKill[2].load(), 20) << "instance 3 stopped serving";
    std::cerr << "[ galera   ] node 2 down; instances 1 and 3 served 20 rotations each within "
              << std::chrono::duration<double>(SteadyClock::now() - killedAt).count() << " s\n";

    // Node 2 back (IST or SST from the others): instance 2 serves again, not restarted.
    const auto restartAt = SteadyClock::now();
    ASSERT_TRUE(cluster->restart(2)) << "node 2 did not rejoin";
    const double rejoinSeconds =
        std::chrono::duration<double>(SteadyClock::now() - restartAt).count();
    const pid_t pidBefore = servers[1]->pid();
    for (auto until = SteadyClock::now() + 60s; SteadyClock::now() < until;) {
        ready = c2.get("/readyz");
        if (ready.status == 200) break;
        std::this_thread::sleep_for(200ms);
    }
    EXPECT_EQ(ready.status, 200) << ready;
    EXPECT_EQ(servers[1]->pid(), pidBefore);
    EXPECT_TRUE(servers[1]->running());
    const int okBefore = okAfterKill[1];
    for (auto until = SteadyClock::now() + 30s; SteadyClock::now() < until;) {
        if (okAfterKill[1] > okBefore + 5) break;
        std::this_thread::sleep_for(200ms);
    }
    EXPECT_GT(okAfterKill[1].load(), okBefore + 5) << "instance 2 did not serve again";
    std::cerr << "[ galera   ] node 2 rejoined in " << rejoinSeconds
              << " s; 503s per instance: " << unavailable[0] << " " << unavailable[1] << " "
              << unavailable[2] << "\n";
    stopLoad();

    {
        std::lock_guard lock(mu);
        for (const std::string& u : unexpected) ADD_FAILURE() << u;
    }
    // Nothing acknowledged is lost, on any node: every successor a client received is
    // stored, and each client's last one is its family's only live token and works.
    for (int k = 0; k < kClients; ++k) {
        ASSERT_FALSE(received[size_t(k)].empty()) << "client " << k << " never rotated";
        for (int node = 1; node <= 3; ++node) {
            // In chunks: one command line holds at most 128 KiB.
            const std::vector<std::string> all(received[size_t(k)].begin(),
                                               received[size_t(k)].end());
            size_t found = 0;
            for (size_t at = 0; at < all.size(); at += 500) {
                std::string in;
                for (size_t i = at; i < std::min(all.size(), at + 500); ++i)
                    in += (in.empty() ? "" : ",") + hashSql(all[i]);
                const std::string n = cluster->sql(
                    node, "SELECT COUNT(*) FROM refresh_tokens WHERE token_hash IN (" + in + ")");
                found += size_t(std::atoll(n.c_str()));
            }
            EXPECT_EQ(found, all.size()) << "client " << k << " on node " << node;
            EXPECT_EQ(cluster->sql(node,
                                   "SELECT COUNT(*) FROM refresh_tokens t JOIN refresh_tokens "
                                   "last ON last.family_id = t.family_id WHERE "
                                   "t.used_ms IS NULL AND last.token_hash = " +
                                       hashSql(tokens[size_t(k)])),
                      "1")
                << "client " << k << " on node " << node << ": more than one live token";
        }
        HttpClient c(port(k % 3));
        const HttpResponse r = refresh(c, tokens[size_t(k)]);
        EXPECT_EQ(r.status, 200) << "client " << k << "'s last token: " << r;
    }
    conflictRetries = sumConflictRetries();
}

}  // namespace
}  // namespace it
