// verify's base64url (RFC 4648 §5, unpadded, canonical only) and SHA-256: the one codec of
// the project (services, middleware and the tests' forgers call it), against published
// vectors.
#include <gtest/gtest.h>

#include "verify/Base64Url.h"
#include "verify/Sha256.h"

namespace {

using authsvc::verify::base64UrlDecode;
using authsvc::verify::base64UrlEncode;

TEST(Base64UrlTest, RoundTripAndStrictness) {
    for (size_t n = 0; n < 40; ++n) {
        std::string bytes;
        for (size_t i = 0; i < n; ++i) bytes += char(i * 37 + n);
        EXPECT_EQ(base64UrlDecode(base64UrlEncode(bytes)), bytes);
    }
    EXPECT_FALSE(base64UrlDecode("abc="));  // padding
    EXPECT_FALSE(base64UrlDecode("ab+/"));  // standard alphabet
    EXPECT_FALSE(base64UrlDecode("a"));     // impossible length
    EXPECT_FALSE(base64UrlDecode("AB"));    // non-zero unused bits ("AA" is canonical)
    EXPECT_TRUE(base64UrlDecode("AA"));
    EXPECT_FALSE(base64UrlDecode("AAB"));  // the same after three characters
    EXPECT_FALSE(base64UrlDecode("AAAAAAC"));
    EXPECT_EQ(base64UrlDecode("AAE"), std::string("\0\1", 2));
    EXPECT_EQ(base64UrlDecode("AAAA_w"), std::string("\0\0\0\xff", 4));
}

TEST(Base64UrlTest, EncodeVectorsWithoutPadding) {
    // RFC 4648 section 10, without padding, in the URL-safe alphabet.
    EXPECT_EQ(base64UrlEncode(""), "");
    EXPECT_EQ(base64UrlEncode("f"), "Zg");
    EXPECT_EQ(base64UrlEncode("fo"), "Zm8");
    EXPECT_EQ(base64UrlEncode("foo"), "Zm9v");
    EXPECT_EQ(base64UrlEncode("foob"), "Zm9vYg");
    EXPECT_EQ(base64UrlEncode("fooba"), "Zm9vYmE");
    EXPECT_EQ(base64UrlEncode("foobar"), "Zm9vYmFy");
    EXPECT_EQ(base64UrlEncode(std::string("\xfb\xff\xbf", 3)), "-_-_");
}

TEST(Base64UrlTest, DecodeRoundTripsAllByteValues) {
    std::string all;
    for (int i = 0; i < 256; ++i) all += char(i);
    for (size_t n : {0u, 1u, 2u, 3u, 31u, 32u, 33u, 256u}) {
        const std::string in = all.substr(0, n);
        auto out = base64UrlDecode(base64UrlEncode(in));
        ASSERT_TRUE(out) << n;
        EXPECT_EQ(*out, in) << n;
    }
}

TEST(Base64UrlTest, DecodeRefusesOtherAlphabetsPaddingAndGarbage) {
    EXPECT_EQ(base64UrlDecode("+/+/"), std::nullopt);  // standard alphabet
    EXPECT_EQ(base64UrlDecode("Zg=="), std::nullopt);  // padding
    EXPECT_EQ(base64UrlDecode("Z"), std::nullopt);     // impossible length
    EXPECT_EQ(base64UrlDecode("Zm9v!"), std::nullopt);
    EXPECT_EQ(base64UrlDecode("Zm 9v"), std::nullopt);
    EXPECT_EQ(base64UrlDecode(std::string("Zm9v\0", 5)), std::nullopt);
    EXPECT_EQ(base64UrlDecode("Zm9v"), std::optional<std::string>("foo"));
}

// libsodium 1.0.18 alone decodes "\xc3\xa9A" as 0xff 0xf0 (found by fuzz_refresh_token).
TEST(Base64UrlTest, DecodeRefusesBytesOutsideAscii) {
    EXPECT_EQ(base64UrlDecode(std::string("\xc3\xa9") + "A"), std::nullopt);
    EXPECT_EQ(base64UrlDecode("Zm9v\x80\x80\x80\x80"), std::nullopt);
    for (int c = 0x80; c <= 0xff; ++c) {
        EXPECT_EQ(base64UrlDecode(std::string("Zm9") + char(c)), std::nullopt) << c;
    }
}

TEST(Sha256Test, Fips180Vectors) {
    auto hexOf = [](const std::string& bytes) {
        static const char* digits = "0123456789abcdef";
        std::string out;
        for (unsigned char c : bytes) {
            out += digits[c >> 4];
            out += digits[c & 15];
        }
        return out;
    };
    EXPECT_EQ(hexOf(authsvc::verify::sha256("")),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(hexOf(authsvc::verify::sha256("abc")),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_EQ(
        hexOf(authsvc::verify::sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

}  // namespace
