// Idempotent retry inside refresh.reuse_grace, reuse detection and family revocation, through
// both refresh routes (POST /api/refresh_token and POST /oauth/token: RefreshRoute).
#include <thread>

#include "support/Harness.h"

namespace it {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// The largest value of a metrics sample line containing every needle (case-insensitive); -1 if
// none.
double metricValue(const std::string& metrics, const std::vector<std::string>& needles) {
    double best = -1;
    for (const auto& line : splitLines(metrics)) {
        if (line.empty() || line[0] == '#') continue;
        bool ok = true;
        for (const auto& n : needles) ok = ok && containsI(line, n);
        const auto space = line.rfind(' ');
        if (!ok || space == std::string::npos) continue;
        try {
            best = std::max(best, std::stod(line.substr(space + 1)));
        } catch (const std::exception&) {
        }
    }
    return best;
}

class RefreshReuseTest : public ServiceTest, public ::testing::WithParamInterface<RefreshRoute> {
  protected:
    void SetUp() override {
        ServiceTest::SetUp();
        if (HasFatalFailure()) return;
        email = newUser().first;
        t0 = login(*client, email, kPassword).refresh;
        ASSERT_FALSE(t0.empty());
    }
    HttpResponse refreshOnce(const std::string& token) {
        return refreshVia(*client, GetParam(), token);
    }
    // Rotates `token`, asserting 200; returns the successor (or "" on failure).
    std::string rotate(const std::string& token) {
        const HttpResponse r = refreshOnce(token);
        EXPECT_EQ(r.status, 200) << r;
        return r.jsonBody().value("refresh_token", "");
    }
    void expectDead(const std::string& token, const std::string& label) {
        expectRefreshRefused(refreshOnce(token), GetParam(), label + " still works");
    }

    std::string email;
    std::string t0;
};
INSTANTIATE_TEST_SUITE_P(Via, RefreshReuseTest, bothRefreshRoutes(), refreshRouteName);

TEST_P(RefreshReuseTest, RetryInsideGraceReturnsTheSameSuccessor) {
    const HttpResponse first = refreshOnce(t0);
    ASSERT_EQ(first.status, 200) << first;
    const std::string t1 = first.jsonBody()["refresh_token"];
    for (int i = 0; i < 3; ++i) {
        const HttpResponse retry = refreshOnce(t0);
        ASSERT_EQ(retry.status, 200) << "retry " << i << ": " << retry;
        EXPECT_EQ(retry.jsonBody()["refresh_token"], t1) << "retry " << i;
        EXPECT_EQ(retry.header("Cache-Control").value_or(""), "no-store");
        // A fresh, working access token of the same family.
        const std::string access = retry.jsonBody()["access_token"];
        EXPECT_EQ(client->getWithToken("/api/protected", access).status, 200);
        EXPECT_EQ(decodeJwt(access)->second["sid"],
                  decodeJwt(first.jsonBody()["access_token"])->second["sid"]);
    }
    // The retries did not revoke anything: the successor rotates normally.
    const std::string t2 = rotate(t1);
    EXPECT_NE(t2, t1);
    EXPECT_FALSE(t2.empty());
}

TEST_P(RefreshReuseTest, ReuseAfterTheSuccessorWasUsedRevokesTheWholeFamily) {
    const Tokens otherFamily = login(*client, email, kPassword);
    const std::string t1 = rotate(t0);
    const std::string t2 = rotate(t1);
    ASSERT_FALSE(t2.empty());
    // t0 again: inside the grace window, but its successor t1 was already used: theft.
    expectDead(t0, "reused t0");
    expectDead(t2, "descendant t2");
    expectDead(t1, "consumed t1");
    expectDead(t0, "t0 once more");
    // Other families of the same user are untouched, and the user can log in again.
    EXPECT_EQ(refreshOnce(otherFamily.refresh).status, 200);
    EXPECT_EQ(loginRaw(*client, email, kPassword).status, 200);
}

TEST_P(RefreshReuseTest, OnlyTheImmediatePredecessorMayRetry) {
    const std::string t1 = rotate(t0);
    const std::string t2 = rotate(t1);
    ASSERT_FALSE(t2.empty());
    // t1 is t2's immediate predecessor and t2 is unused: an idempotent retry.
    const HttpResponse retry = refreshOnce(t1);
    ASSERT_EQ(retry.status, 200) << retry;
    EXPECT_EQ(retry.jsonBody()["refresh_token"], t2);
    // t0 is two steps back: reuse, and the family dies, including the unused t2.
    expectDead(t0, "grand-predecessor t0");
    expectDead(t2, "descendant t2");
}

TEST_P(RefreshReuseTest, ReuseIsLoggedAsAWarningAndCounted) {
    const std::string t1 = rotate(t0);
    rotate(t1);
    expectDead(t0, "reused t0");
    const std::string log = server->waitForLog("reuse", 2s);
    bool warned = false;
    for (const auto& line : splitLines(log)) {
        warned = warned || (containsI(line, "reuse") && containsI(line, "warn"));
    }
    EXPECT_TRUE(warned) << "no warning line about reuse in the log:\n" << server->logTail();
    EXPECT_EQ(log.find(t0), std::string::npos) << "the reused token was logged";
    const std::string metrics = client->get("/metrics").body;
    EXPECT_GE(metricValue(metrics, {"reuse"}), 1) << metrics;
}

TEST_P(RefreshReuseTest, RefreshOutcomesAreInMetrics) {
    const std::string t1 = rotate(t0);                               // rotated
    ASSERT_EQ(refreshOnce(t0).status, 200);                          // retried
    expectRefreshRefused(refreshOnce("no-such-token"), GetParam());  // invalid
    rotate(t1);
    expectRefreshRefused(refreshOnce(t0), GetParam());  // reused
    const std::string metrics = client->get("/metrics").body;
    for (const char* outcome : {"rotated", "retried", "reused", "invalid"}) {
        EXPECT_GE(metricValue(metrics, {"refresh", outcome}), 1)
            << "no refresh metric with outcome " << outcome << ":\n"
            << metrics;
    }
    EXPECT_GE(metricValue(metrics, {"revoked"}), 1) << "no families-revoked metric:\n" << metrics;
}

class RefreshNoGraceTest : public RefreshReuseTest {
  protected:
    json overrides() const override { return {{"refresh", {{"reuse_grace", "0s"}}}}; }
};
INSTANTIATE_TEST_SUITE_P(Via, RefreshNoGraceTest, bothRefreshRoutes(), refreshRouteName);

TEST_P(RefreshNoGraceTest, ReuseAfterGraceRevokesTheFamily) {
    const std::string t1 = rotate(t0);
    ASSERT_FALSE(t1.empty());
    // Outside the (zero) grace window, a consumed token is theft even if t1 is unused.
    expectDead(t0, "reused t0");
    expectDead(t1, "unused successor t1");
}

class RefreshOneSecondGraceTest : public RefreshReuseTest {
  protected:
    json overrides() const override { return {{"refresh", {{"reuse_grace", "1s"}}}}; }
};
INSTANTIATE_TEST_SUITE_P(Via, RefreshOneSecondGraceTest, bothRefreshRoutes(), refreshRouteName);

TEST_P(RefreshOneSecondGraceTest, RetryDoesNotExtendTheGraceWindow) {
    const auto rotatedAt = Clock::now();
    const std::string t1 = rotate(t0);
    ASSERT_FALSE(t1.empty());
    std::this_thread::sleep_until(rotatedAt + 600ms);
    const HttpResponse retry = refreshOnce(t0);
    ASSERT_EQ(retry.status, 200) << retry;
    EXPECT_EQ(retry.jsonBody()["refresh_token"], t1);
    // 1.1 s after the rotation (0.5 s after the retry): the window, timed from the rotation, is
    // over.
    std::this_thread::sleep_until(rotatedAt + 1100ms);
    expectDead(t0, "t0 after the grace window");
    expectDead(t1, "successor t1");
}

}  // namespace
}  // namespace it
