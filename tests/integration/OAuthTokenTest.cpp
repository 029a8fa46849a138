// POST /oauth/token (RFC 6749 4.3, 5, 6): the password and refresh_token grants on form
// bodies, under the rules of POST /api/login and /api/refresh_token; the RFC's error answers
// ({"error", "error_description", "message"}, Cache-Control: no-store, Pragma: no-cache).
#include "support/Harness.h"

namespace it {
namespace {

class OAuthTokenTest : public ServiceTest {
  protected:
    HttpResponse token(const std::vector<std::pair<std::string, std::string>>& fields) {
        return client->postRaw("/oauth/token", formOf(fields), kForm);
    }
    HttpResponse passwordGrant(const std::string& email, const std::string& password) {
        return token({{"grant_type", "password"}, {"username", email}, {"password", password}});
    }
    HttpResponse refreshGrant(const std::string& refreshToken) {
        return token({{"grant_type", "refresh_token"}, {"refresh_token", refreshToken}});
    }
};

TEST_F(OAuthTokenTest, PasswordGrantAnswersTheRfc6749TokenResponse) {
    const auto [email, id] = newUser();
    const HttpResponse r = token({{"grant_type", "password"},
                                  {"username", email},
                                  {"password", kPassword},
                                  {"scope", "openid profile"},
                                  {"client_id", "mobile"}});
    ASSERT_EQ(r.status, 200) << r;
    expectNoStore(r);
    EXPECT_TRUE(containsI(r.header("Content-Type").value_or(""), "application/json")) << r;
    const json j = r.jsonBody();
    EXPECT_EQ(j["token_type"], "Bearer");
    EXPECT_EQ(j["expires_in"], 900);
    ASSERT_TRUE(j["refresh_token"].is_string()) << r;
    ASSERT_TRUE(j["access_token"].is_string()) << r;
    const std::string access = j["access_token"];
    EXPECT_TRUE(verifyHs256(access, server->secret()));
    EXPECT_EQ(decodeJwt(access)->second["sub"], std::to_string(id));
    EXPECT_EQ(client->getWithToken("/api/protected", access).status, 200);
}

TEST_F(OAuthTokenTest, ThePasswordGrantStartsASessionWithItsUserAgentAndAddress) {
    const auto [email, id] = newUser();
    const HttpResponse r = client->postRaw(
        "/oauth/token",
        formOf({{"grant_type", "password"}, {"username", email}, {"password", kPassword}}), kForm,
        {"User-Agent: mobile-app/3.1 (OAuth)"});
    ASSERT_EQ(r.status, 200) << r;
    const HttpResponse list =
        client->getWithToken("/api/sessions", r.jsonBody().value("access_token", ""));
    ASSERT_EQ(list.status, 200) << list;
    const json sessions = list.jsonBody()["sessions"];
    ASSERT_EQ(sessions.size(), 1u) << list;
    EXPECT_EQ(sessions[0].value("user_agent", ""), "mobile-app/3.1 (OAuth)") << list;
    EXPECT_EQ(sessions[0].value("ip", ""), "127.0.0.1") << list;
    EXPECT_EQ(sessions[0].value("current", false), true) << list;
}

TEST_F(OAuthTokenTest, PasswordWithSpacesPlusAndPercentIsDecoded) {
    const std::string password = "p+a s%s&w=rd \xC3\xA9!";
    const auto [email, id] = newUser(password);
    EXPECT_EQ(passwordGrant(email, password).status, 200);
    // '+' in a form is a space: the raw password with '+' unescaped is another password.
    const HttpResponse plus =
        client->postRaw("/oauth/token",
                        "grant_type=password&username=" + formOf({{"u", email}}).substr(2) +
                            "&password=correct+horse+battery",
                        kForm);
    expectOAuthError(plus, 400, "invalid_grant");
    const auto other = newUser();
    const HttpResponse spaces =
        client->postRaw("/oauth/token",
                        "grant_type=password&username=" + formOf({{"u", other.first}}).substr(2) +
                            "&password=correct+horse+battery",
                        kForm);
    EXPECT_EQ(spaces.status, 200) << spaces;
}

// Rotation, retry grace, reuse detection and invalid tokens through this route:
// RefreshRotationTest and RefreshReuseTest, run through both routes (RefreshRoute).
TEST_F(OAuthTokenTest, TheTwoRefreshRoutesShareTheFamilies) {
    const auto [email, id] = newUser();
    const HttpResponse first = passwordGrant(email, kPassword);
    ASSERT_EQ(first.status, 200) << first;
    const std::string t0 = first.jsonBody()["refresh_token"];
    const HttpResponse r1 = refreshGrant(t0);
    ASSERT_EQ(r1.status, 200) << r1;
    EXPECT_EQ(decodeJwt(r1.jsonBody()["access_token"])->second["sid"],
              decodeJwt(first.jsonBody()["access_token"])->second["sid"]);
    // The form route's successor rotates on the JSON route, and the other way round.
    const HttpResponse viaJson = refresh(*client, r1.jsonBody()["refresh_token"]);
    ASSERT_EQ(viaJson.status, 200) << viaJson;
    const HttpResponse viaForm = refreshGrant(viaJson.jsonBody()["refresh_token"]);
    ASSERT_EQ(viaForm.status, 200) << viaForm;
    const std::string t3 = viaForm.jsonBody()["refresh_token"];
    // Reuse of t0 on the JSON route revokes the family for the form route too.
    expectError(refresh(*client, t0), 401, "invalid_grant");
    expectOAuthError(refreshGrant(t3), 400, "invalid_grant");
}

TEST_F(OAuthTokenTest, BadCredentialsAndRevokedFamiliesAreInvalidGrant) {
    const auto [email, id] = newUser();
    expectOAuthError(passwordGrant(email, "a wrong password"), 400, "invalid_grant");
    expectOAuthError(passwordGrant(uniqueEmail("nobody"), kPassword), 400, "invalid_grant");
    // A logged-out family.
    const Tokens t = login(*client, email, kPassword);
    ASSERT_EQ(client->postJson("/api/logout", {{"refresh_token", t.refresh}}).status, 204);
    expectOAuthError(refreshGrant(t.refresh), 400, "invalid_grant");
}

class OAuthTokenAcceptAccessTokenTest : public OAuthTokenTest {
  protected:
    json overrides() const override { return {{"refresh", {{"accept_access_token", true}}}}; }
};

TEST_F(OAuthTokenAcceptAccessTokenTest, AnAccessTokenIsNoRefreshTokenHere) {
    const auto [email, id] = newUser();
    const Tokens t = login(*client, email, kPassword);
    EXPECT_EQ(refresh(*client, t.access).status, 200) << "the JSON route renews it";
    expectOAuthError(refreshGrant(t.access), 400, "invalid_grant");
    const std::string metrics = client->get("/metrics").body;
    EXPECT_NE(metrics.find("authsvc_refreshes_total{outcome=\"invalid\"} 1"), std::string::npos)
        << metrics;
}

TEST_F(OAuthTokenTest, MalformedRequestsAreInvalidRequest) {
    const auto [email, id] = newUser();
    // JSON is not a form (RFC 6749 3.2): 400, not 415.
    expectOAuthError(client->postJson("/oauth/token", {{"grant_type", "password"},
                                                       {"username", email},
                                                       {"password", kPassword}}),
                     400, "invalid_request");
    expectOAuthError(client->postRaw("/oauth/token", "grant_type=password", "text/plain"), 400,
                     "invalid_request");
    expectOAuthError(client->request("POST", "/oauth/token", std::nullopt), 400, "invalid_request");
    expectOAuthError(token({}), 400, "invalid_request");
    expectOAuthError(token({{"username", email}, {"password", kPassword}}), 400, "invalid_request");
    expectOAuthError(token({{"grant_type", "password"}, {"password", kPassword}}), 400,
                     "invalid_request");
    expectOAuthError(token({{"grant_type", "password"}, {"username", email}}), 400,
                     "invalid_request");
    expectOAuthError(token({{"grant_type", "password"}, {"username", email}, {"password", ""}}),
                     400, "invalid_request");
    expectOAuthError(token({{"grant_type", "refresh_token"}}), 400, "invalid_request");
    // A repeated parameter (RFC 6749 3.1).
    const HttpResponse twice = token({{"grant_type", "password"},
                                      {"username", email},
                                      {"password", kPassword},
                                      {"password", kPassword}});
    expectOAuthError(twice, 400, "invalid_request");
    EXPECT_NE(twice.jsonBody()["error_description"].get<std::string>().find("password"),
              std::string::npos)
        << twice;
    expectOAuthError(client->postRaw("/oauth/token", "grant_type=password&username=%zz", kForm),
                     400, "invalid_request");
    // The same parameters once each still log in.
    EXPECT_EQ(passwordGrant(email, kPassword).status, 200);
}

TEST_F(OAuthTokenTest, AnOversizeBodyIs413InTheRfcEnvelope) {
    // The body rules answer before the route's handler, in the route's envelope.
    const std::string body = "grant_type=password&username=a&password=" + std::string(20000, 'x');
    for (const char* path : {"/oauth/token", "/oauth/revoke", "/oauth/introspect"}) {
        expectOAuthError(client->postRaw(path, body, kForm), 413, "payload_too_large");
    }
}

TEST_F(OAuthTokenTest, UnknownGrantTypeIsUnsupportedGrantType) {
    for (const char* grant : {"client_credentials", "authorization_code", "PASSWORD", "x"}) {
        expectOAuthError(token({{"grant_type", grant}}), 400, "unsupported_grant_type");
    }
}

TEST_F(OAuthTokenTest, OnlyPostIsServed) {
    const HttpResponse r = client->get("/oauth/token");
    EXPECT_EQ(r.status, 405) << r;
    EXPECT_EQ(r.header("Allow").value_or(""), "POST") << r;
}

class OAuthTokenThrottleTest : public OAuthTokenTest {
  protected:
    json overrides() const override {
        return {
            {"auth",
             {{"login_rate_limit", {{"per_ip_per_minute", 50}, {"per_account_per_minute", 3}}}}}};
    }
};

TEST_F(OAuthTokenThrottleTest, FailedPasswordGrantsCountTowardsTheLoginThrottle) {
    const auto [email, id] = newUser();
    for (int i = 0; i < 3; ++i) {
        expectOAuthError(passwordGrant(email, "wrong password " + std::to_string(i)), 400,
                         "invalid_grant");
    }
    const HttpResponse throttled = passwordGrant(email, kPassword);
    expectOAuthError(throttled, 429, "too_many_requests");
    ASSERT_TRUE(throttled.header("Retry-After").has_value()) << throttled;
    EXPECT_GE(std::stoi(*throttled.header("Retry-After")), 1);
    // The JSON route shares the throttle.
    expectError(loginRaw(*client, email, kPassword), 429, "too_many_requests");
}

class OAuthTokenEmailRequiredTest : public OAuthTokenTest {
  protected:
    void SetUp() override {
        ASSERT_TRUE(sink.start());
        OAuthTokenTest::SetUp();
    }
    json overrides() const override {
        return {{"server", {{"public_url", "https://auth.example.com"}}},
                {"auth", {{"email_verification", "required"}}},
                {"mail",
                 {{"transport", "smtp"},
                  {"smtp_url", sink.url()},
                  {"starttls", "off"},
                  {"from", "no-reply@example.com"}}}};
    }
    SmtpSink sink;
};

TEST_F(OAuthTokenEmailRequiredTest, AnUnverifiedUserGetsEmailNotVerified) {
    const auto [email, id] = newUser();
    expectOAuthError(passwordGrant(email, kPassword), 403, "email_not_verified");
    expectOAuthError(passwordGrant(email, "a wrong password"), 400, "invalid_grant");
}

const std::string kGatewaySecret = "gateway-secret-0123456789abcdef0123456789";
const std::string kBackendSecret = "backend-secret-0123456789abcdef0123456789";

std::string basic(const std::string& id, const std::string& secret) {
    // RFC 7617: base64 of "id:secret" (standard alphabet, padded).
    static const char* alphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const std::string in = id + ":" + secret;
    std::string out;
    for (size_t i = 0; i < in.size(); i += 3) {
        uint32_t n = uint32_t(uint8_t(in[i])) << 16;
        if (i + 1 < in.size()) n |= uint32_t(uint8_t(in[i + 1])) << 8;
        if (i + 2 < in.size()) n |= uint32_t(uint8_t(in[i + 2]));
        out += alphabet[(n >> 18) & 63];
        out += alphabet[(n >> 12) & 63];
        out += i + 1 < in.size() ? alphabet[(n >> 6) & 63] : '=';
        out += i + 2 < in.size() ? alphabet[n & 63] : '=';
    }
    return "Authorization: Basic " + out;
}

std::string sha256HexOf(const std::string& text) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : authsvc::verify::sha256(text)) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

class OAuthClientsTest : public OAuthTokenTest {
  protected:
    json overrides() const override {
        return {{"oauth",
                 {{"clients", json::array({{{"id", "mobile"}},
                                           {{"id", "gateway"},
                                            {"secret_sha256", sha256HexOf(kGatewaySecret)},
                                            {"introspect", true}},
                                           {{"id", "backend"},
                                            {"secret_sha256", sha256HexOf(kBackendSecret)}}})}}}};
    }
    HttpResponse grant(const std::string& email, const std::string& extra,
                       const Headers& headers = {}) {
        return client->postRaw("/oauth/token",
                               "grant_type=password&username=" + formOf({{"u", email}}).substr(2) +
                                   "&password=" + formOf({{"p", kPassword}}).substr(2) + extra,
                               kForm, headers);
    }
    void expectInvalidClient(const HttpResponse& r) {
        expectOAuthError(r, 401, "invalid_client");
        EXPECT_EQ(r.header("WWW-Authenticate").value_or("").rfind("Basic", 0), 0u) << r;
        EXPECT_FALSE(r.jsonBody().contains("access_token")) << r;
    }
};

TEST_F(OAuthClientsTest, AListedPublicClientIsAdmittedByIdInTheBodyOrByBasicWithoutSecret) {
    const auto [email, id] = newUser();
    EXPECT_EQ(grant(email, "&client_id=mobile").status, 200);
    EXPECT_EQ(grant(email, "", {basic("mobile", "")}).status, 200);
    EXPECT_EQ(grant(email, "&client_id=mobile", {basic("mobile", "")}).status, 200);
}

TEST_F(OAuthClientsTest, AConfidentialClientAuthenticatesWithClientSecretBasic) {
    const auto [email, id] = newUser();
    EXPECT_EQ(grant(email, "", {basic("gateway", kGatewaySecret)}).status, 200);
    const auto [email2, id2] = newUser();
    const HttpResponse refreshed = client->postRaw(
        "/oauth/token",
        "grant_type=refresh_token&refresh_token=" + login(*client, email2, kPassword).refresh,
        kForm, {basic("gateway", kGatewaySecret)});
    EXPECT_EQ(refreshed.status, 200) << refreshed;
}

TEST_F(OAuthClientsTest, RefusedClientsAre401InvalidClientAndGetNoTokens) {
    const auto [email, id] = newUser();
    expectInvalidClient(grant(email, ""));                    // no client named
    expectInvalidClient(grant(email, "&client_id=desktop"));  // not listed
    expectInvalidClient(grant(email, "", {basic("desktop", "")}));
    expectInvalidClient(grant(email, "&client_id=gateway"));  // confidential, no secret
    expectInvalidClient(grant(email, "", {basic("gateway", "wrong")}));
    expectInvalidClient(grant(email, "", {basic("gateway", kGatewaySecret + "x")}));
    expectInvalidClient(grant(email, "", {basic("mobile", "a secret")}));
    expectInvalidClient(grant(email, "&client_id=mobile", {basic("gateway", kGatewaySecret)}));
    expectInvalidClient(grant(email, "", {"Authorization: Basic !!notbase64"}));
    expectInvalidClient(grant(email, "", {"Authorization: Basic bW9iaWxl"}));  // "mobile", no ':'
    // The refusals changed nothing: the listed client still logs in.
    EXPECT_EQ(grant(email, "&client_id=mobile").status, 200);
}

TEST_F(OAuthTokenTest, RevokingARefreshTokenEndsItsFamily) {
    const auto [email, id] = newUser();
    const Tokens t = login(*client, email, kPassword);
    const Tokens other = login(*client, email, kPassword);
    const HttpResponse revoked = client->postRaw(
        "/oauth/revoke", formOf({{"token", t.refresh}, {"token_type_hint", "refresh_token"}}),
        kForm);
    ASSERT_EQ(revoked.status, 200) << revoked;
    EXPECT_EQ(revoked.jsonBody(), json::object()) << revoked;
    expectNoStore(revoked);
    expectError(refresh(*client, t.refresh), 401, "invalid_grant");
    EXPECT_EQ(refresh(*client, other.refresh).status, 200);  // another session: untouched
    // Again, and an unknown token: 200 (RFC 7009 2.2).
    EXPECT_EQ(client->postRaw("/oauth/revoke", formOf({{"token", t.refresh}}), kForm).status, 200);
    EXPECT_EQ(client->postRaw("/oauth/revoke", formOf({{"token", "no-such-token"}}), kForm).status,
              200);
}

TEST_F(OAuthTokenTest, RevokingAnAccessTokenEndsItsSession) {
    const auto [email, id] = newUser();
    const Tokens t = login(*client, email, kPassword);
    const HttpResponse revoked = client->postRaw(
        "/oauth/revoke", formOf({{"token", t.access}, {"token_type_hint", "access_token"}}), kForm);
    ASSERT_EQ(revoked.status, 200) << revoked;
    expectError(refresh(*client, t.refresh), 401, "invalid_grant");
}

TEST_F(OAuthTokenTest, MalformedRevocationsAreInvalidRequest) {
    expectOAuthError(client->postRaw("/oauth/revoke", "", kForm), 400, "invalid_request");
    expectOAuthError(client->postJson("/oauth/revoke", {{"token", "x"}}), 400, "invalid_request");
    expectOAuthError(client->postRaw("/oauth/revoke", "token=a&token=b", kForm), 400,
                     "invalid_request");
}

TEST_F(OAuthClientsTest, IntrospectionAnswersForALiveSessionAndFalseOnceRevoked) {
    const auto [email, id] = newUser();
    const Tokens t = login(*client, email, kPassword);
    const Headers gateway = {basic("gateway", kGatewaySecret)};
    const HttpResponse live =
        client->postRaw("/oauth/introspect", formOf({{"token", t.access}}), kForm, gateway);
    ASSERT_EQ(live.status, 200) << live;
    const json j = live.jsonBody();
    const json claims = decodeJwt(t.access)->second;
    EXPECT_EQ(j["active"], true) << live;
    EXPECT_EQ(j["sub"], std::to_string(id));
    EXPECT_EQ(j["sid"], claims["sid"]);
    EXPECT_EQ(j["exp"], claims["exp"]);
    EXPECT_EQ(j["iat"], claims["iat"]);
    EXPECT_EQ(j["iss"], "authsvc");
    EXPECT_EQ(j["aud"], "authsvc-clients");
    EXPECT_EQ(j["roles"], json::array());
    EXPECT_EQ(j["token_type"], "Bearer");

    // Revoke (by the public client), then introspect: inactive at once, though the JWT
    // itself is still unexpired.
    ASSERT_EQ(client
                  ->postRaw("/oauth/revoke",
                            formOf({{"token", t.refresh}, {"client_id", "mobile"}}), kForm)
                  .status,
              200);
    const HttpResponse dead =
        client->postRaw("/oauth/introspect", formOf({{"token", t.access}}), kForm, gateway);
    ASSERT_EQ(dead.status, 200) << dead;
    EXPECT_EQ(dead.jsonBody(), json({{"active", false}})) << dead;
    EXPECT_EQ(client->getWithToken("/api/protected", t.access).status, 200)
        << "local verification learns it only at exp";

    // Anything not a valid access token: inactive.
    const Tokens other = login(*client, email, kPassword);
    for (const std::string& presented : {other.refresh, std::string("garbage"), t.access + "x"}) {
        const HttpResponse r =
            client->postRaw("/oauth/introspect", formOf({{"token", presented}}), kForm, gateway);
        ASSERT_EQ(r.status, 200) << r;
        EXPECT_EQ(r.jsonBody(), json({{"active", false}})) << r;
    }
}

TEST_F(OAuthClientsTest, OnlyAnIntrospectingConfidentialClientMayIntrospect) {
    const auto [email, id] = newUser();
    const Tokens t = login(*client, email, kPassword);
    const std::string body = formOf({{"token", t.access}});
    expectInvalidClient(client->postRaw("/oauth/introspect", body, kForm));
    expectInvalidClient(client->postRaw("/oauth/introspect", body + "&client_id=gateway", kForm));
    expectInvalidClient(client->postRaw("/oauth/introspect", body + "&client_id=mobile", kForm));
    expectInvalidClient(client->postRaw("/oauth/introspect", body, kForm, {basic("mobile", "")}));
    expectInvalidClient(
        client->postRaw("/oauth/introspect", body, kForm, {basic("gateway", "wrong")}));
    expectInvalidClient(
        client->postRaw("/oauth/introspect", body, kForm, {basic("nobody", kGatewaySecret)}));
    // A confidential client that authenticates but may not introspect.
    EXPECT_EQ(grant(email, "", {basic("backend", kBackendSecret)}).status, 200);
    expectInvalidClient(
        client->postRaw("/oauth/introspect", body, kForm, {basic("backend", kBackendSecret)}));
}

TEST_F(OAuthTokenTest, WithoutListedClientsNobodyMayIntrospect) {
    const auto [email, id] = newUser();
    const HttpResponse r = client->postRaw(
        "/oauth/introspect", formOf({{"token", login(*client, email, kPassword).access}}), kForm,
        {basic("gateway", kGatewaySecret)});
    expectOAuthError(r, 401, "invalid_client");
    EXPECT_EQ(r.header("WWW-Authenticate").value_or(""), "Basic realm=\"authsvc\"") << r;
}

TEST_F(OAuthClientsTest, MalformedIntrospectionsAreInvalidRequest) {
    const Headers gateway = {basic("gateway", kGatewaySecret)};
    const auto [email, id] = newUser();
    const Tokens t = login(*client, email, kPassword);
    expectOAuthError(client->postJson("/oauth/introspect", {{"token", t.access}}, gateway), 400,
                     "invalid_request");
    expectOAuthError(client->postRaw("/oauth/introspect", "", kForm, gateway), 400,
                     "invalid_request");
    expectOAuthError(
        client->postRaw("/oauth/introspect", formOf({{"token", t.access}, {"token", t.access}}),
                        kForm, gateway),
        400, "invalid_request");
}

TEST_F(OAuthClientsTest, RevokingAnAccessTokenOrDeletingTheUserIsInactiveAtOnce) {
    const Headers gateway = {basic("gateway", kGatewaySecret)};
    auto introspect = [&](const std::string& token) {
        const HttpResponse r =
            client->postRaw("/oauth/introspect", formOf({{"token", token}}), kForm, gateway);
        EXPECT_EQ(r.status, 200) << r;
        expectNoStore(r);
        return r.jsonBody().value("active", true);
    };
    const auto [email, id] = newUser();
    const Tokens t = login(*client, email, kPassword);
    const Tokens other = login(*client, email, kPassword);
    ASSERT_TRUE(introspect(t.access));
    ASSERT_EQ(client
                  ->postRaw("/oauth/revoke", formOf({{"token", t.access}, {"client_id", "mobile"}}),
                            kForm)
                  .status,
              200);
    EXPECT_FALSE(introspect(t.access)) << "revoked session";
    EXPECT_TRUE(introspect(other.access)) << "another session of the user";
    // The user deletes the account: every token of it is inactive at once.
    ASSERT_EQ(
        client
            ->request("DELETE", "/api/me", json{{"password", kPassword}}.dump(),
                      {"Authorization: Bearer " + other.access, "Content-Type: application/json"})
            .status,
        204);
    EXPECT_FALSE(introspect(other.access)) << "deleted user";
}

TEST_F(OAuthClientsTest, RevocationChecksTheClientToo) {
    const auto [email, id] = newUser();
    const Tokens t = login(*client, email, kPassword);
    const std::string body = formOf({{"token", t.refresh}});
    expectInvalidClient(client->postRaw("/oauth/revoke", body, kForm));
    expectInvalidClient(client->postRaw("/oauth/revoke", body + "&client_id=desktop", kForm));
    expectInvalidClient(client->postRaw("/oauth/revoke", body, kForm, {basic("gateway", "wrong")}));
    EXPECT_EQ(refresh(*client, t.refresh).status, 200) << "nothing was revoked";
}

class OAuthDiscoveryTest : public ServiceTest {
  protected:
    json overrides() const override {
        return {{"server", {{"public_url", "https://auth.example.com/"}}},
                {"jwt", {{"issuer", "https://auth.example.com"}}}};
    }
};

class OAuthDiscoveryMaxAgeTest : public OAuthDiscoveryTest {
  protected:
    json overrides() const override {
        json o = OAuthDiscoveryTest::overrides();
        o["jwt"]["jwks_max_age"] = "2m";
        return o;
    }
};

TEST_F(OAuthDiscoveryMaxAgeTest, TheMetadataIsCacheableLikeTheJwks) {
    const HttpResponse jwks = client->get("/.well-known/jwks.json");
    ASSERT_EQ(jwks.status, 200) << jwks;
    EXPECT_EQ(jwks.header("Cache-Control").value_or(""), "public, max-age=120") << jwks;
    for (const char* path :
         {"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"}) {
        const HttpResponse r = client->get(path);
        ASSERT_EQ(r.status, 200) << r;
        EXPECT_EQ(r.header("Cache-Control"), jwks.header("Cache-Control")) << path;
    }
}

TEST_F(OAuthDiscoveryTest, BothPathsServeTheRfc8414MetadataUnderThePublicUrl) {
    for (const char* path :
         {"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"}) {
        const HttpResponse r = client->get(path);
        ASSERT_EQ(r.status, 200) << path << ": " << r;
        EXPECT_EQ(r.header("Cache-Control").value_or(""), "public, max-age=300") << r;
        const json j = r.jsonBody();
        EXPECT_EQ(j["issuer"], "https://auth.example.com");
        EXPECT_EQ(j["jwks_uri"], "https://auth.example.com/.well-known/jwks.json");
        EXPECT_EQ(j["token_endpoint"], "https://auth.example.com/oauth/token");
        EXPECT_EQ(j["revocation_endpoint"], "https://auth.example.com/oauth/revoke");
        EXPECT_EQ(j["introspection_endpoint"], "https://auth.example.com/oauth/introspect");
        EXPECT_EQ(j["grant_types_supported"], json({"password", "refresh_token"}));
        EXPECT_EQ(j["token_endpoint_auth_methods_supported"],
                  json({"none", "client_secret_basic"}));
        EXPECT_EQ(j["response_types_supported"], json::array());
    }
    // The tokens' iss is the issuer the metadata names.
    const auto [email, id] = newUser();
    EXPECT_EQ(decodeJwt(login(*client, email, kPassword).access)->second["iss"],
              "https://auth.example.com");
}

TEST_F(OAuthTokenTest, NoDiscoveryWhenTheIssuerIsNotThePublicUrl) {
    for (const char* path :
         {"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"}) {
        expectError(client->get(path), 404, "not_found");
    }
    // The log is written in batches: wait for the line rather than read it at once.
    EXPECT_TRUE(
        containsI(server->waitForLog("OAuth discovery", std::chrono::seconds(10)), "is off"))
        << server->logTail();
}

}  // namespace
}  // namespace it
