// POST /api/login (and /login): response shape, the access token's claims, aliases, 401s.
#include <algorithm>

#include "support/Harness.h"

namespace it {
namespace {

class LoginTest : public ServiceTest {};

TEST_F(LoginTest, Returns200WithTheFullTokenResponse) {
    const auto [email, id] = newUser();
    const long long before = nowSeconds();
    const HttpResponse r = loginRaw(*client, email, kPassword);
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_EQ(r.header("Cache-Control").value_or(""), "no-store") << r;
    EXPECT_TRUE(containsI(r.header("Content-Type").value_or(""), "application/json")) << r;
    EXPECT_TRUE(r.hasHeader("X-Request-Id")) << r;
    const json j = r.jsonBody();
    ASSERT_TRUE(j.is_object()) << r;
    EXPECT_EQ(j["token_type"], "Bearer");
    EXPECT_EQ(j["expires_in"], 900);
    ASSERT_TRUE(j["refresh_expires_in"].is_number_integer()) << r;
    EXPECT_LE(j["refresh_expires_in"].get<long long>(), 1209600);
    EXPECT_GE(j["refresh_expires_in"].get<long long>(), 1209600 - 5);

    // Refresh token: opaque, base64url, at least 256 bits.
    ASSERT_TRUE(j["refresh_token"].is_string());
    const std::string rt = j["refresh_token"];
    auto raw = base64UrlDecode(rt);
    ASSERT_TRUE(raw.has_value()) << "refresh token is not unpadded base64url: " << rt;
    EXPECT_GE(raw->size(), 32u);

    // Access token: HS256 JWT signed with the configured secret, with every required claim.
    ASSERT_TRUE(j["access_token"].is_string());
    const std::string at = j["access_token"];
    EXPECT_TRUE(verifyHs256(at, server->secret())) << at;
    auto decoded = decodeJwt(at);
    ASSERT_TRUE(decoded.has_value()) << at;
    const auto& [header, claims] = *decoded;
    EXPECT_EQ(header["alg"], "HS256");
    EXPECT_EQ(header["typ"], "JWT");
    EXPECT_EQ(claims["iss"], "authsvc");
    EXPECT_EQ(claims["aud"], "authsvc-clients");
    EXPECT_EQ(claims["sub"], std::to_string(id));
    ASSERT_TRUE(claims["iat"].is_number_integer()) << claims;
    ASSERT_TRUE(claims["exp"].is_number_integer()) << claims;
    EXPECT_GE(claims["iat"].get<long long>(), before - 2);
    EXPECT_LE(claims["iat"].get<long long>(), nowSeconds() + 2);
    EXPECT_EQ(claims["exp"].get<long long>() - claims["iat"].get<long long>(), 900);
    ASSERT_TRUE(claims.contains("jti") && claims["jti"].is_string()) << claims;
    EXPECT_GE(claims["jti"].get<std::string>().size(), 8u) << claims;
    ASSERT_TRUE(claims.contains("sid")) << claims;
    // No secrets in the token.
    EXPECT_EQ(claims.dump().find(kPassword), std::string::npos);
    EXPECT_EQ(claims.dump().find(rt), std::string::npos);
}

TEST_F(LoginTest, EachLoginGetsNewJtiNewFamilyAndNewRefreshToken) {
    const auto [email, id] = newUser();
    const Tokens a = login(*client, email, kPassword);
    const Tokens b = login(*client, email, kPassword);
    ASSERT_FALSE(a.access.empty());
    ASSERT_FALSE(b.access.empty());
    EXPECT_NE(a.refresh, b.refresh);
    const auto ca = decodeJwt(a.access)->second;
    const auto cb = decodeJwt(b.access)->second;
    EXPECT_NE(ca["jti"], cb["jti"]);
    EXPECT_NE(ca["sid"], cb["sid"]);
}

TEST_F(LoginTest, SlashLoginPathWorksToo) {
    const auto [email, id] = newUser();
    const HttpResponse r = loginRaw(*client, email, kPassword, "/login");
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_EQ(r.jsonBody()["token_type"], "Bearer");
    EXPECT_EQ(r.header("Cache-Control").value_or(""), "no-store");
    expectError(loginRaw(*client, email, "wrong password!", "/login"), 401, "invalid_credentials");
}

TEST_F(LoginTest, UsernameIsAcceptedInPlaceOfEmail) {
    const auto [email, id] = newUser();
    const HttpResponse r =
        client->postJson("/api/login", {{"username", email}, {"password", kPassword}});
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_EQ(decodeJwt(r.jsonBody()["access_token"])->second["sub"], std::to_string(id));
}

TEST_F(LoginTest, EmailWinsOverUsername) {
    const auto [email, id] = newUser();
    const std::string nobody = uniqueEmail("nobody");
    HttpResponse r = client->postJson(
        "/api/login", {{"email", email}, {"username", nobody}, {"password", kPassword}});
    EXPECT_EQ(r.status, 200) << r;
    r = client->postJson("/api/login",
                         {{"email", nobody}, {"username", email}, {"password", kPassword}});
    expectError(r, 401, "invalid_credentials");
}

TEST_F(LoginTest, LoginNormalisesTheEmailLikeRegister) {
    const auto [email, id] = newUser();
    // Appended, not " " + std::string: GCC 12 at -O3 warns falsely (-Wrestrict) on that.
    std::string shouted = " ";
    for (char ch : email)
        shouted += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    shouted += ' ';
    const HttpResponse ok = loginRaw(*client, shouted, kPassword);
    EXPECT_EQ(ok.status, 200) << ok;
}

TEST_F(LoginTest, UnknownEmailAndWrongPasswordGiveTheSame401) {
    const auto [email, id] = newUser();
    const HttpResponse wrong = loginRaw(*client, email, "wrong password!");
    const HttpResponse unknown = loginRaw(*client, uniqueEmail("ghost"), kPassword);
    expectError(wrong, 401, "invalid_credentials");
    expectError(unknown, 401, "invalid_credentials");
    EXPECT_EQ(wrong.message(), "Invalid email or password");
    EXPECT_EQ(wrong.jsonBody(), unknown.jsonBody());
    EXPECT_EQ(wrong.header("Content-Type"), unknown.header("Content-Type"));
    EXPECT_EQ(wrong.header("WWW-Authenticate"), unknown.header("WWW-Authenticate"));
    // No token of any kind in a failed login.
    EXPECT_FALSE(wrong.jsonBody().contains("access_token"));
}

class LoginTimingTest : public ServiceTest {
  protected:
    // Realistic hashing cost (~10 ms), so that skipping the hash for unknown emails shows.
    json overrides() const override {
        // Throttle limits raised so that enough samples fit in a minute: one noisy
        // neighbour on a loaded CI machine must not move the median.
        return {{"auth",
                 {{"argon2id", {{"memory_kib", 16384}, {"iterations", 2}}},
                  {"login_rate_limit",
                   {{"per_ip_per_minute", 1000}, {"per_account_per_minute", 1000}}}}}};
    }
};

TEST_F(LoginTimingTest, UnknownEmailTakesAboutAsLongAsAWrongPassword) {
    const auto [email, id] = newUser();
    auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v[v.size() / 2];
    };
    std::vector<double> wrong, unknown;
    for (int i = 0; i < 11; ++i) {  // interleaved, so both see the same machine load
        const HttpResponse w = loginRaw(*client, email, "wrong password " + std::to_string(i));
        const HttpResponse u = loginRaw(*client, uniqueEmail("ghost"), "wrong password");
        ASSERT_EQ(w.status, 401) << w;
        ASSERT_EQ(u.status, 401) << u;
        wrong.push_back(w.seconds);
        unknown.push_back(u.seconds);
    }
    EXPECT_GT(median(unknown), 0.5 * median(wrong))
        << "unknown email answered in " << median(unknown) * 1000 << " ms, wrong password in "
        << median(wrong) * 1000 << " ms: the difference reveals which emails exist";
    EXPECT_LT(median(unknown), 2.0 * median(wrong) + 0.005);
}

TEST_F(LoginTest, EmptyPasswordIsRejectedNot200) {
    const auto [email, id] = newUser();
    const HttpResponse r = loginRaw(*client, email, "");
    EXPECT_TRUE(r.status == 400 || r.status == 401) << r;
    EXPECT_FALSE(r.jsonBody().contains("access_token")) << r;
}

TEST_F(LoginTest, MissingOrMistypedFieldsAre400NamingTheField) {
    const auto [email, id] = newUser();
    HttpResponse r = client->postJson("/api/login", {{"email", email}});
    expectError(r, 400, "invalid_request");
    EXPECT_TRUE(containsI(r.message(), "password")) << r;
    r = client->postJson("/api/login", {{"password", kPassword}});
    expectError(r, 400, "invalid_request");
    EXPECT_TRUE(containsI(r.message(), "email")) << r;
    r = client->postJson("/api/login", {{"email", email}, {"password", 12345678}});
    expectError(r, 400, "invalid_request");
    EXPECT_TRUE(containsI(r.message(), "password")) << r;
    r = client->postJson("/api/login", {{"email", json::array({email})}, {"password", kPassword}});
    expectError(r, 400, "invalid_request");
    EXPECT_TRUE(containsI(r.message(), "email")) << r;
}

}  // namespace
}  // namespace it
