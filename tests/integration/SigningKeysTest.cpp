// Signing keys end to end: ES256 and RS256 tokens with kid, the JWKS, forged tokens
// refused, rotation in three SIGHUP steps without a restart or a refused valid token,
// the move from HS256, a failed reload, and the `authsvc keys` commands.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "support/Harness.h"
#include "verify/Keys.h"

namespace it {
namespace {

// header.payload signed with a PEM private key (the harness's signer, key first).
std::string signedBy(const std::string& pem, const json& header, const json& payload) {
    return signWithPem(header, payload, pem);
}

class SigningKeysAnyBackendTest : public ::testing::Test {
  protected:
    // A server whose keys live in <dir>/keys, with `secret` as jwt.secret ("" for none).
    void makeServer(const std::string& secret) {
        http.reset();
        server = std::make_unique<ServerProcess>(json{{"jwt", {{"secret", secret}}}});
        keysDir = server->dir() / "keys";
    }
    // `authsvc keys generate` with this server's config (keys_dir set).
    CommandResult generate(const std::string& algorithm, const std::string& kid) {
        server->config()["jwt"]["keys_dir"] = keysDir.string();
        server->writeConfig();
        std::vector<std::string> args = {"keys",        "generate",
                                         "--config",    server->configPath().string(),
                                         "--algorithm", algorithm};
        if (!kid.empty()) {
            args.push_back("--kid");
            args.push_back(kid);
        }
        return runAuthsvc(args, server->dir());
    }
    CommandResult keysCommand(const std::string& what) {
        return runAuthsvc({"keys", what, "--config", server->configPath().string()}, server->dir());
    }
    void useKeys(const std::string& signingKid) {
        server->config()["jwt"]["keys_dir"] = keysDir.string();
        server->config()["jwt"]["signing_kid"] = signingKid;
    }
    // Rewrites the config and sends SIGHUP; waits until the reload has been counted.
    bool reload() {
        const long before = reloads("success") + reloads("failure");
        server->writeConfig();
        ::kill(server->pid(), SIGHUP);
        for (int i = 0; i < 250; ++i) {
            if (reloads("success") + reloads("failure") > before) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return false;
    }
    long reloads(const std::string& result) {
        const std::string text = client().get("/metrics").body;
        const std::string key = "authsvc_key_reloads_total{result=\"" + result + "\"} ";
        const size_t at = text.find(key);
        return at == std::string::npos ? -1 : std::stol(text.substr(at + key.size()));
    }
    HttpClient& client() {
        if (!http) http = std::make_unique<HttpClient>(server->port());
        return *http;
    }
    // Registers and logs in a fresh user; returns the login body.
    json login() {
        const std::string email = uniqueEmail("keys");
        EXPECT_EQ(client()
                      .postJson("/api/register", {{"email", email}, {"password", "correct horse"}})
                      .status,
                  201);
        auto r = client().postJson("/api/login", {{"email", email}, {"password", "correct horse"}});
        EXPECT_EQ(r.status, 200) << r;
        return r.jsonBody();
    }
    long protectedStatus(const std::string& token) {
        return client().getWithToken("/api/protected", token).status;
    }
    std::string pem(const std::string& kid) { return readFileBytes(keysDir / (kid + ".pem")); }

    std::unique_ptr<ServerProcess> server;
    std::unique_ptr<HttpClient> http;
    fs::path keysDir;
};

TEST_F(SigningKeysAnyBackendTest, Es256AndRs256TokensCarryTheirKidAndTheJwksHasOnlyPublicParts) {
    for (const std::string alg : {"ES256", "RS256"}) {
        makeServer("");
        auto gen = generate(alg, "");
        ASSERT_EQ(gen.exitCode, 0) << gen.err;
        const std::string kid = gen.out.substr(0, gen.out.find('\n'));
        EXPECT_EQ(gen.out, kid + "\n");  // the kid alone
        struct stat st {};
        ASSERT_EQ(::stat((keysDir / (kid + ".pem")).c_str(), &st), 0);
        EXPECT_EQ(st.st_mode & 0777, 0600u);
        useKeys(kid);
        ASSERT_TRUE(server->start()) << server->logTail();
        json b = login();
        const std::string token = b["access_token"];
        auto decoded = decodeJwt(token);
        ASSERT_TRUE(decoded);
        EXPECT_EQ(decoded->first["alg"], alg);
        EXPECT_EQ(decoded->first["kid"], kid);
        EXPECT_EQ(protectedStatus(token), 200);
        // A refresh signs with the key too.
        auto r = client().postJson("/api/refresh_token", {{"refresh_token", b["refresh_token"]}});
        ASSERT_EQ(r.status, 200) << r;
        EXPECT_EQ(decodeJwt(r.jsonBody()["access_token"])->first["kid"], kid);

        auto jwks = client().get("/.well-known/jwks.json");
        ASSERT_EQ(jwks.status, 200);
        EXPECT_EQ(jwks.header("cache-control"), "public, max-age=300");
        json keys = jwks.jsonBody()["keys"];
        ASSERT_EQ(keys.size(), 1u);
        EXPECT_EQ(keys[0]["kid"], kid);
        EXPECT_EQ(keys[0]["alg"], alg);
        EXPECT_EQ(keys[0]["use"], "sig");
        EXPECT_EQ(keys[0]["kty"], alg == "ES256" ? "EC" : "RSA");
        for (const char* priv : {"d", "p", "q", "dp", "dq", "qi"})
            EXPECT_FALSE(keys[0].contains(priv));
        EXPECT_EQ(jwks.body.find("PRIVATE"), std::string::npos);
        // `keys jwks` prints the same document; `keys list` names the signing key.
        EXPECT_EQ(json::parse(keysCommand("jwks").out), jwks.jsonBody());
        auto list = keysCommand("list");
        EXPECT_EQ(list.exitCode, 0) << list.err;
        const std::string thumb = authsvc::verify::thumbprint(authsvc::verify::keyFromJwk(keys[0]));
        EXPECT_EQ(list.out, kid + " " + alg + " private " + thumb + " signing\n");
        server->stop();
    }
}

TEST_F(SigningKeysAnyBackendTest, ForgedAndConfusedTokensAreRefused) {
    makeServer("");
    ASSERT_EQ(generate("ES256", "ec1").exitCode, 0);
    ASSERT_EQ(generate("RS256", "rsa1").exitCode, 0);
    useKeys("ec1");
    ASSERT_TRUE(server->start()) << server->logTail();
    const std::string good = login()["access_token"];
    ASSERT_EQ(protectedStatus(good), 200);
    auto [header, claims] = *decodeJwt(good);
    const json jwks = client().get("/.well-known/jwks.json").jsonBody();
    json ecJwk;
    for (const auto& k : jwks["keys"]) {
        if (k["kid"] == "ec1") ecJwk = k;
    }
    const std::string ecPublicPem = authsvc::verify::publicPem(authsvc::verify::keyFromJwk(ecJwk));
    auto refused = [&](const std::string& token, const std::string& why) {
        auto r = client().getWithToken("/api/protected", token);
        EXPECT_EQ(r.status, 401) << why;
        EXPECT_EQ(r.errorCode(), "invalid_token") << why;
        EXPECT_TRUE(containsI(r.header("www-authenticate").value_or(""), "error=\"invalid_token\""))
            << why;
    };
    // Alg confusion: HS256 keyed with the public PEM or the JWK text.
    refused(signHs256({{"alg", "HS256"}, {"typ", "JWT"}, {"kid", "ec1"}}, claims, ecPublicPem),
            "hs+pem");
    refused(signHs256({{"alg", "HS256"}, {"typ", "JWT"}}, claims, ecPublicPem), "hs+pem no kid");
    refused(signHs256({{"alg", "HS256"}, {"typ", "JWT"}, {"kid", "ec1"}}, claims, ecJwk.dump()),
            "hs+jwk");
    // alg none.
    refused(base64UrlEncode(R"({"alg":"none","kid":"ec1","typ":"JWT"})") + "." +
                base64UrlEncode(claims.dump()) + ".",
            "none");
    // The RSA key signs, the header says ES256 / names the EC key.
    refused(signedBy(pem("rsa1"), {{"alg", "RS256"}, {"kid", "ec1"}, {"typ", "JWT"}}, claims),
            "rs on ec kid");
    refused(signedBy(pem("rsa1"), {{"alg", "RS256"}, {"kid", "nope"}, {"typ", "JWT"}}, claims),
            "unknown kid");
    // The attacker's own key, announced in jwk/jku, under our kid.
    ServerProcess other(json{{"jwt", {{"secret", ""}}}});
    other.config()["jwt"]["keys_dir"] = (other.dir() / "k").string();
    other.writeConfig();
    ASSERT_EQ(
        runAuthsvc({"keys", "generate", "--config", other.configPath().string(), "--kid", "ec1"},
                   other.dir())
            .exitCode,
        0);
    const std::string evilPem = readFileBytes(other.dir() / "k" / "ec1.pem");
    refused(signedBy(evilPem,
                     {{"alg", "ES256"},
                      {"kid", "ec1"},
                      {"typ", "JWT"},
                      {"jku", "http://127.0.0.1:9/jwks.json"}},
                     claims),
            "jku");
    refused(signedBy(evilPem, {{"alg", "ES256"}, {"kid", "ec1"}, {"typ", "JWT"}, {"jwk", ecJwk}},
                     claims),
            "jwk");
    // crit, a tampered payload, expired, wrong iss and aud (all signed with the right key).
    refused(signedBy(pem("ec1"),
                     {{"alg", "ES256"}, {"kid", "ec1"}, {"typ", "JWT"}, {"crit", {"exp"}}}, claims),
            "crit");
    json tampered = claims;
    tampered["sub"] = claims["sub"] == "999" ? "998" : "999";
    refused(good.substr(0, good.find('.')) + "." + base64UrlEncode(tampered.dump()) +
                good.substr(good.rfind('.')),
            "tampered");
    json expired = claims;
    expired["exp"] = nowSeconds() - 120;
    refused(signedBy(pem("ec1"), header, expired), "expired");
    json iss = claims;
    iss["iss"] = "someone-else";
    refused(signedBy(pem("ec1"), header, iss), "iss");
    json aud = claims;
    aud["aud"] = "another-api";
    refused(signedBy(pem("ec1"), header, aud), "aud");
    // And the same claims, signed properly by hand, pass: the refusals are the header's doing.
    EXPECT_EQ(protectedStatus(signedBy(pem("ec1"), header, claims)), 200);
}

TEST_F(SigningKeysAnyBackendTest, RotationInThreeStepsWithoutRestartOrARefusedToken) {
    makeServer("");
    ASSERT_EQ(generate("ES256", "old").exitCode, 0);
    useKeys("old");
    ASSERT_TRUE(server->start()) << server->logTail();
    const pid_t pid = server->pid();
    json first = login();
    const std::string t0 = first["access_token"];

    // 1. A new key is published; the old one still signs.
    ASSERT_EQ(generate("ES256", "new").exitCode, 0);
    ASSERT_TRUE(reload());
    EXPECT_EQ(reloads("success"), 1);
    auto kids = client().get("/.well-known/jwks.json").jsonBody()["keys"];
    EXPECT_EQ(kids.size(), 2u);
    const std::string t1 = login()["access_token"];
    EXPECT_EQ(decodeJwt(t1)->first["kid"], "old");
    EXPECT_EQ(protectedStatus(t0), 200);

    // 2. The new key signs; tokens of the old key still verify. A refresh retried across the
    // switch gets the same successor (the successor key is not a signing key).
    auto rotated =
        client().postJson("/api/refresh_token", {{"refresh_token", first["refresh_token"]}});
    ASSERT_EQ(rotated.status, 200);
    useKeys("new");
    ASSERT_TRUE(reload());
    auto retried =
        client().postJson("/api/refresh_token", {{"refresh_token", first["refresh_token"]}});
    ASSERT_EQ(retried.status, 200) << retried;
    EXPECT_EQ(retried.jsonBody()["refresh_token"], rotated.jsonBody()["refresh_token"]);
    EXPECT_EQ(decodeJwt(retried.jsonBody()["access_token"])->first["kid"], "new");
    const std::string t2 = login()["access_token"];
    EXPECT_EQ(decodeJwt(t2)->first["kid"], "new");
    for (const auto& t : {t0, t1, t2}) EXPECT_EQ(protectedStatus(t), 200);

    // 3. The old file goes: its tokens are refused at once, the new key's still pass.
    fs::remove(keysDir / "old.pem");
    ASSERT_TRUE(reload());
    EXPECT_EQ(protectedStatus(t0), 401);
    EXPECT_EQ(protectedStatus(t1), 401);
    EXPECT_EQ(protectedStatus(t2), 200);
    EXPECT_EQ(client().get("/.well-known/jwks.json").jsonBody()["keys"].size(), 1u);
    EXPECT_EQ(server->pid(), pid);  // never restarted
    EXPECT_TRUE(server->running());
}

TEST_F(SigningKeysAnyBackendTest, MovingFromHs256KeepsTheSecretUntilItsTokensExpire) {
    makeServer(std::string(40, 's'));
    ASSERT_TRUE(server->start()) << server->logTail();
    const std::string hs = login()["access_token"];
    EXPECT_FALSE(decodeJwt(hs)->first.contains("kid"));
    EXPECT_EQ(client().get("/.well-known/jwks.json").jsonBody(), (json{{"keys", json::array()}}));
    ASSERT_EQ(generate("ES256", "ec1").exitCode, 0);
    useKeys("ec1");
    ASSERT_TRUE(reload());
    EXPECT_EQ(protectedStatus(hs), 200);  // the secret still verifies tokens without kid
    const std::string es = login()["access_token"];
    EXPECT_EQ(decodeJwt(es)->first["alg"], "ES256");
    server->config()["jwt"]["secret"] = "";
    ASSERT_TRUE(reload());
    EXPECT_EQ(protectedStatus(hs), 401);
    EXPECT_EQ(protectedStatus(es), 200);
}

TEST_F(SigningKeysAnyBackendTest, AFailedReloadKeepsServingWithTheKeysInForce) {
    makeServer("");
    ASSERT_EQ(generate("ES256", "ec1").exitCode, 0);
    useKeys("ec1");
    ASSERT_TRUE(server->start()) << server->logTail();
    const std::string t = login()["access_token"];
    { std::ofstream(keysDir / "broken.pem") << "-----BEGIN PRIVATE KEY-----\nnope\n"; }
    ASSERT_TRUE(reload());
    EXPECT_EQ(reloads("failure"), 1);
    EXPECT_NE(server->waitForLog("not reloaded", std::chrono::seconds(2)).find("broken.pem"),
              std::string::npos);
    fs::remove(keysDir / "broken.pem");
    useKeys("missing");
    ASSERT_TRUE(reload());
    EXPECT_EQ(reloads("failure"), 2);
    EXPECT_EQ(protectedStatus(t), 200);
    EXPECT_EQ(decodeJwt(login()["access_token"])->first["kid"], "ec1");
}

TEST_F(SigningKeysAnyBackendTest, BadKeysStopStartUpAndKeysNeverOverwrite) {
    makeServer("");
    ASSERT_EQ(generate("ES256", "ec1").exitCode, 0);
    const std::string before = pem("ec1");
    auto again = generate("ES256", "ec1");
    EXPECT_NE(again.exitCode, 0);
    EXPECT_NE(again.err.find("exists"), std::string::npos) << again.err;
    EXPECT_EQ(pem("ec1"), before);
    useKeys("nope");
    EXPECT_FALSE(server->start());
    EXPECT_NE(server->log().find("signing_kid"), std::string::npos) << server->logTail();
    useKeys("ec1");
    ::chmod((keysDir / "ec1.pem").c_str(), 0644);
    ASSERT_TRUE(server->start()) << server->logTail();
    EXPECT_NE(
        server->waitForLog("readable by group or others", std::chrono::seconds(2)).find("ec1.pem"),
        std::string::npos);
}

// Whoever can write into keys_dir or a key file could add a trusted key: the service does
// not start with one that group or others can write, or that belongs to another user.
TEST_F(SigningKeysAnyBackendTest, WritableOrForeignKeysStopStartUp) {
    makeServer("");
    ASSERT_EQ(generate("ES256", "ec1").exitCode, 0);
    useKeys("ec1");
    const fs::path file = keysDir / "ec1.pem";
    ::chmod(file.c_str(), 0620);
    EXPECT_FALSE(server->start());
    std::string log = server->log();
    EXPECT_NE(log.find(file.string() + " is writable by group or others"), std::string::npos)
        << server->logTail();
    ::chmod(file.c_str(), 0600);
    ::chmod(keysDir.c_str(), 0707);
    EXPECT_FALSE(server->start());
    EXPECT_NE(server->log().find("jwt.keys_dir " + keysDir.string() + " is writable"),
              std::string::npos)
        << server->logTail();
    ::chmod(keysDir.c_str(), 0700);
    if (::geteuid() == 0) {
        ASSERT_EQ(::chown(file.c_str(), 4242, gid_t(-1)), 0);
        EXPECT_FALSE(server->start());
        EXPECT_NE(server->log().find("belongs to uid 4242"), std::string::npos)
            << server->logTail();
        ASSERT_EQ(::chown(file.c_str(), 0, gid_t(-1)), 0);
    }
    ASSERT_TRUE(server->start()) << server->logTail();
    EXPECT_EQ(decodeJwt(login()["access_token"])->first["kid"], "ec1");
}

TEST_F(SigningKeysAnyBackendTest, AReloadWithAWritableKeyKeepsTheOldSet) {
    makeServer("");
    ASSERT_EQ(generate("ES256", "ec1").exitCode, 0);
    useKeys("ec1");
    ASSERT_TRUE(server->start()) << server->logTail();
    const std::string t = login()["access_token"];
    ASSERT_EQ(generate("ES256", "ec2").exitCode, 0);
    ::chmod((keysDir / "ec2.pem").c_str(), 0666);
    useKeys("ec2");
    ASSERT_TRUE(reload());
    EXPECT_EQ(reloads("failure"), 1);
    EXPECT_NE(server->waitForLog("not reloaded", std::chrono::seconds(2))
                  .find((keysDir / "ec2.pem").string() + " is writable by group or others"),
              std::string::npos)
        << server->logTail();
    auto keys = client().get("/.well-known/jwks.json").jsonBody()["keys"];
    ASSERT_EQ(keys.size(), 1u);  // ec2 is not published
    EXPECT_EQ(keys[0]["kid"], "ec1");
    EXPECT_EQ(decodeJwt(login()["access_token"])->first["kid"], "ec1");
    EXPECT_EQ(protectedStatus(t), 200);
    // Fixed, the same reload goes through.
    ::chmod((keysDir / "ec2.pem").c_str(), 0600);
    ASSERT_TRUE(reload());
    EXPECT_EQ(reloads("success"), 1);
    EXPECT_EQ(decodeJwt(login()["access_token"])->first["kid"], "ec2");
}

}  // namespace
}  // namespace it
