// Base32 (RFC 4648 section 6) against the RFC's test vectors, without padding.
#include "common/Base32.h"

#include <gtest/gtest.h>

namespace {

using authsvc::models::base32Decode;
using authsvc::models::base32Encode;

TEST(Base32Test, EncodesTheRfc4648Vectors) {
    EXPECT_EQ(base32Encode(""), "");
    EXPECT_EQ(base32Encode("f"), "MY");
    EXPECT_EQ(base32Encode("fo"), "MZXQ");
    EXPECT_EQ(base32Encode("foo"), "MZXW6");
    EXPECT_EQ(base32Encode("foob"), "MZXW6YQ");
    EXPECT_EQ(base32Encode("fooba"), "MZXW6YTB");
    EXPECT_EQ(base32Encode("foobar"), "MZXW6YTBOI");
    EXPECT_EQ(base32Encode("12345678901234567890"), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
}

TEST(Base32Test, DecodesEitherCaseWithOrWithoutPadding) {
    EXPECT_EQ(base32Decode("MZXW6YTBOI"), "foobar");
    EXPECT_EQ(base32Decode("mzxw6ytboi======"), "foobar");
    EXPECT_EQ(base32Decode("MZXW6YQ="), "foob");
    EXPECT_FALSE(base32Decode("MZ1W"));  // 1 is not a base32 digit
    EXPECT_FALSE(base32Decode("M"));     // no encoding ends with one letter
}

}  // namespace
