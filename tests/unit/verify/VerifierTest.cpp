// verify::Verifier's rules (HS256 here; the asymmetric keys' rules are in KeysTest), each
// refusal asserted by its Reason's name (verify/Error.h), and the reason table: names,
// texts (the Bearer answers' error_description, unchanged) and challenges. Tokens are
// forged with libsodium's HMAC (TestSupport.h); the clock is a ManualClock.
#include "verify/Verifier.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>
#include <thread>

#include "support/TestSupport.h"
#include "verify/Base64Url.h"

namespace {

using authsvc::testing::forgeJwt;
using authsvc::testing::forgeJwtText;
using authsvc::testing::kSecret;
using authsvc::testing::TokenKit;
using authsvc::verify::ManualClock;
using authsvc::verify::Reason;
using authsvc::verify::reasonName;
using authsvc::verify::reasonText;
using authsvc::verify::Verified;
using nlohmann::json;

using authsvc::testing::kNow;
using authsvc::testing::kStartMs;

class VerifierTest : public ::testing::Test {
  protected:
    ManualClock clock{kStartMs};
    TokenKit tokens{clock};

    static json header() { return {{"alg", "HS256"}, {"typ", "JWT"}}; }
    static json claims() {
        return {{"iss", "authsvc"}, {"aud", "authsvc-clients"}, {"sub", "42"},
                {"iat", kNow},      {"exp", kNow + 900},        {"jti", "j1"},
                {"sid", "family-1"}};
    }
    // The name of the reason the token is refused for, or "" when it is accepted.
    std::string rejection(const std::string& token) const {
        const Verified v = tokens.verifier.verifyToken(token);
        return v ? "" : reasonName(v.reason);
    }
    std::string rejectionOf(const json& h, const json& c) const {
        return rejection(forgeJwt(h, c, kSecret));
    }
    // The whole refusal of verifyAuthorization, as "name: text", or "" when accepted.
    std::string authorizationRefusal(std::optional<std::string_view> header) const {
        const Verified v = tokens.verifier.verifyAuthorization(header);
        return v ? "" : std::string(reasonName(v.reason)) + ": " + reasonText(v.reason);
    }
};

// The texts are the answers' error_description as API.md and every client has known
// them: a reason with a name of its own must not change what an answer says.
TEST(ReasonTableTest, EveryReasonHasItsOwnNameAndTheTextsAnswersAlwaysHad) {
    const std::map<std::string, std::string> expected = {
        {"missing_token", "Missing access token"},
        {"not_bearer", "The Authorization header must be 'Bearer <token>'"},
        {"too_large", "Malformed token"},
        {"malformed", "Malformed token"},
        {"repeated_member", "Malformed token"},
        {"crit", "Unsupported critical header parameter"},
        {"typ", "Unexpected token type"},
        {"unknown_kid", "Unknown signing key"},
        {"alg_not_key", "Unexpected algorithm"},
        {"no_shared_secret", "Unexpected algorithm"},
        {"bad_signature", "Bad signature"},
        {"issuer", "Unexpected issuer"},
        {"audience", "Unexpected audience"},
        {"missing_exp", "Missing or malformed exp"},
        {"expired", "Access token has expired"},
        {"not_yet_valid", "Token is not yet valid"},
        {"iat_in_future", "Token is not yet valid"},
        {"missing_sub", "Missing subject"},
        {"bad_roles", "Malformed roles claim"},
    };
    ASSERT_EQ(expected.size(), authsvc::verify::kReasonCount);
    std::set<std::string> names;
    for (size_t i = 0; i < authsvc::verify::kReasonCount; ++i) {
        const Reason r = Reason(i);
        const std::string name = reasonName(r);
        EXPECT_TRUE(names.insert(name).second) << name << " twice";
        ASSERT_TRUE(expected.count(name)) << name;
        EXPECT_EQ(reasonText(r), expected.at(name)) << name;
    }
    EXPECT_STREQ(reasonName(Reason(authsvc::verify::kReasonCount)), "unknown");
}

TEST(ReasonTableTest, ChallengesAndStatusesFollowTheRfc6750Class) {
    using authsvc::verify::challenge;
    using authsvc::verify::httpStatus;
    EXPECT_EQ(challenge(Reason::MissingToken, "api"), R"(Bearer realm="api")");
    EXPECT_EQ(httpStatus(Reason::MissingToken), 401);
    // The 400's text goes in the answer's body only.
    EXPECT_EQ(challenge(Reason::NotBearer, "api"),
              R"(Bearer realm="api", error="invalid_request")");
    EXPECT_EQ(httpStatus(Reason::NotBearer), 400);
    EXPECT_EQ(challenge(Reason::Expired, "api"), R"(Bearer realm="api", error="invalid_token", )"
                                                 R"(error_description="Access token has expired")");
    EXPECT_EQ(httpStatus(Reason::Expired), 401);
    for (size_t i = 2; i < authsvc::verify::kReasonCount; ++i) {
        EXPECT_EQ(authsvc::verify::errorCodeOf(Reason(i)), authsvc::verify::ErrorCode::InvalidToken)
            << reasonName(Reason(i));
    }
}

// Every Reason is earned by some token: a reason nobody can produce is a dead rule, and a
// new rule without its reason fails here.
TEST_F(VerifierTest, EveryReasonIsTheAnswerToSomeToken) {
    std::set<std::string> seen;
    auto note = [&](const Verified& v) {
        EXPECT_FALSE(v);
        if (!v) seen.insert(reasonName(v.reason));
    };
    const auto& verifier = tokens.verifier;
    note(verifier.verifyAuthorization(std::nullopt));
    note(verifier.verifyAuthorization("Basic dXNlcg=="));
    note(verifier.verifyToken(""));
    note(verifier.verifyToken("a.b.c"));
    note(verifier.verifyToken(
        forgeJwtText(R"({"alg":"HS256","alg":"HS256"})", claims().dump(), "HS256", kSecret)));
    json h = header();
    h["crit"] = json::array({"exp"});
    note(verifier.verifyToken(forgeJwt(h, claims(), kSecret)));
    note(verifier.verifyToken(forgeJwt({{"alg", "HS256"}, {"typ", "at+jwt"}}, claims(), kSecret)));
    note(verifier.verifyToken(forgeJwt({{"alg", "HS256"}, {"kid", "k1"}}, claims(), kSecret)));
    note(verifier.verifyToken(forgeJwt({{"alg", "HS512"}}, claims(), kSecret)));
    authsvc::verify::Verifier noSecret(
        {"authsvc", "authsvc-clients"},
        std::make_shared<authsvc::verify::LocalKeySource>(authsvc::verify::KeySet{}), clock);
    note(noSecret.verifyToken(forgeJwt(header(), claims(), kSecret)));
    note(verifier.verifyToken(forgeJwt(header(), claims(), std::string(40, 'x'))));
    for (const auto& [name, value] :
         std::vector<std::pair<std::string, json>>{{"iss", "other"},
                                                   {"aud", "other"},
                                                   {"exp", "soon"},
                                                   {"exp", kNow - 3600},
                                                   {"nbf", kNow + 3600},
                                                   {"iat", kNow + 3600},
                                                   {"sub", ""},
                                                   {"roles", "admin"}}) {
        json c = claims();
        c[name] = value;
        note(verifier.verifyToken(forgeJwt(header(), c, kSecret)));
    }
    EXPECT_EQ(seen.size(), authsvc::verify::kReasonCount);
}

TEST_F(VerifierTest, TheAuthorizationHeaderIsBearerAndAB64Token) {
    EXPECT_EQ(authorizationRefusal(std::nullopt), "missing_token: Missing access token");
    for (const std::string h :
         {"Basic dXNlcjpw", "Bearer", "Bearer ", "Bearer a b", "Token x.y.z", "Bearer \xc3\xa9"}) {
        EXPECT_EQ(authorizationRefusal(h),
                  "not_bearer: The Authorization header must be 'Bearer <token>'")
            << h;
    }
    const std::string t = forgeJwt(header(), claims(), kSecret);
    EXPECT_EQ(authorizationRefusal("bearer  " + t), "");
    EXPECT_EQ(authorizationRefusal("Bearer " + std::string(9000, 'a')),
              "too_large: Malformed token");
}

TEST_F(VerifierTest, AForgedTokenWithTheRightKeyIsAccepted) {
    // Other services sign with the shared secret: any token passing the checks is valid.
    const Verified v = tokens.verifier.verifyToken(forgeJwt(header(), claims(), kSecret));
    ASSERT_TRUE(v) << reasonName(v.reason);
    EXPECT_EQ(v.claims->sub, "42");
    EXPECT_EQ(v.claims->sid, "family-1");
    EXPECT_EQ(v.claims->jti, "j1");
    EXPECT_EQ(v.claims->iat, kNow);
    EXPECT_EQ(v.claims->exp, kNow + 900);
}

TEST_F(VerifierTest, ABadSignatureIsBadSignature) {
    std::string t = forgeJwt(header(), claims(), kSecret);
    // Flip one character of the signature (keep it valid base64url).
    char& last = t[t.size() - 2];
    last = last == 'A' ? 'B' : 'A';
    EXPECT_EQ(rejection(t), "bad_signature");
}

TEST_F(VerifierTest, ATokenSignedWithAnotherKeyIsBadSignature) {
    EXPECT_EQ(rejection(forgeJwt(header(), claims(), std::string(40, 'x'))), "bad_signature");
}

TEST_F(VerifierTest, ATamperedPayloadIsBadSignature) {
    const std::string good = forgeJwt(header(), claims(), kSecret);
    json c = claims();
    c["sub"] = "1";
    const std::string other = forgeJwt(header(), c, kSecret);
    // other's payload with good's signature
    const size_t g1 = good.find('.'), g2 = good.rfind('.');
    const size_t o1 = other.find('.'), o2 = other.rfind('.');
    const std::string spliced = good.substr(0, g1) + other.substr(o1, o2 - o1) + good.substr(g2);
    EXPECT_EQ(rejection(spliced), "bad_signature");
}

TEST_F(VerifierTest, AlgNoneIsNotTheKeysAlgorithm) {
    json h = {{"alg", "none"}, {"typ", "JWT"}};
    EXPECT_EQ(rejection(forgeJwt(h, claims(), kSecret)), "alg_not_key");
    // Also the classic form with an empty signature segment.
    const std::string bare =
        authsvc::testing::b64url(h.dump()) + "." + authsvc::testing::b64url(claims().dump()) + ".";
    EXPECT_EQ(rejection(bare), "alg_not_key");
}

TEST_F(VerifierTest, AnotherHmacAlgorithmSignedWithTheSameKeyIsNotTheKeys) {
    // HS512 with the right key would pass a signature check: the pinned alg must not.
    json h = {{"alg", "HS512"}, {"typ", "JWT"}};
    EXPECT_EQ(rejectionOf(h, claims()), "alg_not_key");
    EXPECT_EQ(rejection(forgeJwt({{"alg", "RS256"}, {"typ", "JWT"}}, claims(), kSecret,
                                 std::string(256, 'x'))),
              "alg_not_key");
}

TEST_F(VerifierTest, AHeaderWithCritIsRefused) {
    json h = header();
    h["crit"] = json::array({"exp"});
    EXPECT_EQ(rejectionOf(h, claims()), "crit");
}

TEST_F(VerifierTest, AKidWithOnlyTheSharedSecretIsAnUnknownKey) {
    // Tokens with a kid are checked against that key only, never the HS256 secret.
    json h = header();
    h["kid"] = "k1";
    EXPECT_EQ(rejectionOf(h, claims()), "unknown_kid");
    h["kid"] = 7;
    EXPECT_EQ(rejectionOf(h, claims()), "malformed");
}

TEST_F(VerifierTest, TypIsJwtOrAbsent) {
    EXPECT_EQ(rejectionOf({{"alg", "HS256"}, {"typ", "at+jwt"}}, claims()), "typ");
    EXPECT_EQ(rejectionOf({{"alg", "HS256"}}, claims()), "");
}

TEST_F(VerifierTest, TheIssuerIsOurs) {
    json c = claims();
    c["iss"] = "someone-else";
    EXPECT_EQ(rejectionOf(header(), c), "issuer");
    c.erase("iss");
    EXPECT_EQ(rejectionOf(header(), c), "issuer");
    c["iss"] = 7;
    EXPECT_EQ(rejectionOf(header(), c), "issuer");
}

TEST_F(VerifierTest, TheAudienceIsOursOrAmongThem) {
    json c = claims();
    c["aud"] = "other-clients";
    EXPECT_EQ(rejectionOf(header(), c), "audience");
    c.erase("aud");
    EXPECT_EQ(rejectionOf(header(), c), "audience");
    c["aud"] = json::array({"x", "authsvc-clients"});
    EXPECT_EQ(rejectionOf(header(), c), "");
    c["aud"] = json::array({"x", "y"});
    EXPECT_EQ(rejectionOf(header(), c), "audience");
    c["aud"] = json::array();
    EXPECT_EQ(rejectionOf(header(), c), "audience");
}

TEST_F(VerifierTest, ExpiredBeyondTheLeeway) {
    const std::string t = forgeJwt(header(), claims(), kSecret);
    // exp + leeway is the last accepted millisecond.
    clock.advanceMs(900 * 1000 + 30 * 1000);
    EXPECT_EQ(rejection(t), "");
    clock.advanceMs(1);
    EXPECT_EQ(rejection(t), "expired");
}

TEST_F(VerifierTest, ExpiredWithZeroLeeway) {
    TokenKit strict(clock, "authsvc", "authsvc-clients", /*leewayMs=*/0);
    const std::string t = forgeJwt(header(), claims(), kSecret);
    clock.advanceMs(900 * 1000 + 1);
    const Verified v = strict.verifier.verifyToken(t);
    ASSERT_FALSE(v);
    EXPECT_EQ(v.reason, Reason::Expired);
}

TEST_F(VerifierTest, ExpIsRequiredAndAPositiveInteger) {
    json c = claims();
    c.erase("exp");
    EXPECT_EQ(rejectionOf(header(), c), "missing_exp");
    c["exp"] = std::to_string(kNow + 900);  // a string
    EXPECT_EQ(rejectionOf(header(), c), "missing_exp");
    c["exp"] = 0;
    EXPECT_EQ(rejectionOf(header(), c), "missing_exp");
    c["exp"] = -5;
    EXPECT_EQ(rejectionOf(header(), c), "missing_exp");
}

TEST_F(VerifierTest, NbfHoldsWithTheLeeway) {
    json c = claims();
    c["nbf"] = kNow + 31;
    EXPECT_EQ(rejectionOf(header(), c), "not_yet_valid");
    c["nbf"] = kNow + 30;
    EXPECT_EQ(rejectionOf(header(), c), "");
    c["nbf"] = kNow - 100;
    EXPECT_EQ(rejectionOf(header(), c), "");
    c["nbf"] = "soon";  // not a positive integer
    EXPECT_EQ(rejectionOf(header(), c), "not_yet_valid");
}

TEST_F(VerifierTest, IatInTheFutureBeyondTheLeeway) {
    json c = claims();
    c["iat"] = kNow + 31;
    EXPECT_EQ(rejectionOf(header(), c), "iat_in_future");
    c["iat"] = kNow + 30;
    EXPECT_EQ(rejectionOf(header(), c), "");
}

// Regression: huge nbf/iat values must not overflow when turned into milliseconds (a
// token with nbf far in the future used to be accepted).
TEST_F(VerifierTest, AHugeNbfOrIatIsAheadAndDoesNotOverflow) {
    json c = claims();
    c["nbf"] = 18446744073709552LL;
    EXPECT_EQ(rejectionOf(header(), c), "not_yet_valid");
    json d = claims();
    d["iat"] = 18446744073709552LL;
    EXPECT_EQ(rejectionOf(header(), d), "iat_in_future");
}

TEST_F(VerifierTest, SubIsANonEmptyString) {
    json c = claims();
    c.erase("sub");
    EXPECT_EQ(rejectionOf(header(), c), "missing_sub");
    c["sub"] = "";
    EXPECT_EQ(rejectionOf(header(), c), "missing_sub");
    c["sub"] = 42;
    EXPECT_EQ(rejectionOf(header(), c), "missing_sub");
}

TEST_F(VerifierTest, RolesAreAbsentOrAnArrayOfStrings) {
    for (const json& bad : {json("admin"), json(1), json::object(), json::array({"a", 1}),
                            json::array({json::array({"admin"})}), json(nullptr)}) {
        json c = claims();
        c["roles"] = bad;
        EXPECT_EQ(rejectionOf(header(), c), "bad_roles") << bad;
    }
    json c = claims();
    c["roles"] = json::array();
    EXPECT_EQ(rejectionOf(header(), c), "");
    c["roles"] = json::array({"admin", "ops"});
    const Verified v = tokens.verifier.verifyToken(forgeJwt(header(), c, kSecret));
    ASSERT_TRUE(v);
    EXPECT_EQ(v.claims->roles, (std::vector<std::string>{"admin", "ops"}));
}

TEST_F(VerifierTest, MalformedTextIsMalformed) {
    EXPECT_EQ(rejection(""), "too_large");
    for (const std::string& bad : {std::string("abc"), std::string("a.b"), std::string("a.b.c"),
                                   std::string("...."), std::string("not a jwt at all"),
                                   std::string("e30.e30.e30"), std::string("W10.e30.e30")}) {
        EXPECT_EQ(rejection(bad), "malformed") << bad;
    }
    // A header that is an object without a string alg; a signature that is not base64url.
    EXPECT_EQ(rejection(authsvc::testing::b64url(R"({"alg":1})") + ".e30.e30"), "malformed");
    const std::string t = forgeJwt(header(), claims(), kSecret);
    EXPECT_EQ(rejection(t.substr(0, t.rfind('.') + 1) + "A"), "malformed");
}

// A header or claims set that names a member twice is refused, at any depth and whichever
// value comes last (RFC 7515 5.2, RFC 7519 7.2: refuse, or take the last one; two readers
// that chose differently would see different claims).
TEST_F(VerifierTest, RepeatedMemberNamesAreRefused) {
    const auto signedText = [](const std::string& h, const std::string& payload) {
        return forgeJwtText(h, payload, "HS256", kSecret);
    };
    const std::string h = R"({"alg":"HS256","typ":"JWT"})";
    std::string payload = claims().dump();
    ASSERT_EQ(rejection(signedText(h, payload)), "");  // the same token, once each

    payload.pop_back();  // "...}" -> "...": append a second sub
    EXPECT_EQ(rejection(signedText(h, payload + R"(,"sub":"1"})")), "repeated_member");
    EXPECT_EQ(rejection(signedText(R"({"alg":"none","typ":"JWT","alg":"HS256"})", claims().dump())),
              "repeated_member");
    EXPECT_EQ(rejection(signedText(h, payload + R"(,"x":{"a":1,"a":2}})")), "repeated_member");
    // The same name in two different objects is no repetition.
    EXPECT_EQ(rejection(signedText(h, payload + R"(,"x":{"sub":1},"y":[{"a":1},{"a":2}]})")), "");
}

// The header and claims are read as one JSON object each (a SAX reader, no DOM): only
// top-level members count, the grammar and number types are json::parse's, and a repeated
// name is found whatever its spelling or depth.
TEST_F(VerifierTest, OnlyTopLevelMembersAreReadAndTheirTypesAreJsons) {
    const auto signedText = [](const std::string& h, const std::string& payload) {
        return forgeJwtText(h, payload, "HS256", kSecret);
    };
    const std::string h = R"({"alg":"HS256","typ":"JWT"})";
    json c = claims();
    c.erase("iss");
    c["x"] = {{"iss", "authsvc"}};
    EXPECT_EQ(rejectionOf(header(), c), "issuer");  // a nested iss is not the issuer
    c = claims();
    c["aud"] = json::array({1, json::object({{"aud", "authsvc-clients"}}), "authsvc-clients"});
    EXPECT_EQ(rejectionOf(header(), c), "");
    c["aud"] = json::array({json::array({"authsvc-clients"})});
    EXPECT_EQ(rejectionOf(header(), c), "audience");
    c["aud"] = json::object({{"aud", "authsvc-clients"}});
    EXPECT_EQ(rejectionOf(header(), c), "audience");
    for (const json& notAnInteger : {json(double(kNow + 900)), json(true), json(nullptr),
                                     json::array({kNow + 900}), json::object()}) {
        json d = claims();
        d["exp"] = notAnInteger;
        EXPECT_EQ(rejectionOf(header(), d), "missing_exp") << notAnInteger;
    }
    // An exp written as a float, or past 2^64 (json::parse reads both as floats).
    std::string payload = claims().dump();
    payload.pop_back();
    EXPECT_EQ(rejection(signedText(h, R"({"iss":"authsvc","aud":"authsvc-clients","sub":"4",)"
                                      R"("exp":1e300})")),
              "missing_exp");
    EXPECT_EQ(rejection(signedText(h, R"({"iss":"authsvc","aud":"authsvc-clients","sub":"4",)"
                                      R"("exp":99999999999999999999999})")),
              "missing_exp");
    // The same name spelled with an escape is the same name.
    EXPECT_EQ(rejection(signedText(h, payload + R"(,"s\u0075b":"1"})")), "repeated_member");
    EXPECT_EQ(rejection(signedText(R"({"alg":"HS256","x":[{"k":1,"k":1}]})", claims().dump())),
              "repeated_member");
    // Many members: each object's names are sorted once, not compared pairwise.
    std::string many = payload;
    for (int i = 0; i < 400; ++i) many += ",\"m" + std::to_string(i) + "\":0";
    EXPECT_EQ(rejection(signedText(h, many + "}")), "");
    EXPECT_EQ(rejection(signedText(h, many + R"(,"m399":0})")), "repeated_member");
    // Anything but one object, or not JSON at all.
    for (const std::string& notAnObject :
         {std::string("1"), std::string("\"x\""), std::string("null"), std::string("[]"),
          std::string("[{}]"), std::string("{} {}"), std::string("{\"alg\":\"HS256\""),
          std::string("{\"alg\":\"HS256\",}"), std::string("{\"alg\":\"\xff\"}")}) {
        EXPECT_EQ(rejection(signedText(notAnObject, claims().dump())), "malformed") << notAnObject;
        EXPECT_EQ(rejection(signedText(h, notAnObject)), "malformed") << notAnObject;
    }
}

// Each thread keeps the last header it accepted: a header is still judged by its bytes,
// whatever came before it.
TEST_F(VerifierTest, EveryHeaderIsJudgedByItsOwnBytes) {
    const auto signedText = [](const std::string& h, const std::string& payload) {
        return forgeJwtText(h, payload, "HS256", kSecret);
    };
    const std::string good = R"({"alg":"HS256","typ":"JWT"})";
    for (int round = 0; round < 2; ++round) {
        EXPECT_EQ(rejection(signedText(good, claims().dump())), "");
        EXPECT_EQ(
            rejection(signedText(R"({"alg":"HS256","typ":"JWT","crit":[]})", claims().dump())),
            "crit");
        EXPECT_EQ(rejection(signedText(good, claims().dump())), "");
        EXPECT_EQ(rejection(signedText(R"({"alg":"HS256","typ":"JWS"})", claims().dump())), "typ");
        EXPECT_EQ(rejection(signedText(R"({"alg":"HS256","kid":7})", claims().dump())),
                  "malformed");
        EXPECT_EQ(rejection(signedText(R"({"alg":"HS256","kid":"k1"})", claims().dump())),
                  "unknown_kid");
        EXPECT_EQ(rejection(signedText(good, claims().dump())), "");
        EXPECT_EQ(rejection(signedText(R"({"alg":"HS512","typ":"JWT"})", claims().dump())),
                  "alg_not_key");
    }
}

// The memory of the last accepted header starts empty: on a thread that has accepted no
// header yet, an empty header segment is no match for it, but malformed (fuzz_jws found
// this: it was taken for an accepted header with no alg).
TEST_F(VerifierTest, AnEmptyHeaderOnAFreshThreadIsMalformed) {
    const std::string sig = authsvc::verify::base64UrlEncode(std::string(32, 's'));
    std::string first, again;
    std::thread([&] {
        first = rejection(".." + sig);
        again = rejection("." + authsvc::verify::base64UrlEncode(claims().dump()) + "." + sig);
    }).join();
    EXPECT_EQ(first, "malformed");
    EXPECT_EQ(again, "malformed");
}

// RFC 7515 7.1: base64url segments and dots only. Decoders may skip other bytes; the
// verified-token cache relies on never holding such a token (RequireAuth skips its
// b64token scan for tokens verified before).
TEST_F(VerifierTest, BytesOutsideTheJwsCompactAlphabetAreMalformed) {
    const std::string t = forgeJwt(header(), claims(), kSecret);
    ASSERT_EQ(rejection(t), "");
    for (const std::string& bad : {t + "=", t + "==", "+" + t, t.substr(0, 10) + "/" + t.substr(10),
                                   t + " ", t + "\n", t + "~"}) {
        EXPECT_EQ(rejection(bad), "malformed") << bad;
        EXPECT_FALSE(tokens.verifiedBefore(bad)) << bad;
    }
}

TEST_F(VerifierTest, AnOverlongTokenIsRefusedBeforeParsing) {
    json c = claims();
    c["pad"] = std::string(9000, 'p');
    EXPECT_EQ(rejectionOf(header(), c), "too_large");
}

TEST_F(VerifierTest, VerificationUsesTheInjectedClockNotTheWallClock) {
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
TEST_F(VerifierTest, VerifiedBeforeOnlyForAcceptedTokensInsideTheirWindow) {
    const std::string t = forgeJwt(header(), claims(), kSecret);
    EXPECT_FALSE(tokens.verifiedBefore(t));  // never decoded
    ASSERT_EQ(rejection(t), "");
    auto seen = tokens.verifiedBefore(t);
    ASSERT_TRUE(seen);
    EXPECT_EQ(seen->sub, "42");
    EXPECT_FALSE(
        tokens.verifiedBefore(forgeJwt(header(), claims(), "another-key-of-32-bytes-or-more!")));
    clock.advanceMs(900'000 + 30'000 + 1);
    EXPECT_FALSE(tokens.verifiedBefore(t));
}

TEST_F(VerifierTest, ACachedTokenExpiresAtTheExactLeewayBoundary) {
    const std::string t = forgeJwt(header(), claims(), kSecret);
    ASSERT_EQ(rejection(t), "");  // verified in full, remembered
    ASSERT_EQ(rejection(t), "");  // served again
    clock.setMs((kNow + 900) * 1000 + 30 * 1000);
    EXPECT_EQ(rejection(t), "");
    clock.advanceMs(1);
    EXPECT_EQ(rejection(t), "expired");
    EXPECT_EQ(rejection(t), "expired");
}

TEST_F(VerifierTest, ACachedTokenIsNotYetValidWhenTheClockGoesBackBeforeItsIat) {
    const std::string t = forgeJwt(header(), claims(), kSecret);
    ASSERT_EQ(rejection(t), "");
    clock.setMs(kStartMs - 30 * 1000);  // iat == now + leeway: still accepted
    EXPECT_EQ(rejection(t), "");
    clock.advanceMs(-1);
    EXPECT_EQ(rejection(t), "iat_in_future");
}

TEST_F(VerifierTest, ACachedTokenWithNbfIsRefusedBeforeItsNbf) {
    json c = claims();
    c["nbf"] = kNow + 100;
    const std::string t = forgeJwt(header(), c, kSecret);
    EXPECT_EQ(rejection(t), "not_yet_valid");
    clock.setMs((kNow + 100) * 1000 - 30 * 1000);
    EXPECT_EQ(rejection(t), "");
    EXPECT_EQ(rejection(t), "");
    clock.advanceMs(-1);
    EXPECT_EQ(rejection(t), "not_yet_valid");
}

TEST_F(VerifierTest, TamperingWithACachedTokenIsStillRefused) {
    const std::string good = forgeJwt(header(), claims(), kSecret);
    ASSERT_EQ(rejection(good), "");
    std::string badSignature = good;
    char& c = badSignature[badSignature.size() - 2];
    c = c == 'A' ? 'B' : 'A';
    EXPECT_EQ(rejection(badSignature), "bad_signature");
    json other = claims();
    other["sub"] = "1";
    const std::string o = forgeJwt(header(), other, kSecret);
    const std::string spliced = good.substr(0, good.find('.')) +
                                o.substr(o.find('.'), o.rfind('.') - o.find('.')) +
                                good.substr(good.rfind('.'));
    EXPECT_EQ(rejection(spliced), "bad_signature");
    EXPECT_EQ(rejection(good + "A"), "bad_signature");  // 33 bytes of signature
    // One character fewer: its last character's unused bits decide which of the two.
    const std::string shorter = rejection(good.substr(0, good.size() - 1));
    EXPECT_TRUE(shorter == "bad_signature" || shorter == "malformed") << shorter;
    EXPECT_EQ(rejection(good), "");
}

TEST_F(VerifierTest, ACachedTokenIsNotAcceptedByAServiceWithAnotherKey) {
    const std::string t = forgeJwt(header(), claims(), kSecret);
    ASSERT_EQ(rejection(t), "");
    TokenKit other(clock, "authsvc", "authsvc-clients", 30'000, std::string(40, 'x'));
    const Verified v = other.verifier.verifyToken(t);
    ASSERT_FALSE(v);
    EXPECT_EQ(v.reason, Reason::BadSignature);
}

TEST_F(VerifierTest, AServedAgainTokenHasTheSameClaims) {
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
