// Scale-out: two authsvc processes over one PostgreSQL database. Rotation stays "exactly one
// successor" across instances; reuse detection, logout and logout_all work across them; an
// access token from one instance is accepted by the other.
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "support/Harness.h"

namespace it {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

class ScaleOutTest : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!serverDbMode())
            GTEST_SKIP() << "PostgreSQL/MariaDB only: two instances need a shared server DB";
        const json common = {{"jwt", {{"secret", randomString(48)}}},
                             {"refresh", {{"secret", randomString(48)}, {"reuse_grace", "1s"}}}};
        a = std::make_unique<ServerProcess>(common);
        json second = common;
        second.merge_patch(a->sharedDatabaseOverrides());
        b = std::make_unique<ServerProcess>(second);
        ASSERT_TRUE(a->start()) << "instance A did not start:\n" << a->logTail();
        ASSERT_TRUE(b->start()) << "instance B did not start:\n" << b->logTail();
        ASSERT_NE(a->port(), b->port());
        ca = std::make_unique<HttpClient>(a->port());
        cb = std::make_unique<HttpClient>(b->port());
    }
    void TearDown() override {
        ca.reset();
        cb.reset();
        b.reset();  // B does not own the database: stop it before A drops it
        a.reset();
    }

    std::string newUserOnA() {
        const std::string email = uniqueEmail("scale");
        const HttpResponse r = registerUser(*ca, email, kPassword);
        EXPECT_EQ(r.status, 201) << r;
        return email;
    }
    void expectDeadOnBoth(const std::string& token, const std::string& what) {
        for (HttpClient* c : {ca.get(), cb.get()}) {
            const HttpResponse r = refresh(*c, token);
            EXPECT_EQ(r.status, 401) << what << ": " << r;
            EXPECT_EQ(r.errorCode(), "invalid_grant") << what << ": " << r;
        }
    }

    std::unique_ptr<ServerProcess> a, b;
    std::unique_ptr<HttpClient> ca, cb;
};

TEST_F(ScaleOutTest, ConcurrentRefreshesAcrossInstancesYieldOneSuccessorPerRound) {
    const std::string email = newUserOnA();
    std::string token = login(*ca, email, kPassword).refresh;
    ASSERT_FALSE(token.empty());
    std::set<std::string> seen{token};
    constexpr int kRounds = 30;
    for (int round = 0; round < kRounds; ++round) {
        // Half of them through POST /oauth/token on each instance: the routes share it too.
        const auto results = refreshEverywhere({a->port(), b->port()}, token, 10,
                                               {RefreshRoute::Json, RefreshRoute::OAuthToken});
        std::set<std::string> successors;
        for (size_t i = 0; i < results.size(); ++i) {
            const HttpResponse& r = results[i];
            // Inside the grace window the losers get the winner's successor, on either instance.
            ASSERT_EQ(r.status, 200)
                << "round " << round << ", instance " << (i % 2 ? "B" : "A") << ": " << r;
            successors.insert(r.jsonBody().value("refresh_token", ""));
        }
        ASSERT_EQ(successors.size(), 1u)
            << "round " << round << ": more than one rotation happened across instances";
        const std::string next = *successors.begin();
        ASSERT_FALSE(next.empty());
        ASSERT_TRUE(seen.insert(next).second) << "round " << round << ": successor seen before";
        token = next;
    }
    // The chain is intact at the end: the last successor rotates normally on B.
    EXPECT_EQ(refresh(*cb, token).status, 200);
}

TEST_F(ScaleOutTest, RetryOnTheOtherInstanceInsideGraceGetsTheSameSuccessor) {
    const std::string email = newUserOnA();
    const Tokens t = login(*ca, email, kPassword);
    const HttpResponse first = refresh(*ca, t.refresh);
    ASSERT_EQ(first.status, 200) << first;
    const HttpResponse retry = refresh(*cb, t.refresh);
    ASSERT_EQ(retry.status, 200) << retry;
    EXPECT_EQ(retry.jsonBody()["refresh_token"], first.jsonBody()["refresh_token"]);
}

TEST_F(ScaleOutTest, ReuseOnTheOtherInstanceRevokesTheFamilyEverywhere) {
    const std::string email = newUserOnA();
    const Tokens t = login(*ca, email, kPassword);
    const HttpResponse r1 = refresh(*ca, t.refresh);
    ASSERT_EQ(r1.status, 200) << r1;
    const auto rotatedAt = Clock::now();
    const std::string successor = r1.jsonBody()["refresh_token"];
    // Past reuse_grace (1 s), the consumed token presented to B is theft.
    const auto pastGrace = rotatedAt + 1300ms;
    while (Clock::now() < pastGrace) std::this_thread::sleep_for(20ms);
    const HttpResponse replay = refresh(*cb, t.refresh);
    expectError(replay, 401, "invalid_grant");
    expectDeadOnBoth(successor, "the successor after reuse on B");
    // Another login of the same user is a new family: unaffected.
    const Tokens other = login(*cb, email, kPassword);
    EXPECT_EQ(refresh(*ca, other.refresh).status, 200);
}

TEST_F(ScaleOutTest, LogoutOnOneInstanceRevokesOnTheOther) {
    const std::string email = newUserOnA();
    const Tokens t = login(*cb, email, kPassword);
    const Tokens keep = login(*cb, email, kPassword);
    const HttpResponse out = ca->postJson("/api/logout", {{"refresh_token", t.refresh}});
    EXPECT_EQ(out.status, 204) << out;
    expectDeadOnBoth(t.refresh, "family logged out on A");
    EXPECT_EQ(refresh(*cb, keep.refresh).status, 200) << "logout revoked another family";
}

TEST_F(ScaleOutTest, LogoutAllOnBRevokesFamiliesCreatedOnA) {
    const std::string email = newUserOnA();
    const Tokens f1 = login(*ca, email, kPassword);
    const Tokens f2 = login(*ca, email, kPassword);
    const HttpResponse r2 = refresh(*ca, f2.refresh);
    ASSERT_EQ(r2.status, 200) << r2;
    const std::string f2next = r2.jsonBody()["refresh_token"];
    const std::string otherEmail = newUserOnA();
    const Tokens other = login(*ca, otherEmail, kPassword);

    const HttpResponse r = cb->request("POST", "/api/logout_all", std::nullopt,
                                       {"Authorization: Bearer " + f1.access});
    EXPECT_EQ(r.status, 204) << r;
    expectDeadOnBoth(f1.refresh, "family 1");
    expectDeadOnBoth(f2next, "family 2");
    EXPECT_EQ(refresh(*ca, other.refresh).status, 200) << "another user's family was revoked";
}

TEST_F(ScaleOutTest, AccessTokenFromAWorksOnB) {
    const std::string email = newUserOnA();
    const Tokens t = login(*ca, email, kPassword);
    const HttpResponse p = cb->getWithToken("/api/protected", t.access);
    ASSERT_EQ(p.status, 200) << p;
    const HttpResponse me = cb->getWithToken("/api/me", t.access);
    ASSERT_EQ(me.status, 200) << me;
    EXPECT_EQ(me.jsonBody().value("email", ""), email) << me;
    EXPECT_EQ(p.jsonBody().value("sub", ""), std::to_string(me.jsonBody().value("id", -1LL)))
        << p << me;
    // And the other way round, with a token minted by B.
    const Tokens fromB = login(*cb, email, kPassword);
    EXPECT_EQ(ca->getWithToken("/api/me", fromB.access).status, 200);
}

}  // namespace
}  // namespace it
