// POST /api/logout (revokes one family) and POST /api/logout_all (revokes all of the user's).
#include "support/Harness.h"

namespace it {
namespace {

class LogoutTest : public ServiceTest {
  protected:
    HttpResponse logout(const std::string& token) {
        return client->postJson("/api/logout", {{"refresh_token", token}});
    }
    std::string rotate(const std::string& token) {
        const HttpResponse r = refresh(*client, token);
        EXPECT_EQ(r.status, 200) << r;
        return r.jsonBody().value("refresh_token", "");
    }
    void expectDead(const std::string& token, const std::string& label) {
        const HttpResponse r = refresh(*client, token);
        EXPECT_EQ(r.status, 401) << label << " still works: " << r;
        EXPECT_EQ(r.errorCode(), "invalid_grant") << label;
    }
};

TEST_F(LogoutTest, LogoutIs204AndRevokesTheToken) {
    const auto [email, id] = newUser();
    const Tokens t = login(*client, email, kPassword);
    const HttpResponse r = logout(t.refresh);
    EXPECT_EQ(r.status, 204) << r;
    EXPECT_TRUE(r.body.empty()) << r;
    EXPECT_TRUE(r.hasHeader("X-Request-Id"));
    expectDead(t.refresh, "logged-out token");
}

TEST_F(LogoutTest, LogoutWithAConsumedTokenRevokesTheWholeFamily) {
    const auto [email, id] = newUser();
    const Tokens t = login(*client, email, kPassword);
    const std::string t1 = rotate(t.refresh);
    const std::string t2 = rotate(t1);
    EXPECT_EQ(logout(t.refresh).status, 204);
    expectDead(t2, "latest token of the logged-out family");
    expectDead(t1, "middle token");
}

TEST_F(LogoutTest, LogoutIsIdempotentForAnyWellFormedRequest) {
    const auto [email, id] = newUser();
    const Tokens t = login(*client, email, kPassword);
    EXPECT_EQ(logout(t.refresh).status, 204);
    EXPECT_EQ(logout(t.refresh).status, 204);
    EXPECT_EQ(logout(base64UrlEncode(randomString(32))).status, 204);  // unknown
    EXPECT_EQ(logout("not even base64 !!!").status, 204);
    EXPECT_EQ(logout("").status, 204);
}

TEST_F(LogoutTest, MissingOrNonStringFieldIs400) {
    const auto [email, id] = newUser();
    const Tokens t = login(*client, email, kPassword);
    HttpResponse r = client->postJson("/api/logout", json::object());
    expectError(r, 400, "invalid_request");
    EXPECT_TRUE(containsI(r.message(), "refresh_token")) << r;
    r = client->postJson("/api/logout", {{"refresh_token", 42}});
    expectError(r, 400, "invalid_request");
    EXPECT_TRUE(containsI(r.message(), "refresh_token")) << r;
    expectError(client->postJson("/api/logout", {{"refresh_token", json::array({t.refresh})}}), 400,
                "invalid_request");
    expectError(client->request("POST", "/api/logout"), 400, "invalid_request");
    expectError(client->postRaw("/api/logout", "[1]", "application/json"), 400, "invalid_request");
    expectError(
        client->postRaw("/api/logout", json{{"refresh_token", t.refresh}}.dump(), "text/plain"),
        415, "unsupported_media_type");
    // None of those revoked anything.
    EXPECT_EQ(refresh(*client, t.refresh).status, 200);
}

TEST_F(LogoutTest, LogoutLeavesOtherFamiliesAlone) {
    const auto [email, id] = newUser();
    const Tokens a = login(*client, email, kPassword);
    const Tokens b = login(*client, email, kPassword);
    EXPECT_EQ(logout(a.refresh).status, 204);
    expectDead(a.refresh, "logged-out family");
    EXPECT_EQ(refresh(*client, b.refresh).status, 200);
}

TEST_F(LogoutTest, LogoutAllRevokesEveryFamilyOfTheUserOnly) {
    const auto [email, id] = newUser();
    const auto [otherEmail, otherId] = newUser();
    const Tokens a = login(*client, email, kPassword);
    const Tokens b = login(*client, email, kPassword);
    const std::string b1 = rotate(b.refresh);
    const Tokens other = login(*client, otherEmail, kPassword);

    // Bearer, no body, no Content-Type.
    const HttpResponse r = client->request("POST", "/api/logout_all", std::nullopt,
                                           {"Authorization: Bearer " + a.access});
    EXPECT_EQ(r.status, 204) << r;
    EXPECT_TRUE(r.body.empty()) << r;
    expectDead(a.refresh, "family a");
    expectDead(b1, "family b");
    EXPECT_EQ(refresh(*client, other.refresh).status, 200) << "another user's family was revoked";
    // The user can log in again afterwards, and the new family works.
    const Tokens again = login(*client, email, kPassword);
    EXPECT_EQ(refresh(*client, again.refresh).status, 200);
    // Idempotent.
    EXPECT_EQ(client
                  ->request("POST", "/api/logout_all", std::nullopt,
                            {"Authorization: Bearer " + a.access})
                  .status,
              204);
}

TEST_F(LogoutTest, LogoutAllNeedsABearerToken) {
    const auto [email, id] = newUser();
    const Tokens t = login(*client, email, kPassword);
    HttpResponse r = client->request("POST", "/api/logout_all");
    expectError(r, 401, "missing_token");
    EXPECT_EQ(r.header("WWW-Authenticate").value_or(""), kRealm);
    r = client->request("POST", "/api/logout_all", std::nullopt,
                        {"Authorization: Bearer " + t.refresh});
    expectError(r, 401, "invalid_token");
    r = client->request("POST", "/api/logout_all", std::nullopt, {"Authorization: Basic abc"});
    expectError(r, 400, "invalid_request");
    EXPECT_EQ(refresh(*client, t.refresh).status, 200) << "a rejected logout_all revoked tokens";
}

TEST_F(LogoutTest, CliUserRevokeRevokesEveryFamilyOfTheUser) {
    const auto [email, id] = newUser();
    const auto [otherEmail, otherId] = newUser();
    const Tokens a = login(*client, email, kPassword);
    const Tokens b = login(*client, email, kPassword);
    const Tokens other = login(*client, otherEmail, kPassword);
    const CommandResult r = runAuthsvc(
        {"user", "revoke", email, "--config", server->configPath().string()}, server->dir());
    ASSERT_EQ(r.exitCode, 0) << r.out << r.err;
    expectDead(a.refresh, "family a");
    expectDead(b.refresh, "family b");
    EXPECT_EQ(refresh(*client, other.refresh).status, 200) << "another user's family was revoked";
}

}  // namespace
}  // namespace it
