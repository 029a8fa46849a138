// AuthController over a real AuthService (SQLite in a temp dir): request DTOs, the login
// throttle in front of the password check, token response headers.
#include "controllers/AuthController.h"

#include <gtest/gtest.h>

#include "controllers/UserController.h"
#include "models/Migrator.h"
#include "support/TestPeers.h"
#include "support/TestSupport.h"

namespace {

using namespace authsvc::models;
using authsvc::controllers::AuthContext;
using authsvc::controllers::AuthController;
using authsvc::controllers::HttpRequest;
using authsvc::controllers::HttpResponse;
using authsvc::controllers::UserController;
using authsvc::controllers::userJson;
using authsvc::models::LoginThrottle;
using authsvc::models::RegistrationLimit;
using authsvc::testing::kSecret;
using authsvc::verify::AccessClaims;
using authsvc::verify::ManualClock;
using nlohmann::json;

using authsvc::testing::kEmail;
using authsvc::testing::kPassword;

std::optional<std::string> headerOf(const HttpResponse& r, const std::string& name) {
    for (const auto& [n, v] : r.headers) {
        if (n == name) return v;
    }
    return std::nullopt;
}

class AuthControllerTest : public ::testing::Test {
  protected:
    AuthControllerTest() {
        DatabaseSettings ds;
        ds.sqlitePath = (dir.path() / "c.db").string();
        ds.poolSize = 2;
        db = std::make_unique<Database>(ds);
        Migrator(*db, clock).migrate();
        AuthSettings s;
        s.successorKey = kSecret;
        auth = std::make_unique<AuthService>(*db, users, tokens, hasher, tokenService.tokenService,
                                             clock, s, observer);
        controller = std::make_unique<AuthController>(
            *auth, throttle, registrations, [this](authsvc::controllers::Throttled which) {
                ++(which == authsvc::controllers::Throttled::Login ? throttled
                                                                   : registrationsThrottled);
            });
    }

    static HttpRequest post(const json& body, const std::string& ip = "10.0.0.1") {
        HttpRequest r;
        r.method = "POST";
        r.body = body.dump();
        r.jsonContentType = true;
        r.clientIp = ip;
        return r;
    }
    static json bodyOf(const HttpResponse& r) { return json::parse(r.body); }
    static std::string errorOf(const HttpResponse& r) {
        return bodyOf(r).value("error", std::string("(none)"));
    }
    HttpResponse login(const std::string& email, const std::string& password,
                       const std::string& ip = "10.0.0.1") {
        return controller->login(post({{"email", email}, {"password", password}}, ip));
    }
    void registerAlice() {
        HttpResponse r =
            controller->registerUser(post({{"email", kEmail}, {"password", kPassword}}));
        ASSERT_EQ(r.status, 201) << r.body;
    }

    authsvc::testing::TempDir dir;
    ManualClock clock{1'800'000'000'000};
    std::unique_ptr<Database> db;
    UserRepository users;
    RefreshTokenRepository tokens;
    PasswordHasher hasher{Argon2Params{1, 8}};
    authsvc::testing::TokenKit tokenService{clock};
    authsvc::testing::RecordingObserver observer;
    LoginThrottle throttle{20, 3, clock};
    RegistrationLimit registrations{3, clock};
    int throttled = 0;
    int registrationsThrottled = 0;
    std::unique_ptr<AuthService> auth;
    std::unique_ptr<AuthController> controller;
};

TEST_F(AuthControllerTest, RegisterAnswers201WithTheUser) {
    HttpResponse r =
        controller->registerUser(post({{"email", " Alice@Example.com"}, {"password", kPassword}}));
    ASSERT_EQ(r.status, 201) << r.body;
    json b = bodyOf(r);
    EXPECT_GT(b["id"].get<int64_t>(), 0);
    EXPECT_EQ(b["email"], kEmail);
    EXPECT_EQ(b["created_at"], "2027-01-15T08:00:00Z");
    EXPECT_FALSE(b.contains("password_hash"));
    EXPECT_EQ(b.size(), 3u);
}

TEST_F(AuthControllerTest, RegisterErrors) {
    registerAlice();
    HttpResponse taken =
        controller->registerUser(post({{"email", kEmail}, {"password", kPassword}}));
    EXPECT_EQ(taken.status, 409);
    EXPECT_EQ(errorOf(taken), "email_taken");

    HttpResponse missing = controller->registerUser(post({{"email", "b@x"}}));
    EXPECT_EQ(missing.status, 400);
    EXPECT_NE(bodyOf(missing)["message"].get<std::string>().find("password"), std::string::npos);

    HttpResponse wrongType =
        controller->registerUser(post({{"email", 5}, {"password", kPassword}}));
    EXPECT_EQ(wrongType.status, 400);
    EXPECT_NE(bodyOf(wrongType)["message"].get<std::string>().find("email"), std::string::npos);

    HttpRequest notJson = post({});
    notJson.body = "{nope";
    EXPECT_EQ(controller->registerUser(notJson).status, 400);
}

TEST_F(AuthControllerTest, LoginAnswersTheTokenResponseWithNoStore) {
    registerAlice();
    HttpResponse r = login(kEmail, kPassword);
    ASSERT_EQ(r.status, 200) << r.body;
    json b = bodyOf(r);
    EXPECT_EQ(b["token_type"], "Bearer");
    EXPECT_EQ(b["expires_in"], 900);
    EXPECT_EQ(b["refresh_expires_in"], 14 * 24 * 3600);
    EXPECT_TRUE(tokenService.verify(b["access_token"].get<std::string>()));
    EXPECT_TRUE(isWellFormedRefreshToken(b["refresh_token"].get<std::string>()));
    EXPECT_EQ(headerOf(r, "Cache-Control"), "no-store");
}

TEST_F(AuthControllerTest, LoginAcceptsUsernameAndPrefersEmail) {
    registerAlice();
    HttpResponse byUsername =
        controller->login(post({{"username", kEmail}, {"password", kPassword}}));
    EXPECT_EQ(byUsername.status, 200) << byUsername.body;
    HttpResponse both = controller->login(
        post({{"email", kEmail}, {"username", "nobody@x"}, {"password", kPassword}}));
    EXPECT_EQ(both.status, 200) << both.body;
    HttpResponse bothOtherWay = controller->login(
        post({{"email", "nobody@x"}, {"username", kEmail}, {"password", kPassword}}));
    EXPECT_EQ(bothOtherWay.status, 401);
}

TEST_F(AuthControllerTest, LoginFailureIs401InvalidCredentials) {
    registerAlice();
    HttpResponse wrong = login(kEmail, "wrong password");
    HttpResponse unknown = login("bob@example.com", kPassword);
    EXPECT_EQ(wrong.status, 401);
    EXPECT_EQ(unknown.status, 401);
    EXPECT_EQ(wrong.body, unknown.body);
    EXPECT_EQ(errorOf(wrong), "invalid_credentials");
}

TEST_F(AuthControllerTest, ThrottleRefusesAttemptNPlusOneBeforeCheckingThePassword) {
    registerAlice();
    for (int i = 0; i < 3; ++i) EXPECT_EQ(login(kEmail, "wrong password").status, 401) << i;
    const size_t loginsBefore = observer.logins.size();
    clock.advanceMs(15'000);
    HttpResponse r = login(kEmail, kPassword);  // even the right password
    EXPECT_EQ(r.status, 429);
    EXPECT_EQ(errorOf(r), "too_many_requests");
    EXPECT_EQ(headerOf(r, "Retry-After"), "45");
    EXPECT_EQ(throttled, 1);
    EXPECT_EQ(observer.logins.size(), loginsBefore) << "the password was checked";
    clock.advanceMs(45'000);
    EXPECT_EQ(login(kEmail, kPassword).status, 200);
}

TEST_F(AuthControllerTest, ThrottleKeysOnTheNormalisedEmail) {
    registerAlice();
    login("ALICE@example.com", "x1", "1.1.1.1");
    login(" alice@example.com", "x2", "2.2.2.2");
    login("Alice@Example.Com ", "x3", "3.3.3.3");
    EXPECT_EQ(login(kEmail, kPassword, "4.4.4.4").status, 429);
}

TEST_F(AuthControllerTest, UnknownEmailFailuresCountAndSuccessesDoNot) {
    registerAlice();
    for (int i = 0; i < 5; ++i) EXPECT_EQ(login(kEmail, kPassword).status, 200) << i;
    for (int i = 0; i < 3; ++i) login("ghost@example.com", "whatever");
    EXPECT_EQ(login("ghost@example.com", "whatever").status, 429);
    EXPECT_EQ(login(kEmail, kPassword).status, 200);
}

TEST_F(AuthControllerTest, BadRequestsDoNotCountAsFailures) {
    registerAlice();
    for (int i = 0; i < 5; ++i) {
        EXPECT_EQ(controller->login(post({{"email", kEmail}})).status, 400);
    }
    EXPECT_EQ(login(kEmail, kPassword).status, 200);
}

TEST_F(AuthControllerTest, EmailsOver254CharactersAre400BeforeTheyCount) {
    const std::string tooLong = std::string(255 - 2, 'a') + "@x";  // 255 characters
    for (int i = 0; i < 5; ++i) {
        HttpResponse r = login(tooLong, "wrong password");
        EXPECT_EQ(r.status, 400) << r.body;
        EXPECT_EQ(errorOf(r), "invalid_request");
        EXPECT_NE(bodyOf(r)["message"].get<std::string>().find("254"), std::string::npos);
    }
    // 255 code points of two bytes each; 254 is the longest one accepted (and then counted).
    std::string wide;
    for (int i = 0; i < 253; ++i) wide += "\xc3\xa9";
    EXPECT_EQ(login(wide + "@x", "p").status, 400);
    EXPECT_EQ(login(wide.substr(2) + "@x", "p").status, 401);
    EXPECT_EQ(throttled, 0);
    EXPECT_EQ(LoginThrottleTestPeer::trackedKeys(throttle), 2u)
        << "only the 254-character attempt is counted";
}

TEST_F(AuthControllerTest, RegistrationAttemptNPlusOneFromAnAddressIs429BeforeHashing) {
    for (int i = 0; i < 3; ++i) {
        HttpResponse r = controller->registerUser(
            post({{"email", "u" + std::to_string(i) + "@x"}, {"password", kPassword}}, "10.9.9.9"));
        EXPECT_EQ(r.status, 201) << r.body;
    }
    HttpResponse r =
        controller->registerUser(post({{"email", "late@x"}, {"password", kPassword}}, "10.9.9.9"));
    EXPECT_EQ(r.status, 429);
    EXPECT_EQ(errorOf(r), "too_many_requests");
    EXPECT_EQ(headerOf(r, "Retry-After"), "3600");
    EXPECT_EQ(registrationsThrottled, 1);
    EXPECT_EQ(login("late@x", kPassword, "10.1.1.1").status, 401) << "the account was stored";
    // Other addresses are not limited.
    EXPECT_EQ(
        controller->registerUser(post({{"email", "late@x"}, {"password", kPassword}}, "10.9.9.8"))
            .status,
        201);
}

TEST_F(AuthControllerTest, RefreshAcceptsTheTokenAlias) {
    registerAlice();
    std::string t = bodyOf(login(kEmail, kPassword))["refresh_token"];
    HttpResponse r = controller->refresh(post({{"token", t}}));
    ASSERT_EQ(r.status, 200) << r.body;
    std::string next = bodyOf(r)["refresh_token"];
    EXPECT_NE(next, t);
    EXPECT_EQ(headerOf(r, "Cache-Control"), "no-store");
    HttpResponse r2 = controller->refresh(post({{"refresh_token", next}}));
    EXPECT_EQ(r2.status, 200) << r2.body;
}

TEST_F(AuthControllerTest, RefreshErrors) {
    HttpResponse bad = controller->refresh(post({{"refresh_token", "nope"}}));
    EXPECT_EQ(bad.status, 401);
    EXPECT_EQ(errorOf(bad), "invalid_grant");
    EXPECT_EQ(headerOf(bad, "Cache-Control"), "no-store");
    HttpResponse missing = controller->refresh(post(json::object()));
    EXPECT_EQ(missing.status, 400);
    EXPECT_NE(bodyOf(missing)["message"].get<std::string>().find("refresh_token"),
              std::string::npos);
    HttpResponse wrongType = controller->refresh(post({{"refresh_token", 12}}));
    EXPECT_EQ(wrongType.status, 400);
}

TEST_F(AuthControllerTest, LogoutIs204ForAnyWellFormedRequest) {
    registerAlice();
    std::string t = bodyOf(login(kEmail, kPassword))["refresh_token"];
    HttpResponse r = controller->logout(post({{"refresh_token", t}}));
    EXPECT_EQ(r.status, 204);
    EXPECT_EQ(r.body, "");
    EXPECT_EQ(controller->logout(post({{"refresh_token", t}})).status, 204);
    EXPECT_EQ(controller->logout(post({{"refresh_token", "unknown"}})).status, 204);
    EXPECT_EQ(controller->refresh(post({{"refresh_token", t}})).status, 401);
}

TEST_F(AuthControllerTest, LogoutWithAMissingOrNonStringFieldIs400) {
    EXPECT_EQ(controller->logout(post(json::object())).status, 400);
    EXPECT_EQ(controller->logout(post({{"refresh_token", nullptr}})).status, 400);
    EXPECT_EQ(controller->logout(post({{"token", 1}})).status, 400);
}

TEST_F(AuthControllerTest, LogoutAllRevokesAndAnswers204) {
    registerAlice();
    json b = bodyOf(login(kEmail, kPassword));
    auto claims = tokenService.verify(b["access_token"].get<std::string>());
    ASSERT_TRUE(claims);
    HttpResponse r = controller->logoutAll(HttpRequest{}, AuthContext{*claims});
    EXPECT_EQ(r.status, 204);
    EXPECT_EQ(controller->refresh(post({{"refresh_token", b["refresh_token"]}})).status, 401);
}

TEST_F(AuthControllerTest, LogoutAllForAVanishedUserIsInvalidToken) {
    AccessClaims c;
    c.sub = "4242";
    HttpResponse r = controller->logoutAll(HttpRequest{}, AuthContext{c});
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(errorOf(r), "invalid_token");
    EXPECT_TRUE(headerOf(r, "WWW-Authenticate"));
}

TEST_F(AuthControllerTest, ProtectedBodyIsExactlyTheJsonDumpForAnySubject) {
    UserController uc(*auth);
    for (const std::string sub :
         {"42", "", "a\"quote", "back\\slash", "ctl\x01\n", "\xc3\xa9t\xc3\xa9"}) {
        authsvc::verify::AccessClaims claims;
        claims.sub = sub;
        const HttpResponse p = uc.protectedResource(HttpRequest{}, AuthContext{claims});
        EXPECT_EQ(p.body, (json{{"data", "This is a protected resource."}, {"sub", sub}}).dump());
    }
}

TEST_F(AuthControllerTest, TokenResponseIsExactlyTheJsonDumpAndNotCached) {
    authsvc::models::TokenPair pair;
    for (const std::string odd : {"a.b-c_d", "", "a\"quote", "ctl\x01\n", "\xc3\xa9"}) {
        pair.accessToken = odd + "x";
        pair.refreshToken = "r" + odd;
        pair.expiresIn = 900;
        pair.refreshExpiresIn = 1209599;
        const HttpResponse r = authsvc::controllers::tokenResponse(pair);
        EXPECT_EQ(r.body, (json{{"access_token", pair.accessToken},
                                {"token_type", "Bearer"},
                                {"expires_in", 900},
                                {"refresh_token", pair.refreshToken},
                                {"refresh_expires_in", 1209599},
                                {"token", pair.accessToken}})
                              .dump());
        // A renewed access token: no refresh token, no refresh_expires_in.
        authsvc::models::TokenPair renewed = pair;
        renewed.refreshToken.clear();
        EXPECT_EQ(authsvc::controllers::tokenResponse(renewed).body,
                  (json{{"access_token", pair.accessToken},
                        {"token_type", "Bearer"},
                        {"expires_in", 900},
                        {"token", pair.accessToken}})
                      .dump());
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(headerOf(r, "Cache-Control"), "no-store");
    }
}

TEST_F(AuthControllerTest, UserControllerAnswersFromClaimsAndFromTheDatabase) {
    registerAlice();
    json b = bodyOf(login(kEmail, kPassword));
    auto claims = tokenService.verify(b["access_token"].get<std::string>());
    ASSERT_TRUE(claims);
    UserController uc(*auth);
    HttpResponse p = uc.protectedResource(HttpRequest{}, AuthContext{*claims});
    EXPECT_EQ(bodyOf(p), (json{{"data", "This is a protected resource."}, {"sub", claims->sub}}));
    EXPECT_EQ(p.status, 200);
    EXPECT_EQ(p.contentType, "application/json");
    HttpResponse me = uc.me(HttpRequest{}, AuthContext{*claims});
    ASSERT_EQ(me.status, 200);
    EXPECT_EQ(bodyOf(me)["email"], kEmail);
    EXPECT_EQ(bodyOf(me)["created_at"], "2027-01-15T08:00:00Z");
}

TEST(UserJsonTest, CreatedAtIsRfc3339Utc) {
    User u{7, "a@b", "hash", 0};
    EXPECT_EQ(userJson(u),
              (json{{"id", 7}, {"email", "a@b"}, {"created_at", "1970-01-01T00:00:00Z"}}));
    u.createdAt = 1'700'000'000;
    EXPECT_EQ(userJson(u)["created_at"], "2023-11-14T22:13:20Z");
}

}  // namespace
