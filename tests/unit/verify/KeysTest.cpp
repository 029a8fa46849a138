// verify/ keys and the Verifier with asymmetric keys (refusals by Reason name); services/KeyRing
// loading, signing and reloading. Keys are generated into temporary directories by the tests.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "support/TestSupport.h"
#include "services/KeyRing.h"
#include "services/TokenService.h"
#include "verify/Base64Url.h"
#include "verify/Keys.h"
#include "verify/Verifier.h"

namespace {

using authsvc::models::generateKeyFile;
using authsvc::models::KeyConfig;
using authsvc::models::KeyRing;
using authsvc::models::TokenService;
using authsvc::models::TokenSettings;
using authsvc::testing::forgeJwt;
using authsvc::testing::kSecret;
using authsvc::testing::TempDir;
using authsvc::verify::Algorithm;
using authsvc::verify::base64UrlDecode;
using authsvc::verify::base64UrlEncode;
using authsvc::verify::KeyError;
using authsvc::verify::ManualClock;
using authsvc::verify::Verifier;
using nlohmann::json;

using authsvc::testing::kNow;
using authsvc::testing::kStartMs;

std::string readAll(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// RFC 7517 Appendix A.1's RSA key, whose thumbprint RFC 7638 §3.1 gives.
const json kRfc7638Key = {
    {"kty", "RSA"},
    {"n",
     "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP"
     "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY"
     "368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0f"
     "M4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"},
    {"e", "AQAB"},
    {"alg", "RS256"},
    {"kid", "2011-04-29"}};

TEST(JwkTest, Rfc7638ThumbprintTestVector) {
    auto key = authsvc::verify::keyFromJwk(kRfc7638Key);
    EXPECT_EQ(key.alg, Algorithm::RS256);
    EXPECT_EQ(authsvc::verify::thumbprint(key), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    // The JWK comes back with the same n and e (no padding added to RSA members).
    json back = authsvc::verify::publicJwk(key);
    EXPECT_EQ(back["n"], kRfc7638Key["n"]);
    EXPECT_EQ(back["e"], "AQAB");
    EXPECT_EQ(back["kid"], "2011-04-29");
    EXPECT_EQ(back["use"], "sig");
    EXPECT_FALSE(back.contains("d"));
}

TEST(JwkTest, EcCoordinatesAreLeftPaddedTo32Bytes) {
    TempDir dir;
    // About one P-256 key in 128 has a coordinate below 2^248; find one.
    bool seen = false;
    for (int i = 0; i < 2000 && !seen; ++i) {
        // Appended, not "k" + std::string: GCC 12 at -O3 warns falsely (-Wrestrict) on that.
        std::string kid = "k";
        kid += std::to_string(i);
        generateKeyFile(dir.path().string(), "ES256", kid, kStartMs);
        auto key =
            authsvc::verify::keyFromPem(readAll((dir.path() / (kid + ".pem")).string()), kid);
        json jwk = authsvc::verify::publicJwk(key);
        for (const char* c : {"x", "y"}) {
            auto bytes = base64UrlDecode(jwk[c].get<std::string>());
            ASSERT_TRUE(bytes);
            ASSERT_EQ(bytes->size(), 32u) << c;
            if ((*bytes)[0] == '\0') seen = true;
        }
        // Thumbprint: SHA-256 of exactly the required members in lexicographic order.
        EXPECT_EQ(jwk.size(), 7u);  // kty crv x y kid alg use
        auto again = authsvc::verify::keyFromJwk(jwk);
        EXPECT_EQ(authsvc::verify::thumbprint(again), authsvc::verify::thumbprint(key));
    }
    EXPECT_TRUE(seen);
}

TEST(JwkTest, RefusesKeysThisServiceDoesNotUse) {
    json small = kRfc7638Key;
    small["n"] = base64UrlEncode(std::string(128, '\x81'));  // 1024 bits
    EXPECT_THROW(authsvc::verify::keyFromJwk(small), KeyError);
    json wrongAlg = kRfc7638Key;
    wrongAlg["alg"] = "ES256";
    EXPECT_THROW(authsvc::verify::keyFromJwk(wrongAlg), KeyError);
    json noKid = kRfc7638Key;
    noKid.erase("kid");
    EXPECT_THROW(authsvc::verify::keyFromJwk(noKid), KeyError);
    json ec = {{"kty", "EC"},
               {"crv", "P-256"},
               {"kid", "e"},
               {"x", base64UrlEncode(std::string(32, '\x01'))},
               {"y", base64UrlEncode(std::string(32, '\x02'))}};
    EXPECT_THROW(authsvc::verify::keyFromJwk(ec), KeyError);  // not on the curve
    EXPECT_THROW(authsvc::verify::keyFromPem(
                     "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "x"),
                 KeyError);
}

// A keys directory with an ES256 and an RS256 key; the KeyRing signs with `signing`.
class AsymmetricTest : public ::testing::Test {
  protected:
    void SetUp() override {
        generateKeyFile(dir.path().string(), "ES256", "ec1", kStartMs);
        generateKeyFile(dir.path().string(), "RS256", "rsa1", kStartMs);
    }
    KeyConfig config(const std::string& signing, const std::string& secret = "") const {
        return KeyConfig{secret, dir.path().string(), signing};
    }
    std::string pem(const std::string& kid) const {
        return readAll((dir.path() / (kid + ".pem")).string());
    }
    std::string publicPem(const std::string& kid) const {
        return authsvc::verify::publicPem(authsvc::verify::keyFromPem(pem(kid), kid));
    }
    std::string rejection(const Verifier& v, const std::string& token) const {
        auto r = v.verifyToken(token);
        return r ? "" : authsvc::verify::reasonName(r.reason);
    }
    static json claims() {
        return {{"iss", "authsvc"}, {"aud", "authsvc-clients"}, {"sub", "42"},
                {"iat", kNow},      {"exp", kNow + 900},        {"sid", "f"}};
    }

    TempDir dir;
    ManualClock clock{kStartMs};
};

TEST_F(AsymmetricTest, EachAlgorithmSignsWithItsKidAndVerifies) {
    for (const auto& [kid, alg] : {std::pair{"ec1", "ES256"}, std::pair{"rsa1", "RS256"}}) {
        KeyRing keys(config(kid));
        TokenService issuer(TokenSettings{"authsvc", "authsvc-clients", 900'000}, keys, clock);
        Verifier verifier({"authsvc", "authsvc-clients"}, keys.source(), clock);
        const std::string t = issuer.issue("42", "fam");
        const json h = authsvc::testing::jwtSegment(t, 0);
        EXPECT_EQ(h["alg"], alg);
        EXPECT_EQ(h["kid"], kid);
        EXPECT_EQ(h["typ"], "JWT");
        auto r = verifier.verifyToken(t);
        ASSERT_TRUE(r) << authsvc::verify::reasonName(r.reason);
        EXPECT_EQ(r.claims->sub, "42");
        // The same token through a verifier that has only the public key (another service).
        auto pub = authsvc::verify::publicKeyPem(publicPem(kid), kid);
        Verifier other({"authsvc", "authsvc-clients"}, pub, clock);
        EXPECT_TRUE(other.verifyToken(t)) << alg;
    }
}

TEST_F(AsymmetricTest, JwksHasEveryPublicKeyAndNoPrivatePart) {
    KeyRing keys(config("ec1", kSecret));
    const json jwks = json::parse(*keys.jwks());
    ASSERT_EQ(jwks["keys"].size(), 2u);
    for (const auto& k : jwks["keys"]) {
        EXPECT_EQ(k["use"], "sig");
        for (const char* priv : {"d", "p", "q", "dp", "dq", "qi", "k"})
            EXPECT_FALSE(k.contains(priv));
        if (k["kid"] == "ec1") {
            EXPECT_EQ(k["kty"], "EC");
            EXPECT_EQ(k["crv"], "P-256");
            EXPECT_EQ(k["alg"], "ES256");
        } else {
            EXPECT_EQ(k["kid"], "rsa1");
            EXPECT_EQ(k["kty"], "RSA");
            EXPECT_EQ(k["alg"], "RS256");
        }
    }
    EXPECT_EQ(keys.jwks()->find(kSecret), std::string::npos);
}

TEST_F(AsymmetricTest, AlgorithmConfusionAndForeignKeysAreRefused) {
    KeyRing keys(config("ec1"));
    Verifier v({"authsvc", "authsvc-clients"}, keys.source(), clock);
    const std::string ecPublic = publicPem("ec1");
    const std::string jwkText = json::parse(*keys.jwks())["keys"][0].dump();
    // HS256 whose HMAC key is the public PEM or the JWK, with and without the kid (and
    // without a shared secret: no HS256 key at all).
    for (const std::string& key : {ecPublic, jwkText}) {
        EXPECT_EQ(rejection(v, forgeJwt({{"alg", "HS256"}, {"typ", "JWT"}, {"kid", "ec1"}},
                                        claims(), key)),
                  "alg_not_key");
        EXPECT_EQ(rejection(v, forgeJwt({{"alg", "HS256"}, {"typ", "JWT"}}, claims(), key)),
                  "no_shared_secret");
    }
    // alg none, with and without kid.
    const std::string body = base64UrlEncode(claims().dump());
    EXPECT_EQ(rejection(v, base64UrlEncode(R"({"alg":"none","kid":"ec1"})") + "." + body + "."),
              "alg_not_key");
    EXPECT_EQ(rejection(v, base64UrlEncode(R"({"alg":"none"})") + "." + body + "."), "alg_not_key");
    // The ES key's kid on an RS256 token (signed with the RSA key).
    KeyRing rsa(config("rsa1"));
    TokenService rsaIssuer(TokenSettings{"authsvc", "authsvc-clients", 900'000}, rsa, clock);
    std::string t = rsaIssuer.issue("42", "f");
    const std::string relabelled =
        base64UrlEncode(R"({"alg":"RS256","kid":"ec1","typ":"JWT"})") + t.substr(t.find('.'));
    EXPECT_EQ(rejection(v, relabelled), "alg_not_key");
    // Unknown kid; crit; a jwk/jku header naming the attacker's key (never followed).
    EXPECT_EQ(rejection(v, base64UrlEncode(R"({"alg":"ES256","kid":"nope","typ":"JWT"})") +
                               t.substr(t.find('.'))),
              "unknown_kid");
    KeyRing ec(config("ec1"));
    TokenService ecIssuer(TokenSettings{"authsvc", "authsvc-clients", 900'000}, ec, clock);
    t = ecIssuer.issue("42", "f");
    ASSERT_EQ(rejection(v, t), "");
    const std::string rest = t.substr(t.find('.'));
    EXPECT_EQ(
        rejection(
            v, base64UrlEncode(R"({"alg":"ES256","crit":["exp"],"kid":"ec1","typ":"JWT"})") + rest),
        "crit");
    TempDir attacker;
    generateKeyFile(attacker.path().string(), "ES256", "ec1", kStartMs);  // same kid, other key
    KeyRing evil(KeyConfig{"", attacker.path().string(), "ec1"});
    TokenService evilIssuer(TokenSettings{"authsvc", "authsvc-clients", 900'000}, evil, clock);
    const std::string forged = evilIssuer.issue("42", "f");
    const std::string evilJwk = json::parse(*evil.jwks())["keys"][0].dump();
    const std::string withJwk =
        base64UrlEncode(R"({"alg":"ES256","jku":"http://127.0.0.1:1/jwks","jwk":)" + evilJwk +
                        R"(,"kid":"ec1","typ":"JWT"})") +
        forged.substr(forged.find('.'));
    EXPECT_EQ(rejection(v, forged), "bad_signature");
    EXPECT_EQ(rejection(v, withJwk), "bad_signature");  // its jwk and jku are not followed
    // A tampered payload.
    std::string tampered = t;
    const size_t dot = tampered.find('.');
    tampered[dot + 5] = tampered[dot + 5] == 'A' ? 'B' : 'A';
    EXPECT_EQ(rejection(v, tampered), "bad_signature");
}

TEST_F(AsymmetricTest, WithKeysAnHs256TokenVerifiesOnlyWhenTheSecretIsKept) {
    const std::string hs = forgeJwt({{"alg", "HS256"}, {"typ", "JWT"}}, claims(), kSecret);
    KeyRing migrating(config("ec1", kSecret));
    Verifier v1({"authsvc", "authsvc-clients"}, migrating.source(), clock);
    EXPECT_EQ(rejection(v1, hs), "");
    KeyRing done(config("ec1"));
    Verifier v2({"authsvc", "authsvc-clients"}, done.source(), clock);
    EXPECT_EQ(rejection(v2, hs), "no_shared_secret");
}

TEST_F(AsymmetricTest, AReloadThatRemovesAKeyRefusesItsCachedTokensAtOnce) {
    KeyRing keys(config("ec1"));
    TokenService issuer(TokenSettings{"authsvc", "authsvc-clients", 900'000}, keys, clock);
    Verifier v({"authsvc", "authsvc-clients"}, keys.source(), clock);
    const std::string old = issuer.issue("42", "f");
    ASSERT_EQ(rejection(v, old), "");
    ASSERT_EQ(rejection(v, old), "");  // now cached
    keys.reload(config("rsa1"));       // ec1 still in the directory: still verifies
    EXPECT_EQ(rejection(v, old), "");
    EXPECT_EQ(authsvc::testing::jwtSegment(issuer.issue("42", "f"), 0)["kid"], "rsa1");
    std::filesystem::remove(dir.path() / "ec1.pem");
    keys.reload(config("rsa1"));
    EXPECT_EQ(rejection(v, old), "unknown_kid");
}

TEST_F(AsymmetricTest, AFailedReloadKeepsTheKeysInForce) {
    KeyRing keys(config("ec1"));
    {
        std::ofstream bad(dir.path() / "broken.pem");
        bad << "not a key";
    }
    EXPECT_THROW(keys.reload(config("ec1")), KeyError);
    std::filesystem::remove(dir.path() / "broken.pem");
    EXPECT_THROW(keys.reload(config("missing")), KeyError);
    EXPECT_EQ(keys.signingKey()->kid(), "ec1");
    EXPECT_EQ(json::parse(*keys.jwks())["keys"].size(), 2u);
}

TEST_F(AsymmetricTest, LoadingRefusesBadDirectories) {
    EXPECT_THROW(KeyRing(KeyConfig{"", (dir.path() / "none").string(), "ec1"}), KeyError);
    EXPECT_THROW(KeyRing(KeyConfig{"", dir.path().string(), ""}), KeyError);
    // A public key cannot sign.
    {
        std::ofstream pub(dir.path() / "pub1.pem");
        pub << publicPem("ec1");
    }
    EXPECT_THROW(KeyRing(config("pub1")), KeyError);
    KeyRing withPublic(config("ec1"));
    EXPECT_EQ(withPublic.describe().size(), 3u);
}

TEST_F(AsymmetricTest, GeneratedKeysAre0600NeverOverwrittenAndSortByTime) {
    struct stat st {};
    ASSERT_EQ(::stat((dir.path() / "ec1.pem").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    const std::string before = pem("ec1");
    EXPECT_THROW(generateKeyFile(dir.path().string(), "ES256", "ec1", kStartMs), KeyError);
    EXPECT_EQ(pem("ec1"), before);
    const std::string a = generateKeyFile(dir.path().string(), "ES256", "", kStartMs);
    const std::string b = generateKeyFile(dir.path().string(), "ES256", "", kStartMs + 1000);
    EXPECT_LT(a, b);
    EXPECT_TRUE(authsvc::models::isValidKid(a));
    EXPECT_THROW(generateKeyFile(dir.path().string(), "ES256", "../x", kStartMs), KeyError);
    EXPECT_THROW(generateKeyFile(dir.path().string(), "HS256", "h", kStartMs), KeyError);
}

TEST_F(AsymmetricTest, GroupReadablePrivateKeysAreWarnedAbout) {
    KeyRing quiet(config("ec1"));
    EXPECT_TRUE(quiet.warnings().empty());
    ::chmod((dir.path() / "rsa1.pem").c_str(), 0640);
    KeyRing loud(config("ec1"));
    ASSERT_EQ(loud.warnings().size(), 1u);
    EXPECT_NE(loud.warnings()[0].find("rsa1.pem"), std::string::npos);
}

// Whoever can write into keys_dir or a key file could add a trusted key: a directory or
// .pem (private or public) that group or others can write is refused, at load and reload.
TEST_F(AsymmetricTest, KeysThatGroupOrOthersCanWriteAreRefused) {
    const auto refusal = [&](const std::string& signing) -> std::string {
        try {
            KeyRing keys(config(signing));
        } catch (const KeyError& e) {
            return e.what();
        }
        return "";
    };
    const std::string file = (dir.path() / "rsa1.pem").string();
    for (const mode_t mode : {0620, 0602, 0660, 0666}) {
        ::chmod(file.c_str(), mode);
        const std::string why = refusal("ec1");  // not even the signing key
        EXPECT_NE(why.find("rsa1.pem"), std::string::npos) << std::oct << mode;
        EXPECT_NE(why.find("writable by group or others"), std::string::npos) << why;
    }
    ::chmod(file.c_str(), 0600);
    EXPECT_EQ(refusal("ec1"), "");
    {
        std::ofstream pub(dir.path() / "pub1.pem");
        pub << publicPem("ec1");
    }
    ::chmod((dir.path() / "pub1.pem").c_str(), 0646);  // a public key too
    EXPECT_NE(refusal("ec1").find("pub1.pem"), std::string::npos);
    ::chmod((dir.path() / "pub1.pem").c_str(), 0644);  // readable is fine for a public key
    EXPECT_EQ(refusal("ec1"), "");
    for (const mode_t mode : {0770, 0730, 0703, 01777}) {
        ::chmod(dir.path().c_str(), mode);
        const std::string why = refusal("ec1");
        EXPECT_NE(why.find("jwt.keys_dir " + dir.path().string()), std::string::npos) << why;
        EXPECT_NE(why.find("writable by group or others"), std::string::npos) << why;
    }
    ::chmod(dir.path().c_str(), 0750);
    EXPECT_EQ(refusal("ec1"), "");
}

TEST_F(AsymmetricTest, AKeyThatIsNoRegularFileIsRefusedWithoutWaiting) {
    ASSERT_EQ(::mkfifo((dir.path() / "fifo.pem").c_str(), 0600), 0);  // open() would block
    try {
        KeyRing keys(config("ec1"));
        ADD_FAILURE() << "a FIFO was loaded";
    } catch (const KeyError& e) {
        EXPECT_NE(std::string(e.what()).find("fifo.pem: not a regular file"), std::string::npos)
            << e.what();
    }
}

TEST_F(AsymmetricTest, AReloadWithAWritableKeyKeepsTheKeysInForce) {
    KeyRing keys(config("ec1"));
    generateKeyFile(dir.path().string(), "ES256", "ec2", kStartMs);
    ::chmod((dir.path() / "ec2.pem").c_str(), 0622);
    try {
        keys.reload(config("ec2"));
        ADD_FAILURE() << "a group-writable key was loaded";
    } catch (const KeyError& e) {
        EXPECT_NE(std::string(e.what()).find("ec2.pem"), std::string::npos) << e.what();
    }
    EXPECT_EQ(keys.signingKey()->kid(), "ec1");
    EXPECT_EQ(json::parse(*keys.jwks())["keys"].size(), 2u);  // ec2 not published
    ::chmod(dir.path().c_str(), 0777);
    ::chmod((dir.path() / "ec2.pem").c_str(), 0600);
    EXPECT_THROW(keys.reload(config("ec2")), KeyError);
    EXPECT_EQ(keys.signingKey()->kid(), "ec1");
    ::chmod(dir.path().c_str(), 0700);
    keys.reload(config("ec2"));
    EXPECT_EQ(keys.signingKey()->kid(), "ec2");
}

// Keys must belong to the service's user or root. As root (the test VM) the files are
// chowned to another uid; as anyone else the service's uid is injected instead.
TEST_F(AsymmetricTest, KeysOfAnotherUserAreRefused) {
    const uid_t me = ::geteuid();
    const uid_t other = me == 0 ? 4242 : me + 1;
    const std::string file = (dir.path() / "rsa1.pem").string();
    KeyConfig mine = config("ec1");
    if (me == 0) {
        ASSERT_EQ(::chown(file.c_str(), other, gid_t(-1)), 0);
    } else {
        mine.serviceUid = other;  // the files are `me`'s: another user's for this service
    }
    try {
        KeyRing keys(mine);
        ADD_FAILURE() << "a key of another user was loaded";
    } catch (const KeyError& e) {
        const std::string why = e.what();
        EXPECT_NE(why.find(me == 0 ? "rsa1.pem" : "jwt.keys_dir"), std::string::npos) << why;
        EXPECT_NE(why.find("belongs to uid " + std::to_string(me == 0 ? other : me)),
                  std::string::npos)
            << why;
    }
    // The owner's own service accepts it.
    KeyConfig theirs = config("ec1");
    theirs.serviceUid = me == 0 ? other : me;
    EXPECT_NO_THROW(KeyRing{theirs});
    if (me == 0) {
        // Root's files pass whoever the service is; a directory of another user does not.
        ASSERT_EQ(::chown(file.c_str(), 0, gid_t(-1)), 0);
        KeyConfig anyService = config("ec1");
        anyService.serviceUid = 4343;
        EXPECT_NO_THROW(KeyRing{anyService});
        ASSERT_EQ(::chown(dir.path().c_str(), other, gid_t(-1)), 0);
        EXPECT_THROW(KeyRing{config("ec1")}, KeyError);
        theirs.serviceUid = other;
        EXPECT_NO_THROW(KeyRing{theirs});
    }
}

TEST_F(AsymmetricTest, GeneratingIntoAWritableDirectoryIsRefused) {
    TempDir shared;
    ::chmod(shared.path().c_str(), 0775);
    EXPECT_THROW(generateKeyFile(shared.path().string(), "ES256", "k1", kStartMs), KeyError);
    EXPECT_FALSE(std::filesystem::exists(shared.path() / "k1.pem"));
    // A directory it creates, and the key in it, pass the service's check.
    const std::string fresh = (shared.path() / "a" / "keys").string();
    ::chmod(shared.path().c_str(), 0700);
    const mode_t old = ::umask(0);  // the loosest umask: the modes are set explicitly
    const std::string kid = generateKeyFile(fresh, "ES256", "", kStartMs);
    ::umask(old);
    EXPECT_NO_THROW(KeyRing(KeyConfig{"", fresh, kid}));
}

}  // namespace
