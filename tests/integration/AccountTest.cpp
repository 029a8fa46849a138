// The account life cycle behind a Bearer token: POST /api/password (revokes every other
// session, throttled like a login) and DELETE /api/me (the user and every family gone, the
// email free again); the re-hash of a stored password on login (POST /api/login and
// /oauth/token) after the argon2id parameters changed.
#include "support/Harness.h"

namespace it {
namespace {

const std::string kNewPassword = "a brand new passphrase";

std::string bearer(const std::string& access) {
    return "Authorization: Bearer " + access;
}

class AccountTest : public ServiceTest {
  protected:
    HttpResponse changePassword(const std::string& access, const json& body) {
        return client->postJson("/api/password", body, {bearer(access)});
    }
    HttpResponse changePassword(const std::string& access, const std::string& current,
                                const std::string& next) {
        return changePassword(access, {{"current_password", current}, {"new_password", next}});
    }
    HttpResponse deleteMe(const std::string& access, const json& body) {
        return client->request("DELETE", "/api/me", body.dump(),
                               {bearer(access), "Content-Type: application/json"});
    }
    void expectDead(const std::string& refreshToken, const std::string& label) {
        const HttpResponse r = refresh(*client, refreshToken);
        EXPECT_EQ(r.status, 401) << label << " still works: " << r;
        EXPECT_EQ(r.errorCode(), "invalid_grant") << label;
    }
    // Refreshes and returns the new refresh token ("" after a failure, recorded by EXPECT).
    std::string expectAlive(const std::string& refreshToken, const std::string& label) {
        const HttpResponse r = refresh(*client, refreshToken);
        EXPECT_EQ(r.status, 200) << label << " was revoked: " << r;
        return r.jsonBody().value("refresh_token", "");
    }
};

TEST_F(AccountTest, PasswordChangeRevokesEveryOtherSessionButTheCallers) {
    const auto [email, id] = newUser();
    const Tokens mine = login(*client, email, kPassword);
    const Tokens phone = login(*client, email, kPassword);
    const Tokens laptop = login(*client, email, kPassword);

    const HttpResponse r = changePassword(mine.access, kPassword, kNewPassword);
    EXPECT_EQ(r.status, 204) << r;
    EXPECT_TRUE(r.body.empty()) << r;

    expectDead(phone.refresh, "another session");
    expectDead(laptop.refresh, "a third session");
    const std::string next = expectAlive(mine.refresh, "the caller's session");
    expectAlive(next, "the caller's session after a rotation");
    expectError(loginRaw(*client, email, kPassword), 401, "invalid_credentials");
    EXPECT_EQ(loginRaw(*client, email, kNewPassword).status, 200);
}

TEST_F(AccountTest, PasswordChangeWithATokenOfARevokedSessionRevokesEverySession) {
    const auto [email, id] = newUser();
    const Tokens old = login(*client, email, kPassword);
    const Tokens other = login(*client, email, kPassword);
    ASSERT_EQ(client->postJson("/api/logout", {{"refresh_token", old.refresh}}).status, 204);
    // The access token outlives its session; it may still change the password.
    EXPECT_EQ(changePassword(old.access, kPassword, kNewPassword).status, 204);
    expectDead(other.refresh, "the other session");
    expectDead(old.refresh, "the logged-out session");
}

TEST_F(AccountTest, WeakOrMalformedNewPasswordIs400AndChangesNothing) {
    const auto [email, id] = newUser();
    const Tokens mine = login(*client, email, kPassword);
    const Tokens other = login(*client, email, kPassword);

    HttpResponse r = changePassword(mine.access, kPassword, "short");
    expectError(r, 400, "invalid_request");
    EXPECT_TRUE(containsI(r.message(), "new_password")) << r;
    // Refused before the current password is checked: a wrong one is not even counted.
    expectError(changePassword(mine.access, "wrong", "short"), 400, "invalid_request");
    expectError(changePassword(mine.access, kPassword, std::string(1025, 'x')), 400,
                "invalid_request");

    r = changePassword(mine.access, {{"current_password", kPassword}});
    expectError(r, 400, "invalid_request");
    EXPECT_TRUE(containsI(r.message(), "new_password")) << r;
    r = changePassword(mine.access, {{"new_password", kNewPassword}});
    expectError(r, 400, "invalid_request");
    EXPECT_TRUE(containsI(r.message(), "current_password")) << r;
    expectError(changePassword(mine.access, {{"current_password", kPassword}, {"new_password", 7}}),
                400, "invalid_request");
    expectError(
        client->postRaw("/api/password", "{not json", "application/json", {bearer(mine.access)}),
        400, "invalid_request");
    expectError(client->postRaw("/api/password", "[]", "application/json", {bearer(mine.access)}),
                400, "invalid_request");
    expectError(client->request("POST", "/api/password", std::nullopt, {bearer(mine.access)}), 400,
                "invalid_request");
    expectError(client->postRaw(
                    "/api/password",
                    json{{"current_password", kPassword}, {"new_password", kNewPassword}}.dump(),
                    "text/plain", {bearer(mine.access)}),
                415, "unsupported_media_type");

    expectAlive(other.refresh, "another session");
    EXPECT_EQ(loginRaw(*client, email, kPassword).status, 200);
    expectError(loginRaw(*client, email, kNewPassword), 401, "invalid_credentials");
}

TEST_F(AccountTest, AccountRoutesNeedABearerToken) {
    const json body = {{"current_password", kPassword}, {"new_password", kNewPassword}};
    HttpResponse r = client->postJson("/api/password", body);
    expectError(r, 401, "missing_token");
    EXPECT_EQ(r.header("WWW-Authenticate").value_or(""), kRealm) << r;
    r = client->request("DELETE", "/api/me", json{{"password", kPassword}}.dump(),
                        {"Content-Type: application/json"});
    expectError(r, 401, "missing_token");
    expectError(client->postJson("/api/password", body, {"Authorization: Bearer not.a.jwt"}), 401,
                "invalid_token");
}

class AccountThrottleTest : public AccountTest {
  protected:
    json overrides() const override {
        return {
            {"auth",
             {{"login_rate_limit", {{"per_ip_per_minute", 100}, {"per_account_per_minute", 3}}}}}};
    }
};

TEST_F(AccountThrottleTest, WrongCurrentPasswordIs401AndCountsAsAFailedLogin) {
    const auto [email, id] = newUser();
    const Tokens mine = login(*client, email, kPassword);
    const Tokens other = login(*client, email, kPassword);
    for (int i = 0; i < 3; ++i) {
        const HttpResponse r =
            changePassword(mine.access, "wrong " + std::to_string(i), kNewPassword);
        expectError(r, 401, "invalid_credentials");
        EXPECT_FALSE(r.hasHeader("WWW-Authenticate")) << "a password, not the token, failed: " << r;
    }
    // Attempt 4 is refused before the password is checked, here and at login.
    HttpResponse r = changePassword(mine.access, kPassword, kNewPassword);
    expectError(r, 429, "too_many_requests");
    EXPECT_TRUE(r.hasHeader("Retry-After")) << r;
    expectError(loginRaw(*client, email, kPassword), 429, "too_many_requests");
    // Nothing changed meanwhile.
    expectAlive(other.refresh, "another session");
}

TEST_F(AccountThrottleTest, FailedLoginsThrottlePasswordChecksOfTheAccount) {
    const auto [email, id] = newUser();
    const Tokens mine = login(*client, email, kPassword);
    for (int i = 0; i < 3; ++i) {
        expectError(loginRaw(*client, email, "wrong " + std::to_string(i)), 401,
                    "invalid_credentials");
    }
    expectError(changePassword(mine.access, kPassword, kNewPassword), 429, "too_many_requests");
    expectError(deleteMe(mine.access, {{"password", kPassword}}), 429, "too_many_requests");
    EXPECT_EQ(client->getWithToken("/api/me", mine.access).status, 200);
}

TEST_F(AccountThrottleTest, DeleteWithAWrongPasswordIs401ThrottledAndKeepsTheAccount) {
    const auto [email, id] = newUser();
    const Tokens mine = login(*client, email, kPassword);
    for (int i = 0; i < 3; ++i) {
        expectError(deleteMe(mine.access, {{"password", "wrong " + std::to_string(i)}}), 401,
                    "invalid_credentials");
    }
    expectError(deleteMe(mine.access, {{"password", kPassword}}), 429, "too_many_requests");
    EXPECT_EQ(client->getWithToken("/api/me", mine.access).status, 200);
    expectAlive(mine.refresh, "the session of an account not deleted");
}

TEST_F(AccountTest, DeleteAccountEndsEverythingAndFreesTheEmail) {
    const auto [email, id] = newUser();
    const Tokens mine = login(*client, email, kPassword);
    const Tokens other = login(*client, email, kPassword);
    const std::string rotated = expectAlive(other.refresh, "before the delete");

    const HttpResponse r = deleteMe(mine.access, {{"password", kPassword}});
    EXPECT_EQ(r.status, 204) << r;
    EXPECT_TRUE(r.body.empty()) << r;

    expectError(loginRaw(*client, email, kPassword), 401, "invalid_credentials");
    expectDead(mine.refresh, "the caller's refresh token");
    expectDead(rotated, "another session's refresh token");
    for (const char* path : {"/api/me", "/api/sessions"}) {
        const HttpResponse me = client->getWithToken(path, mine.access);
        expectError(me, 401, "invalid_token");
        EXPECT_EQ(me.header("WWW-Authenticate")
                      .value_or("")
                      .rfind(kRealm + ", error=\"invalid_token\"", 0),
                  0u)
            << path << ": " << me;
    }
    expectError(deleteMe(mine.access, {{"password", kPassword}}), 401, "invalid_token");

    // The email registers again, as a new user: the old access token names nobody.
    const HttpResponse again = registerUser(*client, email, kPassword);
    ASSERT_EQ(again.status, 201) << again;
    EXPECT_NE(again.jsonBody().value("id", -1LL), id);
    expectError(client->getWithToken("/api/me", mine.access), 401, "invalid_token");
    const Tokens fresh = login(*client, email, kPassword);
    EXPECT_EQ(client->getWithToken("/api/me", fresh.access).jsonBody().value("email", ""), email);
}

TEST_F(AccountTest, DeleteWithAMalformedBodyIs400AndKeepsTheAccount) {
    const auto [email, id] = newUser();
    const Tokens mine = login(*client, email, kPassword);
    const std::string auth = bearer(mine.access);
    HttpResponse r = deleteMe(mine.access, json::object());
    expectError(r, 400, "invalid_request");
    EXPECT_TRUE(containsI(r.message(), "password")) << r;
    expectError(deleteMe(mine.access, {{"password", 12345678}}), 400, "invalid_request");
    expectError(client->request("DELETE", "/api/me", std::nullopt, {auth}), 400, "invalid_request");
    expectError(client->request("DELETE", "/api/me",
                                "{\"password\":", {auth, "Content-Type: application/json"}),
                400, "invalid_request");
    expectError(client->request("DELETE", "/api/me", json{{"password", kPassword}}.dump(),
                                {auth, "Content-Type: text/plain"}),
                415, "unsupported_media_type");
    EXPECT_EQ(client->getWithToken("/api/me", mine.access).status, 200);
    EXPECT_EQ(loginRaw(*client, email, kPassword).status, 200);
    // Another user's password does not delete this account.
    const auto [otherEmail, otherId] = newUser("another password");
    expectError(deleteMe(mine.access, {{"password", "another password"}}), 401,
                "invalid_credentials");
    EXPECT_EQ(client->getWithToken("/api/me", mine.access).status, 200);
}

// The stored hash as text ("" when the user is not found).
std::string storedHash(ServerProcess& server, const std::string& email) {
    const std::string sql = "SELECT password_hash FROM users WHERE email = '" + email + "'";
    const auto rows = pgMode()      ? pgExec(server.pgDsn(), sql)
                      : mysqlMode() ? mysqlExec(server.mysqlDsn(), sql)
                                    : SqliteAdmin(server.dbPath()).column(sql);
    return rows.empty() ? "" : rows.front();
}

TEST_F(AccountTest, LoginRehashesAPasswordStoredWithOtherArgon2Parameters) {
    const auto [email, id] = newUser();
    const std::string before = storedHash(*server, email);
    ASSERT_NE(before.find("m=64,t=1"), std::string::npos) << before;
    server->config()["auth"]["argon2id"]["iterations"] = 2;
    ASSERT_TRUE(restartServer()) << server->logTail();

    EXPECT_EQ(loginRaw(*client, email, kPassword).status, 200);
    const std::string after = storedHash(*server, email);
    EXPECT_NE(after.find("m=64,t=2"), std::string::npos) << after;
    // A wrong password re-hashes nothing; the new hash verifies.
    EXPECT_EQ(loginRaw(*client, email, "wrong password").status, 401);
    EXPECT_EQ(storedHash(*server, email), after);
    EXPECT_EQ(loginRaw(*client, email, kPassword).status, 200);
    EXPECT_EQ(storedHash(*server, email), after) << "re-hashed although up to date";
}

TEST_F(AccountTest, ThePasswordGrantOfOAuthTokenRehashesToo) {
    const auto [email, id] = newUser();
    server->config()["auth"]["argon2id"]["iterations"] = 2;
    ASSERT_TRUE(restartServer()) << server->logTail();
    const HttpResponse r = client->postRaw(
        "/oauth/token",
        formOf({{"grant_type", "password"}, {"username", email}, {"password", kPassword}}), kForm);
    EXPECT_EQ(r.status, 200) << r;
    EXPECT_NE(storedHash(*server, email).find("m=64,t=2"), std::string::npos);
}

}  // namespace
}  // namespace it
