// Bearer authentication (RFC 6750 table of API.md), /api/protected on both paths, /api/me.
#include <functional>
#include <map>
#include <sstream>

#include "support/Harness.h"

namespace it {
namespace {

const std::string kInvalidTokenPrefix =
    "Bearer realm=\"authsvc\", error=\"invalid_token\", "
    "error_description=\"";

void expectInvalidToken(const HttpResponse& r) {
    expectError(r, 401, "invalid_token");
    const std::string www = r.header("WWW-Authenticate").value_or("<missing>");
    EXPECT_EQ(www.rfind(kInvalidTokenPrefix, 0), 0u) << www;
    EXPECT_GT(www.size(), kInvalidTokenPrefix.size() + 1) << "empty error_description: " << www;
    EXPECT_EQ(www.back(), '"') << www;
}

class BearerAnyBackendTest : public ServiceTest {
  protected:
    // A token the service must accept, except for what `mutate` changes.
    std::string forge(const std::function<void(json& header, json& claims)>& mutate,
                      const std::string& secret = "") {
        json header = defaultJwtHeader();
        json claims = validClaims("4242");
        mutate(header, claims);
        return signHs256(header, claims, secret.empty() ? server->secret() : secret);
    }
    HttpResponse callProtected(const std::string& token) {
        return client->getWithToken("/api/protected", token);
    }
};

TEST_F(BearerAnyBackendTest, NoAuthorizationHeaderIs401MissingToken) {
    for (const std::string path : {"/api/protected", "/api/protected-resource", "/api/me"}) {
        const HttpResponse r = client->get(path);
        expectError(r, 401, "missing_token");
        EXPECT_EQ(r.header("WWW-Authenticate").value_or("<missing>"), kRealm) << path << r;
    }
}

TEST_F(BearerAnyBackendTest, AuthorizationThatIsNotBearerIs400InvalidRequest) {
    const std::string valid = forge([](json&, json&) {});
    for (const std::string& value : std::vector<std::string>{
             "Basic dXNlcjpwYXNzd29yZA==", "Token " + valid, "Bearer", valid}) {
        const HttpResponse r = client->get("/api/protected", {"Authorization: " + value});
        expectError(r, 400, "invalid_request");
        EXPECT_EQ(r.header("WWW-Authenticate").value_or("<missing>"),
                  "Bearer realm=\"authsvc\", error=\"invalid_request\"")
            << "Authorization: " << value << "\n"
            << r;
    }
}

TEST_F(BearerAnyBackendTest, RealAccessTokenWorksOnBothProtectedPaths) {
    const auto [email, id] = newUser();
    const Tokens t = login(*client, email, kPassword);
    for (const std::string path : {"/api/protected", "/api/protected-resource"}) {
        const HttpResponse r = client->getWithToken(path, t.access);
        ASSERT_EQ(r.status, 200) << path << r;
        const json j = r.jsonBody();
        EXPECT_EQ(j["data"], "This is a protected resource.") << r;
        EXPECT_EQ(j["sub"], std::to_string(id)) << r;
        EXPECT_TRUE(r.hasHeader("X-Request-Id"));
    }
}

TEST_F(BearerAnyBackendTest, AnyTokenSignedWithTheKeyThatPassesTheChecksIsAccepted) {
    // Verified from the token alone: a user id the database has never seen is fine here.
    const HttpResponse r = callProtected(forge([](json&, json&) {}));
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_EQ(r.jsonBody()["sub"], "4242");
}

TEST_F(BearerAnyBackendTest, TypMayBeAbsent) {
    const HttpResponse r = callProtected(forge([](json& h, json&) { h.erase("typ"); }));
    EXPECT_EQ(r.status, 200) << r;
}

TEST_F(BearerAnyBackendTest, BadSignatureIsInvalidToken) {
    expectInvalidToken(callProtected(forge([](json&, json&) {}, randomString(48))));
    // Flip the last signature character of a real token.
    // (A middle character: the last one of a base64url HMAC carries 2 unused bits.)
    std::string t = forge([](json&, json&) {});
    char& ch = t[t.size() - 10];
    ch = ch == 'A' ? 'Q' : 'A';
    expectInvalidToken(callProtected(t));
    // Signature stripped.
    t = forge([](json&, json&) {});
    expectInvalidToken(callProtected(t.substr(0, t.rfind('.') + 1)));
}

TEST_F(BearerAnyBackendTest, MalformedTokensAreInvalidToken) {
    const std::string valid = forge([](json&, json&) {});
    for (const std::string& bad :
         {std::string("abc"), std::string("a.b.c"), std::string("..."), valid + ".extra",
          valid.substr(valid.find('.') + 1), std::string("e30.e30.e30"),
          base64UrlEncode("not json") + "." + base64UrlEncode("{}") + ".sig"}) {
        expectInvalidToken(callProtected(bad));
    }
}

TEST_F(BearerAnyBackendTest, AlgNoneIsRejected) {
    json h{{"alg", "none"}, {"typ", "JWT"}};
    const std::string unsigned_ =
        base64UrlEncode(h.dump()) + "." + base64UrlEncode(validClaims("1").dump()) + ".";
    expectInvalidToken(callProtected(unsigned_));
    // "none" with a (meaningless) HMAC attached.
    expectInvalidToken(callProtected(forge([](json& hh, json&) { hh["alg"] = "none"; })));
}

TEST_F(BearerAnyBackendTest, OtherAlgorithmsAreRejectedEvenWithTheRightKey) {
    // The HMAC is valid HS256 under the right secret; only the header's alg differs.
    for (const char* alg : {"HS384", "HS512", "RS256", "ES256", "PS256", ""}) {
        expectInvalidToken(callProtected(forge([alg](json& h, json&) { h["alg"] = alg; })));
    }
    expectInvalidToken(callProtected(forge([](json& h, json&) { h.erase("alg"); })));
}

TEST_F(BearerAnyBackendTest, AlgNameIsCaseSensitive) {
    // RFC 7515: "alg" values are case-sensitive; "hs256" is not the configured HS256.
    for (const char* alg : {"hs256", "Hs256"}) {
        expectInvalidToken(callProtected(forge([alg](json& h, json&) { h["alg"] = alg; })));
    }
}

TEST_F(BearerAnyBackendTest, WrongTypIsRejected) {
    for (const char* typ : {"at+jwt", "JWE", "xyz"}) {
        expectInvalidToken(callProtected(forge([typ](json& h, json&) { h["typ"] = typ; })));
    }
}

// A member named twice in the header or the claims: refused, not "the last one wins"
// (RFC 7515 5.2, RFC 7519 7.2 allow either; another verifier might read the first).
TEST_F(BearerAnyBackendTest, RepeatedMemberNamesAreRejected) {
    std::string claims = validClaims("4242").dump();
    ASSERT_EQ(
        callProtected(signHs256Text(defaultJwtHeader().dump(), claims, server->secret())).status,
        200);
    claims.pop_back();  // reopen the object
    expectInvalidToken(callProtected(
        signHs256Text(defaultJwtHeader().dump(), claims + R"(,"sub":"1"})", server->secret())));
    expectInvalidToken(callProtected(signHs256Text(R"({"alg":"none","typ":"JWT","alg":"HS256"})",
                                                   validClaims("4242").dump(), server->secret())));
}

TEST_F(BearerAnyBackendTest, WrongOrMissingIssuerIsRejected) {
    expectInvalidToken(callProtected(forge([](json&, json& c) { c["iss"] = "evil"; })));
    expectInvalidToken(callProtected(forge([](json&, json& c) { c.erase("iss"); })));
}

TEST_F(BearerAnyBackendTest, WrongOrMissingAudienceIsRejected) {
    expectInvalidToken(callProtected(forge([](json&, json& c) { c["aud"] = "someone-else"; })));
    expectInvalidToken(callProtected(forge([](json&, json& c) { c.erase("aud"); })));
}

TEST_F(BearerAnyBackendTest, HugeBearerTokenIsRejectedCleanly) {
    const HttpResponse r = callProtected(std::string(12000, 'a'));
    EXPECT_TRUE(r.status == 400 || r.status == 401 || r.status == 413 || r.status == 431) << r;
    EXPECT_NE(r.status, 200);
    EXPECT_EQ(client->get("/healthz").status, 200);
}

TEST_F(BearerAnyBackendTest, NotYetValidIsRejectedBeyondLeeway) {
    expectInvalidToken(
        callProtected(forge([](json&, json& c) { c["nbf"] = nowSeconds() + 3600; })));
    // Inside the 30 s default leeway it is accepted.
    const HttpResponse r =
        callProtected(forge([](json&, json& c) { c["nbf"] = nowSeconds() + 5; }));
    EXPECT_EQ(r.status, 200) << r;
}

TEST_F(BearerAnyBackendTest, ExpiredBeyondLeewayIs401WithExpiredMessage) {
    const HttpResponse r = callProtected(forge([](json&, json& c) {
        c["iat"] = nowSeconds() - 7200;
        c["exp"] = nowSeconds() - 3600;
    }));
    expectInvalidToken(r);
    EXPECT_EQ(r.message(), "Access token has expired") << r;
    // 40 s past exp is beyond the 30 s leeway as well.
    expectInvalidToken(callProtected(forge([](json&, json& c) { c["exp"] = nowSeconds() - 40; })));
}

TEST_F(BearerAnyBackendTest, ExpiredWithinLeewayIsAccepted) {
    const HttpResponse r =
        callProtected(forge([](json&, json& c) { c["exp"] = nowSeconds() - 5; }));
    EXPECT_EQ(r.status, 200) << r;
}

TEST_F(BearerAnyBackendTest, TokenWithoutExpIsRejected) {
    expectInvalidToken(callProtected(forge([](json&, json& c) { c.erase("exp"); })));
    expectInvalidToken(callProtected(forge([](json&, json& c) { c["exp"] = "tomorrow"; })));
}

TEST_F(BearerAnyBackendTest, SecretPrefixOrEmptyKeyDoesNotVerify) {
    // Signed with an empty key / a truncated key: libjwt's classic pitfalls.
    expectInvalidToken(callProtected(forge([](json&, json&) {}, std::string(1, '\0'))));
    expectInvalidToken(callProtected(forge([](json&, json&) {}, server->secret().substr(0, 32))));
}

class MeTest : public ServiceTest {};

TEST_F(MeTest, ReturnsTheCurrentUser) {
    const std::string email = uniqueEmail();
    const HttpResponse reg = registerUser(*client, email, kPassword);
    ASSERT_EQ(reg.status, 201) << reg;
    const Tokens t = login(*client, email, kPassword);
    const HttpResponse r = client->getWithToken("/api/me", t.access);
    ASSERT_EQ(r.status, 200) << r;
    const json j = r.jsonBody();
    EXPECT_EQ(j["id"], reg.jsonBody()["id"]);
    EXPECT_EQ(j["email"], email);
    EXPECT_EQ(j["created_at"], reg.jsonBody()["created_at"]);
    EXPECT_FALSE(j.contains("password"));
    EXPECT_FALSE(j.contains("password_hash"));
}

TEST_F(MeTest, ValidTokenForUnknownUserIsInvalidToken) {
    // A correctly signed token whose user does not exist (never did).
    json claims = validClaims("987654");
    const HttpResponse r =
        client->getWithToken("/api/me", signHs256(defaultJwtHeader(), claims, server->secret()));
    expectInvalidToken(r);
}

TEST_F(MeTest, OddSubjectsAreInvalidTokenNot500) {
    // Correctly signed, but the subject is not a user id this service could have issued.
    for (const json& sub : {json("abc"), json("-1"), json("0"), json("99999999999999999999999"),
                            json(""), json("1 OR 1=1"), json(42), json(nullptr)}) {
        json claims = validClaims("1");
        claims["sub"] = sub;
        const HttpResponse r = client->getWithToken(
            "/api/me", signHs256(defaultJwtHeader(), claims, server->secret()));
        EXPECT_EQ(r.status, 401) << "sub " << sub.dump() << ": " << r;
        EXPECT_EQ(r.errorCode(), "invalid_token") << "sub " << sub.dump() << ": " << r;
    }
    EXPECT_EQ(client->get("/healthz").status, 200);
}

// authsvc_token_rejections_total{reason}: each refusal counts once under the verify
// library's name for it; the answers stay those of the table above.
TEST_F(BearerAnyBackendTest, RefusalsAreCountedByReason) {
    auto counts = [&] {
        std::map<std::string, long> out;
        std::istringstream lines(client->get("/metrics").body);
        const std::string prefix = "authsvc_token_rejections_total{reason=\"";
        for (std::string line; std::getline(lines, line);) {
            if (line.rfind(prefix, 0) != 0) continue;
            const size_t end = line.find('"', prefix.size());
            out[line.substr(prefix.size(), end - prefix.size())] = std::stol(line.substr(end + 3));
        }
        return out;
    };
    const auto before = counts();
    for (const char* reason : {"missing_token", "not_bearer", "malformed", "bad_signature",
                               "expired", "issuer", "unknown_kid"}) {
        EXPECT_TRUE(before.count(reason)) << reason;
    }
    expectError(client->get("/api/protected"), 401, "missing_token");
    expectError(client->get("/api/protected", {"Authorization: Basic dXNlcjpw"}), 400,
                "invalid_request");
    expectInvalidToken(callProtected("a.b.c"));
    expectInvalidToken(callProtected(forge([](json&, json&) {}, randomString(48))));
    const HttpResponse expired =
        callProtected(forge([](json&, json& c) { c["exp"] = nowSeconds() - 3600; }));
    expectInvalidToken(expired);
    EXPECT_EQ(expired.header("WWW-Authenticate").value_or(""),
              kInvalidTokenPrefix + "Access token has expired\"");
    expectInvalidToken(callProtected(forge([](json&, json& c) { c["exp"] = 1; })));
    ASSERT_EQ(callProtected(forge([](json&, json&) {})).status, 200);  // not counted
    const auto after = counts();
    auto grew = [&](const std::string& reason) { return after.at(reason) - before.at(reason); };
    EXPECT_EQ(grew("missing_token"), 1);
    EXPECT_EQ(grew("not_bearer"), 1);
    EXPECT_EQ(grew("malformed"), 1);
    EXPECT_EQ(grew("bad_signature"), 1);
    EXPECT_EQ(grew("expired"), 2);
    EXPECT_EQ(grew("issuer"), 0);
}

TEST_F(MeTest, DeletedUserIsInvalidToken) {
    const auto [email, id] = newUser();
    const Tokens t = login(*client, email, kPassword);
    ASSERT_EQ(client->getWithToken("/api/me", t.access).status, 200);
    try {
        if (mysqlMode()) {
            mysqlExec(
                server->mysqlDsn(),
                "SET FOREIGN_KEY_CHECKS = 0; DELETE FROM users WHERE id = " + std::to_string(id));
        } else if (pgMode()) {
            auto users = server->pgFindTable("users", "refresh");
            if (!users) GTEST_SKIP() << "no users table found in the schema";
            // As a superuser, "replica" skips the foreign keys' triggers.
            pgExec(server->pgDsn(), "SET session_replication_role = replica; DELETE FROM " +
                                        *users + " WHERE id = " + std::to_string(id));
        } else {
            SqliteAdmin db(server->dbPath());
            auto users = db.findTable("users", "refresh");
            if (!users) GTEST_SKIP() << "no users table found in the schema";
            db.exec("PRAGMA foreign_keys = OFF");
            db.exec("DELETE FROM " + *users + " WHERE id = " + std::to_string(id));
        }
    } catch (const std::exception& e) {
        GTEST_SKIP() << "could not delete the user directly: " << e.what();
    }
    expectInvalidToken(client->getWithToken("/api/me", t.access));
    // /api/protected does not look at the database at all.
    EXPECT_EQ(client->getWithToken("/api/protected", t.access).status, 200);
}

}  // namespace
}  // namespace it
