// The second factor end to end on the real binary (both backends), with TOTP codes from an
// implementation that is not ours: Debian's oathtool. Enrol, confirm, a login answered 403
// mfa_required (at POST /api/login and POST /oauth/token), POST /api/login/mfa, tokens with
// amr pwd+otp kept by refresh, a recovery code login (once), disabling; start-up refuses
// auth.mfa.enabled without a key; and the operator's `authsvc user mfa reset`. The server's clock
// cannot be set: codes are for the current step or its neighbours (oathtool -N @EPOCH), made right
// before each request, and a request is retried once when the step changed between code and answer.
#include "support/Harness.h"

namespace it {
namespace {

// 32 bytes as base64: a test key, never a production one.
const std::string kMfaKey = "dGVzdC1vbmx5LW1mYS1rZXktMzItYnl0ZXMtbG9uZyE=";

json mfaConfig() {
    return {{"auth", {{"mfa", {{"enabled", true}, {"encryption_key", kMfaKey}}}}}};
}

// oathtool's code for the step `offset` steps from now.
std::string oathCode(const std::string& secret, int offset = 0) {
    const long long t = nowSeconds() + offset * 30LL;
    const CommandResult r = runCommand(
        {"/usr/bin/oathtool", "--totp", "-b", "-N", "@" + std::to_string(t), secret}, ".");
    std::string code = r.out.substr(0, r.out.find('\n'));
    EXPECT_EQ(code.size(), 6u) << r.out << r.err;
    return code;
}

// `send(code)` with oathtool's code for `offset`; once more with a fresh code when the step
// changed meanwhile and the answer was invalid_code.
template <typename Send>
HttpResponse withCode(const std::string& secret, int offset, Send&& send) {
    const long long step = nowSeconds() / 30;
    HttpResponse r = send(oathCode(secret, offset));
    if (r.status == 401 && r.errorCode() == "invalid_code" && nowSeconds() / 30 != step) {
        r = send(oathCode(secret, offset));
    }
    return r;
}

json amrOf(const std::string& accessToken) {
    auto decoded = decodeJwt(accessToken);
    return decoded ? decoded->second.value("amr", json()) : json();
}

class MfaTest : public ::testing::Test {
  protected:
    void SetUp() override {
        server = std::make_unique<ServerProcess>(mfaConfig());
        ASSERT_TRUE(server->start()) << server->logTail();
        client = std::make_unique<HttpClient>(server->port());
        email = uniqueEmail("mfa");
        ASSERT_EQ(registerUser(*client, email, kPassword).status, 201);
    }
    HttpResponse bearerPost(const std::string& path, const json& body, const std::string& access,
                            const std::string& method = "POST") {
        return client->request(
            method, path, body.dump(),
            {"Authorization: Bearer " + access, "Content-Type: application/json"});
    }
    // Enrols and confirms with the previous step's code; returns the recovery codes.
    json turnOn(const std::string& access) {
        const HttpResponse enrol = bearerPost("/api/mfa/totp", {{"password", kPassword}}, access);
        EXPECT_EQ(enrol.status, 200) << enrol;
        secret = enrol.jsonBody().value("secret", "");
        EXPECT_EQ(secret.size(), 32u) << enrol;
        EXPECT_EQ(enrol.jsonBody().value("otpauth_uri", ""),
                  "otpauth://totp/authsvc:" + email + "?secret=" + secret +
                      "&issuer=authsvc&algorithm=SHA1&digits=6&period=30");
        const HttpResponse confirmed = withCode(secret, -1, [&](const std::string& code) {
            return bearerPost("/api/mfa/totp/confirm", {{"code", code}}, access);
        });
        EXPECT_EQ(confirmed.status, 200) << confirmed;
        return confirmed.jsonBody().value("recovery_codes", json::array());
    }
    std::string mfaToken() {
        const HttpResponse r = loginRaw(*client, email, kPassword);
        EXPECT_EQ(r.status, 403) << r;
        EXPECT_EQ(r.errorCode(), "mfa_required");
        EXPECT_EQ(r.jsonBody().value("expires_in", 0), 300);
        EXPECT_FALSE(r.jsonBody().contains("access_token")) << r;
        return r.jsonBody().value("mfa_token", "");
    }

    std::unique_ptr<ServerProcess> server;
    std::unique_ptr<HttpClient> client;
    std::string email;
    std::string secret;
};

TEST_F(MfaTest, EnrolConfirmThenLoginTakesTwoStepsWithAmrKeptByRefresh) {
    const Tokens first = login(*client, email, kPassword);
    EXPECT_EQ(amrOf(first.access), json::array({"pwd"}));
    expectError(bearerPost("/api/mfa/totp", {{"password", "a wrong password"}}, first.access), 401,
                "invalid_credentials");
    const json codes = turnOn(first.access);
    ASSERT_EQ(codes.size(), 10u) << codes;

    const std::string token = mfaToken();
    ASSERT_EQ(token.size(), 43u);
    expectError(client->postJson("/api/login/mfa", {{"mfa_token", token}, {"code", "12345"}}), 401,
                "invalid_code");
    const HttpResponse second = withCode(secret, 0, [&](const std::string& code) {
        return client->postJson("/api/login/mfa", {{"mfa_token", token}, {"code", code}});
    });
    ASSERT_EQ(second.status, 200) << second;
    const std::string access = second.jsonBody().value("access_token", "");
    EXPECT_EQ(amrOf(access), json::array({"pwd", "otp"}));
    const HttpResponse refreshed = refresh(*client, second.jsonBody().value("refresh_token", ""));
    ASSERT_EQ(refreshed.status, 200) << refreshed;
    EXPECT_EQ(amrOf(refreshed.jsonBody().value("access_token", "")), json::array({"pwd", "otp"}));
    // The used mfa_token, and the same code again.
    expectError(client->postJson("/api/login/mfa", {{"mfa_token", token}, {"code", "000000"}}), 401,
                "invalid_grant");

    // A recovery code works once.
    const std::string recovery = codes[0].get<std::string>();
    const HttpResponse byRecovery = client->postJson(
        "/api/login/mfa", {{"mfa_token", mfaToken()}, {"recovery_code", recovery}});
    ASSERT_EQ(byRecovery.status, 200) << byRecovery;
    expectError(client->postJson("/api/login/mfa",
                                 {{"mfa_token", mfaToken()}, {"recovery_code", recovery}}),
                401, "invalid_code");

    // Disable: the password and a code; then the password alone logs in again.
    const HttpResponse off = withCode(secret, 1, [&](const std::string& code) {
        return bearerPost("/api/mfa/totp", {{"password", kPassword}, {"code", code}}, access,
                          "DELETE");
    });
    ASSERT_EQ(off.status, 204) << off;
    EXPECT_EQ(amrOf(login(*client, email, kPassword).access), json::array({"pwd"}));
}

TEST_F(MfaTest, FiveWrongCodesVoidTheMfaTokenAndCountInTheLoginThrottle) {
    turnOn(login(*client, email, kPassword).access);
    const std::string token = mfaToken();
    for (int i = 0; i < 5; ++i) {
        expectError(client->postJson("/api/login/mfa", {{"mfa_token", token}, {"code", "abcdef"}}),
                    401, "invalid_code");
    }
    expectError(
        client->postJson("/api/login/mfa", {{"mfa_token", token}, {"code", oathCode(secret)}}), 401,
        "invalid_grant");
    // auth.login_rate_limit.per_account_per_minute is 5: the wrong codes used it up.
    expectError(loginRaw(*client, email, kPassword), 429, "too_many_requests");
}

TEST_F(MfaTest, TheOperatorResetRemovesTheSecondFactor) {
    turnOn(login(*client, email, kPassword).access);
    mfaToken();
    const CommandResult r = runAuthsvc(
        {"user", "mfa", "reset", email, "--config", server->configPath().string()}, server->dir());
    ASSERT_EQ(r.exitCode, 0) << r.out << r.err;
    EXPECT_NE(r.out.find("removed the second factor of " + email), std::string::npos) << r.out;
    EXPECT_EQ(loginRaw(*client, email, kPassword).status, 200);
}

TEST_F(MfaTest, ThePasswordGrantOfOAuthTokenAnswersMfaRequiredFinishedAtTheMfaLogin) {
    turnOn(login(*client, email, kPassword).access);
    const HttpResponse r = client->postRaw(
        "/oauth/token",
        formOf({{"grant_type", "password"}, {"username", email}, {"password", kPassword}}), kForm);
    // RFC 6749's envelope (error, error_description, message; no caching) plus the token of
    // the second step.
    expectOAuthError(r, 403, "mfa_required");
    const json j = r.jsonBody();
    EXPECT_EQ(j.value("expires_in", 0), 300) << r;
    EXPECT_FALSE(j.contains("access_token")) << r;
    const std::string token = j.value("mfa_token", "");
    ASSERT_EQ(token.size(), 43u) << r;
    // A wrong password is still invalid_grant, with no mfa_token.
    const HttpResponse wrong = client->postRaw(
        "/oauth/token",
        formOf({{"grant_type", "password"}, {"username", email}, {"password", "wrong"}}), kForm);
    expectOAuthError(wrong, 400, "invalid_grant");
    EXPECT_FALSE(wrong.jsonBody().contains("mfa_token")) << wrong;
    // The second step at POST /api/login/mfa gives the session's tokens.
    const HttpResponse second = withCode(secret, 0, [&](const std::string& code) {
        return client->postJson("/api/login/mfa", {{"mfa_token", token}, {"code", code}});
    });
    ASSERT_EQ(second.status, 200) << second;
    EXPECT_EQ(amrOf(second.jsonBody().value("access_token", "")), json::array({"pwd", "otp"}));
    // Its refresh token rotates at /oauth/token too, keeping the second factor.
    const HttpResponse refreshed =
        refreshVia(*client, RefreshRoute::OAuthToken, second.jsonBody().value("refresh_token", ""));
    ASSERT_EQ(refreshed.status, 200) << refreshed;
    EXPECT_EQ(amrOf(refreshed.jsonBody().value("access_token", "")), json::array({"pwd", "otp"}));
}

TEST(MfaStartTest, EnabledWithoutAKeyIsAStartUpError) {
    ServerProcess server(json{{"auth", {{"mfa", {{"enabled", true}}}}}});
    EXPECT_FALSE(server.start());
    EXPECT_NE(server.log().find("auth.mfa.encryption_key"), std::string::npos) << server.logTail();
}

}  // namespace
}  // namespace it
