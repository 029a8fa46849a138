// The seed's microservice client, unchanged: login and refresh answers carry "token"
// (= access_token), and with refresh.accept_access_token the refresh routes renew a
// still-valid access token of a live session (no refresh token in the answer).
#include <thread>

#include "support/Harness.h"

namespace it {
namespace {

const std::vector<std::string> kRefreshPaths = {"/api/refresh_token", "/api/refresh-token",
                                                "/refresh-token"};

json payloadOf(const std::string& token) {
    auto jwt = decodeJwt(token);
    EXPECT_TRUE(jwt.has_value()) << token;
    return jwt ? jwt->second : json::object();
}

HttpResponse renew(HttpClient& c, const std::string& access,
                   const std::string& path = "/refresh-token") {
    return c.postJson(path, {{"token", access}});
}

class SeedClientTest : public ServiceTest {};

TEST_F(SeedClientTest, LoginAndRefreshAnswersCarryTokenEqualToAccessToken) {
    const auto [email, id] = newUser();
    const HttpResponse l = client->postJson("/login", {{"email", email}, {"password", kPassword}});
    ASSERT_EQ(l.status, 200) << l;
    EXPECT_EQ(l.jsonBody().value("token", "x"), l.jsonBody().value("access_token", "y"));
    const HttpResponse r = refresh(*client, l.jsonBody().value("refresh_token", ""));
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_EQ(r.jsonBody().value("token", "x"), r.jsonBody().value("access_token", "y"));
    EXPECT_TRUE(r.jsonBody().contains("refresh_token"));
}

TEST_F(SeedClientTest, AccessTokenIsNotARefreshTokenByDefault) {
    const auto [email, id] = newUser();
    const Tokens t = login(*client, email, kPassword);
    for (const auto& path : kRefreshPaths) {
        expectError(renew(*client, t.access, path), 401, "invalid_grant");
    }
}

class SeedClientOnTest : public ServiceTest {
  protected:
    json overrides() const override { return {{"refresh", {{"accept_access_token", true}}}}; }
};

TEST_F(SeedClientOnTest, AccessTokenRenewsWithinItsSessionOnEveryAlias) {
    const auto [email, id] = newUser();
    const Tokens t = login(*client, email, kPassword);
    const std::string sid = payloadOf(t.access).value("sid", "");
    ASSERT_FALSE(sid.empty());
    std::string current = t.access;
    for (const auto& path : kRefreshPaths) {
        const HttpResponse r = renew(*client, current, path);
        ASSERT_EQ(r.status, 200) << path << ": " << r;
        const json body = r.jsonBody();
        EXPECT_FALSE(body.contains("refresh_token")) << r;
        EXPECT_EQ(body.value("token", "x"), body.value("access_token", "y"));
        EXPECT_EQ(body.value("token_type", ""), "Bearer");
        EXPECT_EQ(r.header("Cache-Control").value_or(""), "no-store");
        const std::string next = body.value("access_token", "");
        EXPECT_NE(next, current);
        EXPECT_EQ(payloadOf(next).value("sid", ""), sid) << "same family";
        EXPECT_EQ(payloadOf(next).value("sub", ""), std::to_string(id));
        EXPECT_EQ(client->getWithToken("/api/me", next).status, 200);
        current = next;
    }
    // The refresh token of the session still rotates as before.
    EXPECT_EQ(refresh(*client, t.refresh).status, 200);
    const std::string metrics = client->get("/metrics").body;
    EXPECT_NE(metrics.find("authsvc_refreshes_total{outcome=\"renewed\"} 3"), std::string::npos)
        << metrics;
}

TEST_F(SeedClientOnTest, RenewalRereadsRoles) {
    const auto [email, id] = newUser();
    const Tokens t = login(*client, email, kPassword);
    const CommandResult add = runAuthsvc(
        {"user", "role", "add", email, "admin", "--config", server->configPath().string()},
        server->dir());
    ASSERT_EQ(add.exitCode, 0) << add.err;
    const HttpResponse r = renew(*client, t.access);
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_EQ(payloadOf(r.jsonBody().value("access_token", "")).value("roles", json()),
              json::array({"admin"}));
}

TEST_F(SeedClientOnTest, RevokedSessionOrForgedTokenIsRefused) {
    const auto [email, id] = newUser();
    const Tokens t = login(*client, email, kPassword);
    ASSERT_EQ(client->postJson("/api/logout", {{"refresh_token", t.refresh}}).status, 204);
    expectError(renew(*client, t.access), 401, "invalid_grant");

    const Tokens other = login(*client, email, kPassword);
    json claims = payloadOf(other.access);
    expectError(
        renew(*client, signHs256(defaultJwtHeader(), claims, "another secret of 32 bytes!!!!!")),
        401, "invalid_grant");
    claims["iss"] = "someone-else";
    expectError(renew(*client, signHs256(defaultJwtHeader(), claims, server->secret())), 401,
                "invalid_grant");
    // Another user's subject in this session's token: refused.
    claims = payloadOf(other.access);
    claims["sub"] = std::to_string(id + 1000);
    expectError(renew(*client, signHs256(defaultJwtHeader(), claims, server->secret())), 401,
                "invalid_grant");
    const std::string metrics = client->get("/metrics").body;
    EXPECT_NE(metrics.find("authsvc_refreshes_total{outcome=\"renewed\"} 0"), std::string::npos)
        << metrics;
}

class SeedClientShortTokenTest : public ServiceTest {
  protected:
    // The default 30 s leeway stays: a renewal must still refuse a token past its exp.
    json overrides() const override {
        return {{"refresh", {{"accept_access_token", true}}}, {"jwt", {{"access_ttl", "1s"}}}};
    }
};

TEST_F(SeedClientShortTokenTest, ExpiredAccessTokenIsNeverRenewed) {
    const auto [email, id] = newUser();
    alignToSecondBoundary();
    const Tokens t = login(*client, email, kPassword);
    const long long exp = payloadOf(t.access).value("exp", 0LL);
    EXPECT_EQ(renew(*client, t.access).status, 200) << "valid until exp";
    while (nowSeconds() <= exp) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const HttpResponse late = renew(*client, t.access);
    expectError(late, 401, "invalid_grant");
    EXPECT_TRUE(containsI(late.message(), "expired")) << late;
    // The session's refresh token still works.
    EXPECT_EQ(refresh(*client, t.refresh).status, 200);
}

}  // namespace
}  // namespace it
