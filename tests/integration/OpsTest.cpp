// Operations endpoints: /healthz, /readyz, /metrics, /.well-known/jwks.json with HS256.
#include <regex>
#include <thread>

#include "support/Harness.h"

namespace it {
namespace {

class OpsTest : public ServiceTest {};

struct Sample {
    std::string name;
    std::string labels;  // the text between { and }, or ""
    double value = 0;
};

std::vector<Sample> parseMetrics(const std::string& text, std::vector<std::string>* badLines) {
    static const std::regex kSample(
        R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? ([-+]?([0-9.]+([eE][-+]?[0-9]+)?|Inf|NaN))( -?[0-9]+)?$)");
    std::vector<Sample> samples;
    for (const auto& line : splitLines(text)) {
        if (line.empty() || line[0] == '#') continue;
        std::smatch m;
        if (!std::regex_match(line, m, kSample)) {
            if (badLines) badLines->push_back(line);
            continue;
        }
        Sample s;
        s.name = m[1];
        s.labels = m[3];
        s.value = std::stod(m[4]);
        samples.push_back(s);
    }
    return samples;
}

// The largest sample value whose name+labels contain all of `needles` (case-insensitive).
double maxValueWith(const std::vector<Sample>& samples, const std::vector<std::string>& needles) {
    double best = -1;
    for (const auto& s : samples) {
        const std::string all = s.name + "{" + s.labels + "}";
        bool ok = true;
        for (const auto& n : needles) ok = ok && containsI(all, n);
        if (ok && s.value > best) best = s.value;
    }
    return best;
}

TEST_F(OpsTest, HealthzIsOk) {
    const HttpResponse r = client->get("/healthz");
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_EQ(r.jsonBody(), (json{{"status", "ok"}})) << r;
    EXPECT_TRUE(r.hasHeader("X-Request-Id"));
}

TEST_F(OpsTest, ReadyzIsReadyWithADatabase) {
    const HttpResponse r = client->get("/readyz");
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_EQ(r.jsonBody(), (json{{"status", "ready"}})) << r;
}

TEST_F(OpsTest, LockedDatabaseGives503WithRetryAfterAndRecovers) {
    SKIP_IF_POSTGRESQL("holds SQLite's file lock (OutageTest covers PostgreSQL)");
    // Another process holds SQLite's write lock for longer than the service will wait.
    const std::string email = uniqueEmail();
    auto db = std::make_unique<SqliteAdmin>(server->dbPath());
    db->exec("BEGIN IMMEDIATE");
    HttpResponse reg, ready;
    std::thread t1([&] {
        HttpClient c(server->port());
        reg = registerUser(c, email, kPassword);
    });
    std::thread t2([&] {
        HttpClient c(server->port());
        ready = c.get("/readyz");
    });
    // Meanwhile the token-only routes do not wait for the database.
    const HttpResponse health = client->get("/healthz");
    EXPECT_EQ(health.status, 200) << health;
    EXPECT_LT(health.seconds, 1.0);
    t1.join();
    t2.join();
    db->exec("ROLLBACK");
    db.reset();

    expectError(reg, 503, "unavailable");
    const std::string retryAfter = reg.header("Retry-After").value_or("");
    EXPECT_FALSE(retryAfter.empty()) << reg;
    EXPECT_EQ(retryAfter.find_first_not_of("0123456789"), std::string::npos) << retryAfter;
    EXPECT_FALSE(containsI(reg.body, "locked")) << "internals in the body: " << reg;
    expectError(ready, 503, "unavailable");
    // Once the lock is gone: ready again, and the failed register stored nothing.
    EXPECT_EQ(client->get("/readyz").status, 200);
    EXPECT_EQ(registerUser(*client, email, kPassword).status, 201);
}

// With HS256 alone there is no public key to publish: an empty set, never the secret.
TEST_F(OpsTest, JwksIsAnEmptySetWithHs256) {
    const HttpResponse r = client->get("/.well-known/jwks.json");
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.jsonBody(), (json{{"keys", json::array()}}));
    EXPECT_EQ(r.header("content-type"), "application/jwk-set+json");
    EXPECT_EQ(r.header("cache-control"), "public, max-age=300");
    EXPECT_EQ(r.body.find(server->secret()), std::string::npos);
}

TEST_F(OpsTest, MetricsIsPrometheusTextWithRequestCountersByRouteAndStatus) {
    for (int i = 0; i < 3; ++i) {
        ASSERT_EQ(client->get("/api/protected").status, 401);
    }
    const auto [email, id] = newUser();
    ASSERT_EQ(loginRaw(*client, email, kPassword).status, 200);
    ASSERT_EQ(loginRaw(*client, email, "wrong password").status, 401);

    const HttpResponse r = client->get("/metrics");
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_TRUE(containsI(r.header("Content-Type").value_or(""), "text/plain")) << r;
    std::vector<std::string> bad;
    const auto samples = parseMetrics(r.body, &bad);
    EXPECT_TRUE(bad.empty()) << "not Prometheus text: " << (bad.empty() ? "" : bad.front());
    ASSERT_FALSE(samples.empty()) << r.body;
    EXPECT_NE(r.body.find("# TYPE "), std::string::npos) << r.body;
    // Requests by route and status: the three 401s on /api/protected are counted.
    EXPECT_GE(maxValueWith(samples, {"protected", "401"}), 3) << r.body;
    EXPECT_GE(maxValueWith(samples, {"register", "201"}), 1) << r.body;
    // A latency histogram.
    EXPECT_TRUE(std::regex_search(r.body, std::regex(R"(# TYPE \S+ histogram)"))) << r.body;
    EXPECT_GE(maxValueWith(samples, {"_bucket", "le=\"+Inf\""}), 1) << r.body;
    // Logins by outcome.
    EXPECT_GE(maxValueWith(samples, {"login"}), 1) << r.body;
    // Nothing secret in metrics.
    EXPECT_EQ(r.body.find(email), std::string::npos);
}

TEST_F(OpsTest, MetricsCountersIncrease) {
    // Sum of every counter sample labelled 404 (histogram series left out).
    auto count = [&] {
        double sum = 0;
        for (const auto& s : parseMetrics(client->get("/metrics").body, nullptr)) {
            const auto ends = [&](const std::string& suffix) {
                return s.name.size() >= suffix.size() &&
                       s.name.compare(s.name.size() - suffix.size(), suffix.size(), suffix) == 0;
            };
            if (ends("_bucket") || ends("_sum") || ends("_count")) continue;
            if (s.labels.find("\"404\"") != std::string::npos) sum += s.value;
        }
        return sum;
    };
    client->get("/nope");
    const double before = count();
    for (int i = 0; i < 5; ++i) client->get("/nope-" + std::to_string(i));
    EXPECT_GE(count(), before + 5);
}

// On SQLite every rotation over HTTP goes through the group commit (answered later, from
// the thread that committed it), and /metrics counts its transactions and writes.
TEST_F(OpsTest, RefreshesOnSqliteAreCountedInTheGroupCommitsTransactions) {
    if (serverDbMode()) GTEST_SKIP() << "SQLite's group commit";
    auto value = [&](const char* name) {
        return maxValueWith(parseMetrics(client->get("/metrics").body, nullptr), {name});
    };
    ASSERT_EQ(registerUser(*client, "group@example.com", "group-password-1").status, 201);
    Tokens t = login(*client, "group@example.com", "group-password-1");
    const double commits = value("authsvc_db_group_commits_total");
    const double writes = value("authsvc_db_group_commit_writes_total");
    ASSERT_GE(commits, 0) << "the metric is missing";
    for (int i = 0; i < 3; ++i) {
        auto r = refresh(*client, t.refresh);
        ASSERT_EQ(r.status, 200) << r.body;
        t.refresh = json::parse(r.body)["refresh_token"];
    }
    EXPECT_GE(value("authsvc_db_group_commit_writes_total"), writes + 3);
    EXPECT_GE(value("authsvc_db_group_commits_total"), commits + 1);
}

}  // namespace
}  // namespace it
