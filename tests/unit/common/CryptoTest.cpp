// models::crypto helpers against published test vectors (base64url and SHA-256 are
// verify's: Base64UrlTest).
#include "common/Crypto.h"

#include <gtest/gtest.h>

#include "verify/Sha256.h"

namespace {

namespace crypto = authsvc::models::crypto;

class CryptoTest : public ::testing::Test {
  protected:
    static void SetUpTestSuite() { crypto::init(); }
};

std::string unhex(const std::string& h) {
    std::string out;
    for (size_t i = 0; i + 1 < h.size(); i += 2)
        out += char(std::stoi(h.substr(i, 2), nullptr, 16));
    return out;
}

TEST_F(CryptoTest, HexIsLowerCase) {
    EXPECT_EQ(crypto::hex(""), "");
    EXPECT_EQ(crypto::hex(std::string("\x00\xab\xff\x10", 4)), "00abff10");
}

TEST_F(CryptoTest, UnhexTakesEvenLengthHexOfEitherCase) {
    EXPECT_EQ(crypto::unhex(""), std::string());
    EXPECT_EQ(crypto::unhex("00abff10"), std::string("\x00\xab\xff\x10", 4));
    EXPECT_EQ(crypto::unhex("00ABFF10"), std::string("\x00\xab\xff\x10", 4));
    const std::string bytes = authsvc::verify::sha256("abc");
    EXPECT_EQ(crypto::unhex(crypto::hex(bytes)), bytes);
}

TEST_F(CryptoTest, UnhexRefusesAnythingElse) {
    for (const char* bad : {"0", "abc", "0g", "g0", "00 1", " 00", "00 ", "0x00", "00:11", "-1"}) {
        EXPECT_EQ(crypto::unhex(bad), std::nullopt) << bad;
    }
    EXPECT_EQ(crypto::unhex(std::string("00\0"
                                        "0",
                                        4)),
              std::nullopt);
}

TEST_F(CryptoTest, Sha256HexIsTheHexOfVerifysSha256) {
    EXPECT_EQ(crypto::sha256Hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(crypto::hex(authsvc::verify::sha256("abc")), crypto::sha256Hex("abc"));
}

TEST_F(CryptoTest, HmacSha256Rfc4231Case2) {
    crypto::HmacSha256 mac("Jefe");
    EXPECT_EQ(crypto::hex(mac.mac("what do ya want for nothing?")),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_F(CryptoTest, HmacSha256Rfc4231Case6KeyLongerThanABlock) {
    crypto::HmacSha256 mac(std::string(131, '\xaa'));
    EXPECT_EQ(crypto::hex(mac.mac("Test Using Larger Than Block-Size Key - Hash Key First")),
              "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST_F(CryptoTest, HmacSha256Rfc4231Case1BinaryKey) {
    crypto::HmacSha256 mac(unhex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"));
    EXPECT_EQ(crypto::hex(mac.mac("Hi There")),
              "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST_F(CryptoTest, HmacStateIsReusedWithoutBeingConsumed) {
    crypto::HmacSha256 mac("Jefe");
    const std::string first = mac.mac("what do ya want for nothing?");
    const std::string other = mac.mac("something else");
    const std::string again = mac.mac("what do ya want for nothing?");
    EXPECT_EQ(first, again);
    EXPECT_NE(first, other);
    EXPECT_EQ(first.size(), 32u);
}

TEST_F(CryptoTest, HmacSurvivesACopyOfTheObject) {
    crypto::HmacSha256 a("Jefe");
    crypto::HmacSha256 b = a;
    EXPECT_EQ(crypto::hex(b.mac("what do ya want for nothing?")),
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_F(CryptoTest, ConstantTimeEquals) {
    EXPECT_TRUE(crypto::constantTimeEquals("", ""));
    EXPECT_TRUE(crypto::constantTimeEquals("abc", "abc"));
    EXPECT_FALSE(crypto::constantTimeEquals("abc", "abd"));
    EXPECT_FALSE(crypto::constantTimeEquals("abc", "ab"));
    EXPECT_FALSE(crypto::constantTimeEquals("ab", "abc"));
    EXPECT_FALSE(crypto::constantTimeEquals("", "a"));
    EXPECT_FALSE(crypto::constantTimeEquals(std::string("a\0b", 3), std::string("a\0c", 3)));
}

TEST_F(CryptoTest, RandomBytesHaveTheRequestedSizeAndDiffer) {
    EXPECT_EQ(crypto::randomBytes(0).size(), 0u);
    const std::string a = crypto::randomBytes(32), b = crypto::randomBytes(32);
    EXPECT_EQ(a.size(), 32u);
    EXPECT_NE(a, b);
    EXPECT_NE(a, std::string(32, '\0'));
}

TEST_F(CryptoTest, AeadOpensOnlyWithTheSameKeyAndAssociatedData) {
    const std::string key(32, 'k');
    const std::string sealed = crypto::aeadSeal(key, "private key", "kid-1");
    EXPECT_EQ(sealed.find("private key"), std::string::npos);
    EXPECT_EQ(crypto::aeadOpen(key, sealed, "kid-1"), std::optional<std::string>("private key"));
    EXPECT_NE(crypto::aeadSeal(key, "private key", "kid-1"), sealed);       // a nonce per call
    EXPECT_FALSE(crypto::aeadOpen(std::string(32, 'K'), sealed, "kid-1"));  // another key
    EXPECT_FALSE(crypto::aeadOpen(key, sealed, "kid-2"));                   // another row
    std::string altered = sealed;
    altered.back() = altered.back() == '0' ? '1' : '0';
    EXPECT_FALSE(crypto::aeadOpen(key, altered, "kid-1"));
    EXPECT_FALSE(crypto::aeadOpen(key, sealed.substr(0, 40), "kid-1"));
    EXPECT_FALSE(crypto::aeadOpen(key, "not hex", "kid-1"));
    EXPECT_THROW(crypto::aeadSeal(std::string(31, 'k'), "x", ""), std::invalid_argument);
}

}  // namespace
