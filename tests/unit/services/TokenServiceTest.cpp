// TokenService (issuing): the header and claims of API.md, byte for byte what libjwt would
// sign, verified by verify::Verifier. The Verifier's rules: tests/unit/verify/VerifierTest.
#include "services/TokenService.h"

#include <gtest/gtest.h>
#include <jwt.h>

#include <cstdlib>
#include <memory>

#include "support/TestSupport.h"

namespace {

using authsvc::testing::jwtSegment;
using authsvc::testing::kSecret;
using authsvc::testing::TokenKit;
using authsvc::verify::ManualClock;
using nlohmann::json;

using authsvc::testing::kNow;
using authsvc::testing::kStartMs;

class TokenServiceTest : public ::testing::Test {
  protected:
    ManualClock clock{kStartMs};
    TokenKit tokens{clock};
};

TEST_F(TokenServiceTest, IssuedTokenVerifiesWithItsClaims) {
    const std::string t = tokens.issue("42", "family-1");
    auto r = tokens.verify(t);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->sub, "42");
    EXPECT_EQ(r->sid, "family-1");
    EXPECT_FALSE(r->jti.empty());
    EXPECT_EQ(r->iat, kNow);
    EXPECT_EQ(r->exp, kNow + 900);
    EXPECT_EQ(tokens.accessTtlSeconds(), 900);
}

TEST_F(TokenServiceTest, IssuedTokenHasTheHeaderAndClaimsOfApiMd) {
    const std::string t = tokens.issue("42", "family-1");
    json h = jwtSegment(t, 0);
    json p = jwtSegment(t, 1);
    EXPECT_EQ(h.value("alg", ""), "HS256");
    EXPECT_EQ(h.value("typ", ""), "JWT");
    EXPECT_EQ(p.value("iss", ""), "authsvc");
    EXPECT_EQ(p.value("aud", ""), "authsvc-clients");
    EXPECT_EQ(p.value("sub", ""), "42");
    EXPECT_EQ(p.value("sid", ""), "family-1");
    EXPECT_EQ(p.value("iat", 0LL), kNow);
    EXPECT_EQ(p.value("exp", 0LL), kNow + 900);
    EXPECT_TRUE(p.contains("jti"));
}

// Issuing no longer goes through libjwt: the bytes must be exactly what jwt_encode_str
// gives for the same claims and key (header, sorted compact claims, signature).
TEST_F(TokenServiceTest, IssuedTokenIsByteForByteWhatLibjwtWouldSign) {
    for (const std::string sid : {"family-1", ""}) {
        const std::string t = tokens.issue("42", sid);
        const json p = jwtSegment(t, 1);
        jwt_t* raw = nullptr;
        ASSERT_EQ(jwt_new(&raw), 0);
        std::unique_ptr<jwt_t, decltype(&jwt_free)> j(raw, &jwt_free);
        jwt_add_grant(j.get(), "iss", "authsvc");
        jwt_add_grant(j.get(), "aud", "authsvc-clients");
        jwt_add_grant(j.get(), "sub", "42");
        jwt_add_grant(j.get(), "jti", p.at("jti").get<std::string>().c_str());
        if (!sid.empty()) jwt_add_grant(j.get(), "sid", sid.c_str());
        jwt_add_grant_int(j.get(), "iat", kNow);
        jwt_add_grant_int(j.get(), "exp", kNow + 900);
        jwt_set_alg(j.get(), JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(kSecret.data()),
                    int(kSecret.size()));
        char* expected = jwt_encode_str(j.get());
        ASSERT_NE(expected, nullptr);
        EXPECT_EQ(t, std::string(expected)) << "sid '" << sid << "'";
        std::free(expected);
    }
}

TEST_F(TokenServiceTest, IssuedClaimsAreEscapedJson) {
    struct {
        std::string issuer = "iss \"quoted\" \\ / \x01 \xc3\xa9";
        std::string audience = "aud\ttab";
    } s;
    TokenKit odd(clock, s.issuer, s.audience);
    const std::string sub = "sub \"\n\xe2\x82\xac";
    const std::string t = odd.issue(sub, "fam\"ily");
    const json p = jwtSegment(t, 1);
    EXPECT_EQ(p.at("iss"), s.issuer);
    EXPECT_EQ(p.at("aud"), s.audience);
    auto r = odd.verify(t);  // it decodes and every claim check passes
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->sub, sub);
    EXPECT_EQ(r->sid, "fam\"ily");
}

TEST_F(TokenServiceTest, JtiIsUniquePerToken) {
    auto a = tokens.verify(tokens.issue("42", "f"));
    auto b = tokens.verify(tokens.issue("42", "f"));
    ASSERT_TRUE(a && b);
    EXPECT_NE(a->jti, b->jti);
}

TEST_F(TokenServiceTest, TokenWithoutSidHasNone) {
    const std::string t = tokens.issue("42", "");
    EXPECT_FALSE(jwtSegment(t, 1).contains("sid"));
    auto r = tokens.verify(t);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->sid, "");
}

TEST_F(TokenServiceTest, KeysRefuseASecretShorterThan32Bytes) {
    using authsvc::models::KeyConfig;
    using authsvc::models::KeyRing;
    EXPECT_THROW(KeyRing(KeyConfig{std::string(31, 'k'), "", ""}), authsvc::verify::KeyError);
    EXPECT_THROW(KeyRing(KeyConfig{"", "", ""}), authsvc::verify::KeyError);
    EXPECT_NO_THROW(KeyRing(KeyConfig{std::string(32, 'k'), "", ""}));
}

}  // namespace
