// PasswordHasher with tiny argon2id parameters (1 iteration, 8 KiB) to stay fast.
#include "services/PasswordHasher.h"

#include <gtest/gtest.h>

#include <optional>

namespace {

using authsvc::models::Argon2Params;
using authsvc::models::PasswordHasher;

class PasswordHasherTest : public ::testing::Test {
  protected:
    PasswordHasher hasher{Argon2Params{1, 8}};
};

TEST_F(PasswordHasherTest, HashIsAnArgon2idPhcStringWithTheConfiguredParameters) {
    const std::string h = hasher.hash("correct horse battery");
    EXPECT_EQ(h.rfind("$argon2id$v=19$m=8,t=1,p=1$", 0), 0u) << h;
}

TEST_F(PasswordHasherTest, OtherParametersShowInTheString) {
    PasswordHasher other(Argon2Params{2, 16});
    EXPECT_EQ(other.hash("pw").rfind("$argon2id$v=19$m=16,t=2,p=1$", 0), 0u);
}

TEST_F(PasswordHasherTest, VerifiesTheRightPasswordOnly) {
    const std::string h = hasher.hash("correct horse battery");
    EXPECT_TRUE(hasher.verify("correct horse battery", h));
    EXPECT_FALSE(hasher.verify("correct horse batterY", h));
    EXPECT_FALSE(hasher.verify("", h));
    EXPECT_FALSE(hasher.verify("correct horse battery ", h));
}

TEST_F(PasswordHasherTest, SaltsEveryHash) {
    const std::string a = hasher.hash("same"), b = hasher.hash("same");
    EXPECT_NE(a, b);
    EXPECT_TRUE(hasher.verify("same", a));
    EXPECT_TRUE(hasher.verify("same", b));
}

TEST_F(PasswordHasherTest, BytesAfterANulCount) {
    const std::string withNul("pass\0word", 9);
    const std::string h = hasher.hash(withNul);
    EXPECT_TRUE(hasher.verify(withNul, h));
    EXPECT_FALSE(hasher.verify("pass", h));
    EXPECT_FALSE(hasher.verify(std::string("pass\0xxxx", 9), h));
}

TEST_F(PasswordHasherTest, Utf8PasswordsVerify) {
    const std::string pw = "p\xC3\xA4ssw\xC3\xB6rd \xF0\x9F\x94\x91";
    EXPECT_TRUE(hasher.verify(pw, hasher.hash(pw)));
}

TEST_F(PasswordHasherTest, MalformedHashesVerifyFalseWithoutThrowing) {
    EXPECT_FALSE(hasher.verify("pw", ""));
    EXPECT_FALSE(hasher.verify("pw", "not a hash"));
    EXPECT_FALSE(hasher.verify("pw", "$argon2id$v=19$m=8,t=1,p=1$"));
    EXPECT_FALSE(hasher.verify("pw", std::string(500, '$')));  // longer than the PHC buffer
    const std::string h = hasher.hash("pw");
    EXPECT_FALSE(hasher.verify("pw", h.substr(0, h.size() - 4)));
}

TEST_F(PasswordHasherTest, HashesFromAnotherParameterSetStillVerify) {
    PasswordHasher stronger(Argon2Params{2, 16});
    EXPECT_TRUE(hasher.verify("pw", stronger.hash("pw")));
}

TEST_F(PasswordHasherTest, VerifyDummyIsAlwaysFalse) {
    EXPECT_FALSE(hasher.verifyDummy(""));
    EXPECT_FALSE(hasher.verifyDummy("anything"));
}

TEST_F(PasswordHasherTest, NeedsRehashWhenParametersDiffer) {
    const std::string h = hasher.hash("pw");
    EXPECT_FALSE(hasher.needsRehash(h));
    EXPECT_TRUE(PasswordHasher(Argon2Params{2, 8}).needsRehash(h));
    EXPECT_TRUE(PasswordHasher(Argon2Params{1, 16}).needsRehash(h));
}

TEST_F(PasswordHasherTest, OnlyArgon2idPrefixesWithinTheConfigurableRangesParse) {
    using P = std::optional<Argon2Params>;
    EXPECT_EQ(PasswordHasher::parseParameters("$argon2id$v=19$m=19456,t=2,p=1"),
              (P{Argon2Params{2, 19456}}));
    EXPECT_EQ(PasswordHasher::parseParameters("$argon2id$v=19$m=4194304,t=64,p=1"),
              (P{Argon2Params{64, 4u << 20}}));
    for (const char* bad :
         {"", "$argon2i$v=19$m=19456,t=2,p=1", "$argon2id$v=16$m=19456,t=2,p=1",
          "$argon2id$v=19$m=19456,t=2,p=2", "$argon2id$v=19$m=19456,t=2,p=1$",
          "$argon2id$v=19$m=4194305,t=2,p=1", "$argon2id$v=19$m=7,t=2,p=1",
          "$argon2id$v=19$m=19456,t=65,p=1", "$argon2id$v=19$m=19456,t=0,p=1",
          "$argon2id$v=19$m=019456,t=2,p=1", "$argon2id$v=19$m=+19456,t=2,p=1",
          "$argon2id$v=19$m=99999999999999999999,t=2,p=1", "$argon2id$v=19$t=2,m=19456,p=1"}) {
        EXPECT_FALSE(PasswordHasher::parseParameters(bad)) << bad;
    }
    // What hash() with other parameters writes parses back to them.
    const std::string h = hasher.hash("pw", Argon2Params{3, 16});
    EXPECT_EQ(PasswordHasher::parseParameters(h.substr(0, h.size() - 67)),
              (P{Argon2Params{3, 16}}));
    EXPECT_TRUE(hasher.verify("pw", h));
}

}  // namespace
