// The example resource service (examples/resource_service) in front of a real authsvc that
// signs with ES256 or RS256 keys: it verifies authsvc's tokens through authsvc's JWKS,
// refuses forged ones with authsvc's RFC 6750 answers, and follows a key rotation (SIGHUP)
// through its unknown-kid refetch and its JWKS refresh.
#include <signal.h>

#include <fstream>
#include <thread>

#include "support/Harness.h"

namespace it {
namespace {

const std::string kIssuer = "authsvc";
const std::string kAudience = "authsvc-clients";
const std::string kPath = "/api/protected-resource";
const std::string kChallengePrefix =
    "Bearer realm=\"resource-service\", error=\"invalid_token\", error_description=\"";

void expectInvalidToken(const HttpResponse& r, const std::string& what) {
    SCOPED_TRACE(what);
    expectError(r, 401, "invalid_token");
    const std::string www = r.header("WWW-Authenticate").value_or("<missing>");
    EXPECT_EQ(www.rfind(kChallengePrefix, 0), 0u) << www;
    EXPECT_GT(www.size(), kChallengePrefix.size() + 1) << www;
}

size_t count(const std::string& text, const std::string& needle) {
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
        ++n;
    return n;
}

// authsvc with a keys directory and one generated key that signs (jwt.secret empty), and
// the example service pointed at its JWKS.
class ResourceServiceAnyBackendTest : public ::testing::Test {
  protected:
    void startAuthsvc(const std::string& algorithm, const json& extra = json::object()) {
        json overrides = {{"jwt", {{"secret", ""}, {"keys_dir", keysDir().string()}}}};
        overrides.merge_patch(extra);
        server = std::make_unique<ServerProcess>(overrides);
        server->writeConfig();
        signingKid = generateKey(algorithm);
        ASSERT_FALSE(signingKid.empty());
        server->config()["jwt"]["signing_kid"] = signingKid;
        ASSERT_TRUE(server->start()) << server->logTail();
        client = std::make_unique<HttpClient>(server->port());
    }
    fs::path keysDir() const { return fs::temp_directory_path() / ("authsvc-keys-" + tag_); }
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(keysDir(), ec);
    }
    // `authsvc keys generate` with the server's config: the new kid.
    std::string generateKey(const std::string& algorithm) {
        const CommandResult r =
            runAuthsvc({"keys", "generate", "--config", server->configPath().string(),
                        "--algorithm", algorithm},
                       server->dir());
        EXPECT_EQ(r.exitCode, 0) << r.err;
        auto lines = splitLines(r.out);
        return lines.empty() ? "" : lines.front();
    }
    std::string privatePem(const std::string& kid) const {
        return readFileBytes(keysDir() / (kid + ".pem"));
    }
    std::string jwksUrl() const {
        return "http://127.0.0.1:" + std::to_string(server->port()) + "/.well-known/jwks.json";
    }
    std::unique_ptr<ResourceServiceProcess> startExample(const std::string& issuer = kIssuer,
                                                         const std::string& audience = kAudience) {
        auto p = std::make_unique<ResourceServiceProcess>(jwksUrl(), issuer, audience);
        EXPECT_TRUE(p->start()) << p->log();
        return p;
    }
    HttpResponse callExample(const ResourceServiceProcess& example, const std::string& token) {
        HttpClient c(example.port(), Peer::OtherService);
        return c.getWithToken(kPath, token);
    }
    // A registered user's access token from authsvc, and the user's id.
    std::pair<std::string, long long> loginNewUser() {
        const std::string email = uniqueEmail();
        const HttpResponse r = registerUser(*client, email, kPassword);
        EXPECT_EQ(r.status, 201) << r;
        const long long id = r.jsonBody().value("id", -1LL);
        return {login(*client, email, kPassword).access, id};
    }
    // SIGHUP and wait for the n-th "signing keys reloaded" line.
    void reload(size_t nth) {
        ASSERT_TRUE(server->signal(SIGHUP));
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (count(server->log(), "signing keys reloaded") < nth &&
               std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        ASSERT_EQ(count(server->log(), "signing keys reloaded"), nth) << server->logTail();
    }
    // Claims the example service accepts (for tokens made by hand).
    static json claims(const std::string& sub) {
        const long long now = nowSeconds();
        return json{
            {"iss", kIssuer}, {"aud", kAudience}, {"sub", sub}, {"iat", now}, {"exp", now + 300}};
    }

    std::string tag_ = randomString(12);
    std::unique_ptr<ServerProcess> server;
    std::unique_ptr<HttpClient> client;
    std::string signingKid;
};

class ResourceServiceAlgorithmAnyBackendTest : public ResourceServiceAnyBackendTest,
                                               public ::testing::WithParamInterface<std::string> {};

TEST_P(ResourceServiceAlgorithmAnyBackendTest, AcceptsAuthsvcTokensThroughTheJwks) {
    ASSERT_NO_FATAL_FAILURE(startAuthsvc(GetParam()));
    const HttpResponse jwks = client->get("/.well-known/jwks.json");
    ASSERT_EQ(jwks.status, 200) << jwks;
    ASSERT_EQ(jwks.jsonBody()["keys"].size(), 1u) << jwks;
    EXPECT_EQ(jwks.jsonBody()["keys"][0]["kid"], signingKid);
    auto example = startExample();

    const auto [token, id] = loginNewUser();
    const auto decoded = decodeJwt(token);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->first["kid"], signingKid);
    EXPECT_EQ(decoded->first["alg"], GetParam());

    const HttpResponse r = callExample(*example, token);
    ASSERT_EQ(r.status, 200) << r;
    EXPECT_EQ(r.jsonBody()["data"], "This is a protected resource.");
    EXPECT_EQ(r.jsonBody()["sub"], std::to_string(id));
    EXPECT_NE(r.header("Content-Type").value_or("").find("application/json"), std::string::npos);
    // The same token again (from the example's verified-token cache).
    EXPECT_EQ(callExample(*example, token).status, 200);
    // The same token signed by hand with the key's private PEM is equally good.
    json header = {{"alg", GetParam()}, {"typ", "JWT"}, {"kid", signingKid}};
    const HttpResponse own =
        callExample(*example, signWithPem(header, claims("by-hand"), privatePem(signingKid)));
    ASSERT_EQ(own.status, 200) << own;
    EXPECT_EQ(own.jsonBody()["sub"], "by-hand");
}

INSTANTIATE_TEST_SUITE_P(Keys, ResourceServiceAlgorithmAnyBackendTest,
                         ::testing::Values("ES256", "RS256"));

TEST_F(ResourceServiceAnyBackendTest, AnswersLikeAuthsvcWithoutAValidBearerToken) {
    ASSERT_NO_FATAL_FAILURE(startAuthsvc("ES256"));
    auto example = startExample();
    HttpClient c(example->port(), Peer::OtherService);

    HttpResponse r = c.get(kPath);
    expectError(r, 401, "missing_token");
    EXPECT_EQ(r.header("WWW-Authenticate").value_or("<missing>"),
              "Bearer realm=\"resource-service\"");

    for (const std::string value : {"Basic dXNlcjpwYXNzd29yZA==", "Bearer", "Bearer a b"}) {
        r = c.get(kPath, {"Authorization: " + value});
        expectError(r, 400, "invalid_request");
        EXPECT_EQ(r.header("WWW-Authenticate").value_or("<missing>"),
                  "Bearer realm=\"resource-service\", error=\"invalid_request\"")
            << value;
    }
    expectInvalidToken(c.getWithToken(kPath, "not-a-jwt"), "garbage");

    r = c.get("/api/other");
    expectError(r, 404, "not_found");
    r = c.postJson(kPath, json::object());
    expectError(r, 405, "method_not_allowed");
}

// A client that sends no Connection header (curl, Go, wrk) keeps one connection for
// several requests: HTTP/1.1's default is keep-alive.
TEST_F(ResourceServiceAnyBackendTest, KeepsAnHttp11ConnectionWithoutAConnectionHeader) {
    startAuthsvc("ES256");
    const std::string token = loginNewUser().first;
    auto example = startExample();
    RawConnection conn(example->port());
    ASSERT_TRUE(conn.ok());
    const std::string request = "GET " + kPath + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                                "Authorization: Bearer " + token + "\r\n\r\n";
    for (int i = 0; i < 2; ++i) {
        SCOPED_TRACE(i);
        ASSERT_TRUE(conn.send(request));
        const RawResponse r = conn.readResponse(std::chrono::seconds(5));
        EXPECT_EQ(r.status, 200) << r.raw;
        EXPECT_EQ(r.raw.find("Connection: Close"), std::string::npos) << r.raw;
        EXPECT_FALSE(r.closed);
    }
}

TEST_F(ResourceServiceAnyBackendTest, RefusesForgedExpiredAndForeignTokens) {
    ASSERT_NO_FATAL_FAILURE(startAuthsvc("ES256"));
    auto example = startExample();
    const auto [token, id] = loginNewUser();
    ASSERT_EQ(callExample(*example, token).status, 200);
    const std::string pem = privatePem(signingKid);
    const json header = {{"alg", "ES256"}, {"typ", "JWT"}, {"kid", signingKid}};

    // Expired (past the 30 s leeway), signed with the real key.
    json expired = claims("7");
    expired["iat"] = nowSeconds() - 600;
    expired["exp"] = nowSeconds() - 300;
    expectInvalidToken(callExample(*example, signWithPem(header, expired, pem)), "expired");

    // Tampered payload: another subject under the real signature.
    const size_t d1 = token.find('.');
    const size_t d2 = token.find('.', d1 + 1);
    json payload = decodeJwt(token)->second;
    payload["sub"] = payload["sub"].get<std::string>() + "0";
    const std::string tampered =
        token.substr(0, d1) + "." + base64UrlEncode(payload.dump()) + token.substr(d2);
    expectInvalidToken(callExample(*example, tampered), "tampered payload");

    // alg none, with and without the real kid.
    json none = {{"alg", "none"}, {"typ", "JWT"}, {"kid", signingKid}};
    const std::string unsignedBody =
        base64UrlEncode(none.dump()) + "." + base64UrlEncode(claims("7").dump());
    expectInvalidToken(callExample(*example, unsignedBody + "."), "alg none");
    none.erase("kid");
    expectInvalidToken(callExample(*example, base64UrlEncode(none.dump()) + "." +
                                                 base64UrlEncode(claims("7").dump()) + "."),
                       "alg none without kid");

    // Algorithm confusion: HS256 keyed with the public PEM or the JWK, with and without kid.
    const std::string publicPem = publicPemOf(pem);
    const std::string jwk = client->get("/.well-known/jwks.json").jsonBody()["keys"][0].dump();
    for (const std::string& secret : {publicPem, jwk}) {
        json hs = {{"alg", "HS256"}, {"typ", "JWT"}, {"kid", signingKid}};
        expectInvalidToken(callExample(*example, signHs256(hs, claims("7"), secret)),
                           "HS256 keyed with public material, with kid");
        hs.erase("kid");
        expectInvalidToken(callExample(*example, signHs256(hs, claims("7"), secret)),
                           "HS256 keyed with public material, without kid");
    }

    // A key authsvc never published: unknown kid; and the attacker's key under the real
    // kid, with jku/jwk headers pointing at it (never followed).
    fs::create_directories(server->dir() / "attacker");
    const CommandResult made =
        runAuthsvc({"keys", "generate", "--algorithm", "ES256", "--kid", "attacker"}, server->dir(),
                   "", {{"AUTHSVC_JWT_KEYS_DIR", (server->dir() / "attacker").string()}});
    ASSERT_EQ(made.exitCode, 0) << made.err;
    const std::string attackerPem = readFileBytes(server->dir() / "attacker" / "attacker.pem");
    json unknown = {{"alg", "ES256"}, {"typ", "JWT"}, {"kid", "attacker"}};
    expectInvalidToken(callExample(*example, signWithPem(unknown, claims("7"), attackerPem)),
                       "unknown kid");
    json spoof = header;
    spoof["jku"] = "http://127.0.0.1:1/jwks.json";
    spoof["jwk"] = json::parse(jwk);
    expectInvalidToken(callExample(*example, signWithPem(spoof, claims("7"), attackerPem)),
                       "attacker's key under the real kid");

    // An RSA signature under the ES256 key's kid.
    const std::string rsaKid = generateKey("RS256");  // in keys_dir, but not reloaded
    json rsa = {{"alg", "RS256"}, {"typ", "JWT"}, {"kid", signingKid}};
    expectInvalidToken(callExample(*example, signWithPem(rsa, claims("7"), privatePem(rsaKid))),
                       "RS256 under an ES256 kid");

    // The real token at a service that expects another issuer or audience.
    auto otherIssuer = startExample("someone-else", kAudience);
    expectInvalidToken(callExample(*otherIssuer, token), "wrong iss");
    auto otherAudience = startExample(kIssuer, "another-api");
    expectInvalidToken(callExample(*otherAudience, token), "wrong aud");
    // ...and still accepted where it belongs.
    EXPECT_EQ(callExample(*example, token).status, 200);
}

// The three rotation steps of the README at the example service: a new key is published,
// then signs (the example learns it through its unknown-kid refetch), then the old key is
// removed (the example drops it at its next JWKS refresh, at least 30 s later).
TEST_F(ResourceServiceAnyBackendTest, FollowsAKeyRotationWithoutRestart) {
    ASSERT_NO_FATAL_FAILURE(startAuthsvc("ES256", {{"jwt", {{"jwks_max_age", "1s"}}}}));
    auto example = startExample();
    const std::string oldKid = signingKid;
    const auto [oldToken, id] = loginNewUser();
    ASSERT_EQ(callExample(*example, oldToken).status, 200);

    // 1. A new key, published; the old one still signs.
    const std::string newKid = generateKey("ES256");
    ASSERT_FALSE(newKid.empty());
    ASSERT_NO_FATAL_FAILURE(reload(1));
    EXPECT_EQ(client->get("/.well-known/jwks.json").jsonBody()["keys"].size(), 2u);

    // 2. The new key signs. The example has not fetched the JWKS since it started.
    server->config()["jwt"]["signing_kid"] = newKid;
    server->writeConfig();
    ASSERT_NO_FATAL_FAILURE(reload(2));
    const std::string email = uniqueEmail();
    ASSERT_EQ(registerUser(*client, email, kPassword).status, 201);
    const std::string newToken = login(*client, email, kPassword).access;
    ASSERT_EQ(decodeJwt(newToken)->first["kid"], newKid);
    HttpResponse r = callExample(*example, newToken);
    ASSERT_EQ(r.status, 200) << r << example->log();
    const auto refetched = std::chrono::steady_clock::now();
    EXPECT_EQ(callExample(*example, oldToken).status, 200);  // the old key still verifies
    EXPECT_EQ(client->getWithToken("/api/protected", oldToken).status, 200);

    // 3. The old key goes: authsvc refuses its tokens at once, the example at its refresh.
    fs::remove(keysDir() / (oldKid + ".pem"));
    ASSERT_NO_FATAL_FAILURE(reload(3));
    expectError(client->getWithToken("/api/protected", oldToken), 401, "invalid_token");
    if (serverDbMode()) return;  // the rest waits ~30 s and does not depend on the database
    EXPECT_EQ(callExample(*example, oldToken).status, 200);  // its JWKS copy is fresh
    // jwks_max_age 1s counts as the minimum of 30 s at the example service.
    const auto due = refetched + std::chrono::seconds(30);
    std::this_thread::sleep_until(due - std::chrono::seconds(2));
    EXPECT_EQ(callExample(*example, oldToken).status, 200) << "refreshed before 30 s";
    const auto deadline = due + std::chrono::seconds(15);
    do {
        r = callExample(*example, oldToken);
        if (r.status == 401) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
    } while (std::chrono::steady_clock::now() < deadline);
    expectInvalidToken(r, "the removed key's token after the example's refresh");
    EXPECT_EQ(callExample(*example, newToken).status, 200);
}

}  // namespace
}  // namespace it
