// Rotation and invalid grants through both refresh routes (POST /api/refresh_token and
// POST /oauth/token's refresh_token grant: RefreshRoute); the JSON route's paths, field alias
// and body errors (RefreshJsonRouteTest).
#include "support/Harness.h"

namespace it {
namespace {

class RefreshFixture : public ServiceTest {
  protected:
    void SetUp() override {
        ServiceTest::SetUp();
        if (HasFatalFailure()) return;
        std::tie(email, userId) = newUser();
        first = login(*client, email, kPassword);
        ASSERT_FALSE(first.refresh.empty());
    }
    std::string email;
    long long userId = 0;
    Tokens first;
};

class RefreshRotationTest : public RefreshFixture,
                            public ::testing::WithParamInterface<RefreshRoute> {
  protected:
    HttpResponse rotateVia(const std::string& token) {
        return refreshVia(*client, GetParam(), token);
    }
};
INSTANTIATE_TEST_SUITE_P(Via, RefreshRotationTest, bothRefreshRoutes(), refreshRouteName);

class RefreshJsonRouteTest : public RefreshFixture {};

TEST_P(RefreshRotationTest, RotationReturnsANewPairAndConsumesTheOldToken) {
    const HttpResponse r = rotateVia(first.refresh);
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_EQ(r.header("Cache-Control").value_or(""), "no-store") << r;
    if (GetParam() == RefreshRoute::OAuthToken) expectNoStore(r);
    const json j = r.jsonBody();
    EXPECT_EQ(j["token_type"], "Bearer");
    EXPECT_EQ(j["expires_in"], 900);
    ASSERT_TRUE(j["refresh_token"].is_string());
    ASSERT_TRUE(j["access_token"].is_string());
    const std::string next = j["refresh_token"];
    EXPECT_NE(next, first.refresh);
    auto raw = base64UrlDecode(next);
    ASSERT_TRUE(raw.has_value()) << next;
    EXPECT_GE(raw->size(), 32u);
    // Counts down the family's lifetime; never extends it (sliding is off).
    ASSERT_TRUE(j["refresh_expires_in"].is_number_integer());
    EXPECT_LE(j["refresh_expires_in"].get<long long>(),
              first.body["refresh_expires_in"].get<long long>());
    EXPECT_GE(j["refresh_expires_in"].get<long long>(), 1209600 - 10);

    // The new access token: same user, same family (sid), new jti, valid signature.
    const std::string access = j["access_token"];
    EXPECT_TRUE(verifyHs256(access, server->secret()));
    const json oldClaims = decodeJwt(first.access)->second;
    const json newClaims = decodeJwt(access)->second;
    EXPECT_EQ(newClaims["sub"], std::to_string(userId));
    EXPECT_EQ(newClaims["sid"], oldClaims["sid"]);
    EXPECT_NE(newClaims["jti"], oldClaims["jti"]);
    const HttpResponse p = client->getWithToken("/api/protected", access);
    EXPECT_EQ(p.status, 200) << p;

    // The successor rotates again; the chain goes on.
    const HttpResponse r2 = rotateVia(next);
    ASSERT_EQ(r2.status, 200) << r2;
    EXPECT_NE(r2.jsonBody()["refresh_token"], next);
    EXPECT_NE(r2.jsonBody()["refresh_token"], first.refresh);
}

TEST_F(RefreshJsonRouteTest, AllPathsAndTheTokenAliasWork) {
    std::string current = first.refresh;
    for (const auto& [path, field] :
         std::vector<std::pair<std::string, std::string>>{{"/api/refresh_token", "refresh_token"},
                                                          {"/api/refresh-token", "refresh_token"},
                                                          {"/refresh-token", "refresh_token"},
                                                          {"/api/refresh_token", "token"},
                                                          {"/refresh-token", "token"}}) {
        const HttpResponse r = refresh(*client, current, path, field);
        ASSERT_EQ(r.status, 200) << path << " with " << field << ": " << r;
        EXPECT_EQ(r.header("Cache-Control").value_or(""), "no-store") << path;
        const std::string next = r.jsonBody()["refresh_token"];
        EXPECT_NE(next, current);
        current = next;
    }
}

TEST_P(RefreshRotationTest, UnknownOrMalformedTokenIsInvalidGrant) {
    const std::string unknown = base64UrlEncode(randomString(32));
    for (const std::string& bad :
         {unknown, std::string("x"), std::string("!!!not base64!!!"), std::string(5000, 'A'),
          first.refresh + "A", first.refresh.substr(0, first.refresh.size() - 1), first.access}) {
        expectRefreshRefused(rotateVia(bad), GetParam(), bad.substr(0, 60));
    }
    // An empty token: the JSON route's invalid grant; an omitted parameter in a form.
    if (GetParam() == RefreshRoute::Json) {
        expectRefreshRefused(rotateVia(""), GetParam(), "empty");
    } else {
        expectOAuthError(rotateVia(""), 400, "invalid_request");
    }
    // None of that harmed the real token.
    EXPECT_EQ(rotateVia(first.refresh).status, 200);
}

TEST_F(RefreshJsonRouteTest, MissingOrNonStringFieldIs400) {
    HttpResponse r = client->postJson("/api/refresh_token", json::object());
    expectError(r, 400, "invalid_request");
    EXPECT_TRUE(containsI(r.message(), "token")) << r;
    r = client->postJson("/api/refresh_token", {{"refresh_token", 123}});
    expectError(r, 400, "invalid_request");
    EXPECT_TRUE(containsI(r.message(), "token")) << r;
    r = client->postJson("/api/refresh_token", {{"refresh_token", nullptr}});
    expectError(r, 400, "invalid_request");
    expectError(client->postRaw("/api/refresh_token", "[]", "application/json"), 400,
                "invalid_request");
    expectError(client->postRaw("/api/refresh_token", json{{"refresh_token", first.refresh}}.dump(),
                                "text/plain"),
                415, "unsupported_media_type");
    // Failed requests consumed nothing.
    EXPECT_EQ(refresh(*client, first.refresh).status, 200);
}

TEST_P(RefreshRotationTest, FamiliesAreIndependent) {
    const Tokens second = login(*client, email, kPassword);
    const HttpResponse a = rotateVia(first.refresh);
    const HttpResponse b = rotateVia(second.refresh);
    ASSERT_EQ(a.status, 200) << a;
    ASSERT_EQ(b.status, 200) << b;
    EXPECT_NE(a.jsonBody()["refresh_token"], b.jsonBody()["refresh_token"]);
    EXPECT_NE(decodeJwt(a.jsonBody()["access_token"])->second["sid"],
              decodeJwt(b.jsonBody()["access_token"])->second["sid"]);
}

}  // namespace
}  // namespace it
