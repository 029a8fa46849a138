// TokenService (issuing) and verify::Verifier (HS256): every rejection of API.md. Tokens
// are forged with libsodium; issued tokens are compared with libjwt's bytes.
#include "services/TokenService.h"

#include <gtest/gtest.h>
#include <jwt.h>

#include <cstdlib>
#include <memory>

#include "support/TestSupport.h"

namespace {

using authsvc::models::ErrorCode;
using authsvc::testing::forgeJwt;
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

    static json header() { return {{"alg", "HS256"}, {"typ", "JWT"}}; }
    static json claims() {
        return {{"iss", "authsvc"}, {"aud", "authsvc-clients"}, {"sub", "42"},
                {"iat", kNow},      {"exp", kNow + 900},        {"jti", "j1"},
                {"sid", "family-1"}};
    }
    // The rejection message, or "" when the token was accepted.
    std::string rejection(const std::string& token) const {
        auto r = tokens.verify(token);
        if (r) return "";
        EXPECT_EQ(r.error().code, ErrorCode::InvalidToken);
        return r.error().message.empty() ? "(empty message)" : r.error().message;
    }
    std::string rejectionOf(const json& h, const json& c) const {
        return rejection(forgeJwt(h, c, kSecret));
    }
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

TEST_F(TokenServiceTest, ForgedTokenWithTheRightKeyIsAccepted) {
    // Other services sign with the shared secret: any token passing the checks is valid.
    auto r = tokens.verify(forgeJwt(header(), claims(), kSecret));
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->sub, "42");
    EXPECT_EQ(r->sid, "family-1");
    EXPECT_EQ(r->jti, "j1");
}

TEST_F(TokenServiceTest, KeysRefuseASecretShorterThan32Bytes) {
    using authsvc::models::KeyConfig;
    using authsvc::models::KeyRing;
    EXPECT_THROW(KeyRing(KeyConfig{std::string(31, 'k'), "", ""}), authsvc::verify::KeyError);
    EXPECT_THROW(KeyRing(KeyConfig{"", "", ""}), authsvc::verify::KeyError);
    EXPECT_NO_THROW(KeyRing(KeyConfig{std::string(32, 'k'), "", ""}));
}

TEST_F(TokenServiceTest, RejectsABadSignature) {
    std::string t = forgeJwt(header(), claims(), kSecret);
    // Flip one character of the signature (keep it valid base64url).
    char& last = t[t.size() - 2];
    last = last == 'A' ? 'B' : 'A';
    EXPECT_NE(rejection(t), "");
}

TEST_F(TokenServiceTest, RejectsATokenSignedWithAnotherKey) {
    EXPECT_NE(rejection(forgeJwt(header(), claims(), std::string(40, 'x'))), "");
}

TEST_F(TokenServiceTest, RejectsATamperedPayload) {
    const std::string good = forgeJwt(header(), claims(), kSecret);
    json c = claims();
    c["sub"] = "1";
    const std::string other = forgeJwt(header(), c, kSecret);
    // other's payload with good's signature
    const size_t g1 = good.find('.'), g2 = good.rfind('.');
    const size_t o1 = other.find('.'), o2 = other.rfind('.');
    const std::string spliced = good.substr(0, g1) + other.substr(o1, o2 - o1) + good.substr(g2);
    EXPECT_NE(rejection(spliced), "");
}

TEST_F(TokenServiceTest, RejectsAlgNone) {
    json h = {{"alg", "none"}, {"typ", "JWT"}};
    EXPECT_NE(rejection(forgeJwt(h, claims(), kSecret)), "");
    // Also the classic form with an empty signature segment.
    const std::string bare =
        authsvc::testing::b64url(h.dump()) + "." + authsvc::testing::b64url(claims().dump()) + ".";
    EXPECT_NE(rejection(bare), "");
}

TEST_F(TokenServiceTest, RejectsAnotherHmacAlgorithmSignedWithTheSameKey) {
    // HS512 with the right key passes libjwt's signature check: the pinned alg must not.
    json h = {{"alg", "HS512"}, {"typ", "JWT"}};
    EXPECT_EQ(rejectionOf(h, claims()), "Unexpected algorithm");
}

TEST_F(TokenServiceTest, RejectsRs256Header) {
    json h = {{"alg", "RS256"}, {"typ", "JWT"}};
    EXPECT_NE(rejection(forgeJwt(h, claims(), kSecret, std::string(256, 'x'))), "");
}

TEST_F(TokenServiceTest, RejectsAWrongTyp) {
    json h = {{"alg", "HS256"}, {"typ", "at+jwt"}};
    EXPECT_NE(rejectionOf(h, claims()), "");
}

TEST_F(TokenServiceTest, AcceptsAnAbsentTyp) {
    json h = {{"alg", "HS256"}};
    EXPECT_EQ(rejectionOf(h, claims()), "");
}

TEST_F(TokenServiceTest, RejectsAWrongIssuer) {
    json c = claims();
    c["iss"] = "someone-else";
    EXPECT_EQ(rejectionOf(header(), c), "Unexpected issuer");
}

TEST_F(TokenServiceTest, RejectsAMissingOrNonStringIssuer) {
    json c = claims();
    c.erase("iss");
    EXPECT_EQ(rejectionOf(header(), c), "Unexpected issuer");
    c["iss"] = 7;
    EXPECT_EQ(rejectionOf(header(), c), "Unexpected issuer");
}

TEST_F(TokenServiceTest, RejectsAWrongAudience) {
    json c = claims();
    c["aud"] = "other-clients";
    EXPECT_EQ(rejectionOf(header(), c), "Unexpected audience");
}

TEST_F(TokenServiceTest, RejectsAMissingAudience) {
    json c = claims();
    c.erase("aud");
    EXPECT_EQ(rejectionOf(header(), c), "Unexpected audience");
}

TEST_F(TokenServiceTest, AudienceArrayMustContainOurs) {
    json c = claims();
    c["aud"] = json::array({"x", "authsvc-clients"});
    EXPECT_EQ(rejectionOf(header(), c), "");
    c["aud"] = json::array({"x", "y"});
    EXPECT_EQ(rejectionOf(header(), c), "Unexpected audience");
    c["aud"] = json::array();
    EXPECT_EQ(rejectionOf(header(), c), "Unexpected audience");
}

TEST_F(TokenServiceTest, ExpiredBeyondLeewayIsRejectedWithTheApiMessage) {
    const std::string t = tokens.issue("42", "f");
    // exp + leeway is the last accepted millisecond.
    clock.advanceMs(900 * 1000 + 30 * 1000);
    EXPECT_EQ(rejection(t), "");
    clock.advanceMs(1);
    EXPECT_EQ(rejection(t), "Access token has expired");
}

TEST_F(TokenServiceTest, ExpiredWithZeroLeeway) {
    TokenKit strict(clock, "authsvc", "authsvc-clients", /*leewayMs=*/0);
    const std::string t = strict.issue("42", "f");
    clock.advanceMs(900 * 1000 + 1);
    auto r = strict.verify(t);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message, "Access token has expired");
}

TEST_F(TokenServiceTest, RejectsAMissingOrMalformedExp) {
    json c = claims();
    c.erase("exp");
    EXPECT_NE(rejectionOf(header(), c), "");
    c["exp"] = std::to_string(kNow + 900);  // a string
    EXPECT_NE(rejectionOf(header(), c), "");
    c["exp"] = 0;
    EXPECT_NE(rejectionOf(header(), c), "");
    c["exp"] = -5;
    EXPECT_NE(rejectionOf(header(), c), "");
}

TEST_F(TokenServiceTest, NbfInTheFutureBeyondLeewayIsRejected) {
    json c = claims();
    c["nbf"] = kNow + 31;
    EXPECT_EQ(rejectionOf(header(), c), "Token is not yet valid");
}

TEST_F(TokenServiceTest, NbfWithinLeewayIsAccepted) {
    json c = claims();
    c["nbf"] = kNow + 30;
    EXPECT_EQ(rejectionOf(header(), c), "");
    c["nbf"] = kNow - 100;
    EXPECT_EQ(rejectionOf(header(), c), "");
}

TEST_F(TokenServiceTest, NbfThatIsNotAPositiveIntegerIsRejected) {
    json c = claims();
    c["nbf"] = "soon";
    EXPECT_NE(rejectionOf(header(), c), "");
}

TEST_F(TokenServiceTest, IatInTheFutureBeyondLeewayIsRejected) {
    json c = claims();
    c["iat"] = kNow + 31;
    EXPECT_EQ(rejectionOf(header(), c), "Token is not yet valid");
    c["iat"] = kNow + 30;
    EXPECT_EQ(rejectionOf(header(), c), "");
}

// Regression: huge nbf/iat values must not overflow when turned into milliseconds (a
// token with nbf far in the future used to be accepted).
TEST_F(TokenServiceTest, HugeNbfIsNotYetValidAndDoesNotOverflow) {
    json c = claims();
    c["nbf"] = 18446744073709552LL;
    EXPECT_EQ(rejectionOf(header(), c), "Token is not yet valid");
    json d = claims();
    d["iat"] = 18446744073709552LL;
    EXPECT_EQ(rejectionOf(header(), d), "Token is not yet valid");
}

TEST_F(TokenServiceTest, RejectsAMissingSubject) {
    json c = claims();
    c.erase("sub");
    EXPECT_EQ(rejectionOf(header(), c), "Missing subject");
}

TEST_F(TokenServiceTest, RejectsAnEmptyOrNonStringSubject) {
    json c = claims();
    c["sub"] = "";
    EXPECT_EQ(rejectionOf(header(), c), "Missing subject");
    c["sub"] = 42;
    EXPECT_EQ(rejectionOf(header(), c), "Missing subject");
}

TEST_F(TokenServiceTest, RejectsMalformedText) {
    for (const std::string& bad :
         {std::string(""), std::string("abc"), std::string("a.b"), std::string("a.b.c"),
          std::string("...."), std::string("not a jwt at all")}) {
        EXPECT_EQ(tokens.verify(bad).ok(), false) << bad;
        EXPECT_EQ(tokens.verify(bad).error().code, ErrorCode::InvalidToken) << bad;
    }
}

// RFC 7515 7.1: base64url segments and dots only. Decoders may skip other bytes; the
// verified-token cache relies on never holding such a token (RequireAuth skips its
// b64token scan for tokens verified before).
TEST_F(TokenServiceTest, RejectsBytesOutsideTheJwsCompactAlphabet) {
    const std::string t = forgeJwt(header(), claims(), kSecret);
    ASSERT_TRUE(tokens.verify(t));
    for (const std::string& bad : {t + "=", t + "==", "+" + t, t.substr(0, 10) + "/" + t.substr(10),
                                   t + " ", t + "\n", t + "~"}) {
        auto r = tokens.verify(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().message, "Malformed token") << bad;
        EXPECT_FALSE(tokens.verifiedBefore(bad)) << bad;
    }
}

TEST_F(TokenServiceTest, VerifiedBeforeOnlyForAcceptedTokensInsideTheirWindow) {
    const std::string t = tokens.issue("42", "f");
    EXPECT_FALSE(tokens.verifiedBefore(t));  // never decoded
    ASSERT_TRUE(tokens.verify(t));
    auto seen = tokens.verifiedBefore(t);
    ASSERT_TRUE(seen);
    EXPECT_EQ(seen->sub, "42");
    EXPECT_FALSE(
        tokens.verifiedBefore(forgeJwt(header(), claims(), "another-key-of-32-bytes-or-more!")));
    clock.advanceMs(900'000 + 30'000 + 1);
    EXPECT_FALSE(tokens.verifiedBefore(t));
}

TEST_F(TokenServiceTest, RejectsAnOverlongTokenBeforeParsing) {
    json c = claims();
    c["pad"] = std::string(9000, 'p');
    EXPECT_EQ(rejectionOf(header(), c), "Malformed token");
}

TEST_F(TokenServiceTest, VerificationUsesTheInjectedClockNotTheWallClock) {
    // A token from 2017 has long expired by wall time but is valid at the injected time.
    clock.setMs(1'500'000'000'000);
    json c = claims();
    c["iat"] = 1'500'000'000;
    c["exp"] = 1'500'000'900;
    EXPECT_EQ(rejectionOf(header(), c), "");
}

// The verified-token cache (VerifiedTokenCache) must never accept what the full
// verification refuses at that moment: a token verified once is checked again after the
// clock moved, or with other bytes.
TEST_F(TokenServiceTest, ACachedTokenExpiresAtTheExactLeewayBoundary) {
    const std::string t = forgeJwt(header(), claims(), kSecret);
    ASSERT_EQ(rejection(t), "");  // verified in full, remembered
    ASSERT_EQ(rejection(t), "");  // served again
    clock.setMs((kNow + 900) * 1000 + 30 * 1000);
    EXPECT_EQ(rejection(t), "");
    clock.advanceMs(1);
    EXPECT_EQ(rejection(t), "Access token has expired");
    EXPECT_EQ(rejection(t), "Access token has expired");
}

TEST_F(TokenServiceTest, ACachedTokenIsNotYetValidWhenTheClockGoesBackBeforeItsIat) {
    const std::string t = forgeJwt(header(), claims(), kSecret);
    ASSERT_EQ(rejection(t), "");
    clock.setMs(kStartMs - 30 * 1000);  // iat == now + leeway: still accepted
    EXPECT_EQ(rejection(t), "");
    clock.advanceMs(-1);
    EXPECT_EQ(rejection(t), "Token is not yet valid");
}

TEST_F(TokenServiceTest, ACachedTokenWithNbfIsRefusedBeforeItsNbf) {
    json c = claims();
    c["nbf"] = kNow + 100;
    const std::string t = forgeJwt(header(), c, kSecret);
    EXPECT_EQ(rejection(t), "Token is not yet valid");
    clock.setMs((kNow + 100) * 1000 - 30 * 1000);
    EXPECT_EQ(rejection(t), "");
    EXPECT_EQ(rejection(t), "");
    clock.advanceMs(-1);
    EXPECT_EQ(rejection(t), "Token is not yet valid");
}

TEST_F(TokenServiceTest, TamperingWithACachedTokenIsStillRejected) {
    const std::string good = forgeJwt(header(), claims(), kSecret);
    ASSERT_EQ(rejection(good), "");
    std::string badSignature = good;
    char& c = badSignature[badSignature.size() - 2];
    c = c == 'A' ? 'B' : 'A';
    EXPECT_NE(rejection(badSignature), "");
    json other = claims();
    other["sub"] = "1";
    const std::string o = forgeJwt(header(), other, kSecret);
    const std::string spliced = good.substr(0, good.find('.')) +
                                o.substr(o.find('.'), o.rfind('.') - o.find('.')) +
                                good.substr(good.rfind('.'));
    EXPECT_NE(rejection(spliced), "");
    EXPECT_NE(rejection(good + "A"), "");
    EXPECT_NE(rejection(good.substr(0, good.size() - 1)), "");
    EXPECT_EQ(rejection(good), "");
}

TEST_F(TokenServiceTest, ACachedTokenIsNotAcceptedByAServiceWithAnotherKey) {
    const std::string t = forgeJwt(header(), claims(), kSecret);
    ASSERT_EQ(rejection(t), "");
    TokenKit other(clock, "authsvc", "authsvc-clients", 30'000, std::string(40, 'x'));
    EXPECT_FALSE(other.verify(t));
}

TEST_F(TokenServiceTest, AServedAgainTokenHasTheSameClaims) {
    const std::string t = tokens.issue("42", "family-1");
    auto first = tokens.verify(t);
    auto second = tokens.verify(t);
    ASSERT_TRUE(first && second);
    EXPECT_EQ(second->sub, first->sub);
    EXPECT_EQ(second->sid, first->sid);
    EXPECT_EQ(second->jti, first->jti);
    EXPECT_EQ(second->iat, first->iat);
    EXPECT_EQ(second->exp, first->exp);
}

}  // namespace
