// The client-side flow: the access token expires, the protected call gets 401, the client
// refreshes once and retries. Also checks that rotation does not extend the family's lifetime.
#include <thread>

#include "support/Harness.h"

namespace it {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class RefreshClientFlowTest : public ServiceTest {
  protected:
    json overrides() const override {
        return {{"jwt", {{"access_ttl", "1s"}, {"leeway", "0s"}}}, {"refresh", {{"ttl", "10s"}}}};
    }
};

TEST_F(RefreshClientFlowTest, ExpiredAccessTokenThenRefreshOnceAndRetry) {
    const auto [email, id] = newUser();
    alignToSecondBoundary();
    const Tokens t = login(*client, email, kPassword);
    ASSERT_FALSE(t.access.empty());
    EXPECT_EQ(t.body["expires_in"], 1);
    ASSERT_TRUE(t.body["refresh_expires_in"].is_number_integer()) << t.body;
    const long long atLogin = t.body["refresh_expires_in"];
    EXPECT_GE(atLogin, 9);  // the whole 10 s refresh.ttl, give or take rounding
    EXPECT_LE(atLogin, 10);
    const auto loggedInAt = Clock::now();
    ASSERT_EQ(client->getWithToken("/api/protected", t.access).status, 200);

    // Poll until the access token is rejected; with a 1 s TTL and no leeway this takes <= ~2 s.
    HttpResponse rejected;
    while (true) {
        rejected = client->getWithToken("/api/protected", t.access);
        if (rejected.status != 200 || Clock::now() - loggedInAt > 4s) break;
        std::this_thread::sleep_for(100ms);
    }
    ASSERT_EQ(rejected.status, 401) << "the access token never expired: " << rejected;
    EXPECT_EQ(rejected.errorCode(), "invalid_token");
    EXPECT_EQ(rejected.message(), "Access token has expired");
    EXPECT_EQ(rejected.header("WWW-Authenticate")
                  .value_or("")
                  .rfind("Bearer realm=\"authsvc\", error=\"invalid_token\"", 0),
              0u)
        << rejected;

    // Make sure at least 1.2 s of the family's lifetime are gone before refreshing.
    std::this_thread::sleep_until(loggedInAt + 1200ms);

    // The interceptor: refresh once, retry.
    const HttpResponse r = refresh(*client, t.refresh);
    ASSERT_EQ(r.status, 200) << r;
    const json j = r.jsonBody();
    // The family's absolute lifetime counts down (sliding is off): over 1 s has passed.
    ASSERT_TRUE(j["refresh_expires_in"].is_number_integer()) << r;
    EXPECT_LE(j["refresh_expires_in"].get<long long>(), atLogin - 1);
    EXPECT_GE(j["refresh_expires_in"].get<long long>(), 4);
    const HttpResponse retried = client->getWithToken("/api/protected", j["access_token"]);
    EXPECT_EQ(retried.status, 200) << retried;
    EXPECT_EQ(retried.jsonBody()["sub"], std::to_string(id));
}

class RefreshSlidingTest : public ServiceTest {
  protected:
    json overrides() const override { return {{"refresh", {{"ttl", "10s"}, {"sliding", true}}}}; }
};

TEST_F(RefreshSlidingTest, RotationRestartsTheLifetimeWhenSliding) {
    const auto [email, id] = newUser();
    const auto loggedInAt = Clock::now();
    const Tokens t = login(*client, email, kPassword);
    std::this_thread::sleep_until(loggedInAt + 2100ms);
    const HttpResponse r = refresh(*client, t.refresh);
    ASSERT_EQ(r.status, 200) << r;
    // Without sliding at most 8 s would be left (in ms or whole seconds); with it, 10 again.
    EXPECT_GE(r.jsonBody()["refresh_expires_in"].get<long long>(), 9) << r;
    EXPECT_LE(r.jsonBody()["refresh_expires_in"].get<long long>(), 10) << r;
}

class RefreshExpiryTest : public ServiceTest {
  protected:
    json overrides() const override { return {{"refresh", {{"ttl", "1s"}}}}; }
};

TEST_F(RefreshExpiryTest, FamilyExpiresAtItsAbsoluteLifetimeDespiteRotation) {
    const auto [email, id] = newUser();
    alignToSecondBoundary();
    const auto loggedInAt = Clock::now();
    const Tokens t = login(*client, email, kPassword);
    const Tokens untouched = login(*client, email, kPassword);
    const HttpResponse r = refresh(*client, t.refresh);  // rotation right away
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_LE(r.jsonBody()["refresh_expires_in"].get<long long>(), 1) << r;
    const std::string successor = r.jsonBody()["refresh_token"];
    std::this_thread::sleep_until(loggedInAt + 1100ms);
    // The successor belongs to a family that is now past refresh.ttl (sliding is off).
    HttpResponse expired = refresh(*client, successor);
    expectError(expired, 401, "invalid_grant");
    expired = refresh(*client, untouched.refresh);
    expectError(expired, 401, "invalid_grant");
}

}  // namespace
}  // namespace it
