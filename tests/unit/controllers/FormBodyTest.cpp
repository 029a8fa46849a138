// controllers/FormBody: application/x-www-form-urlencoded bodies of the OAuth routes.
#include <gtest/gtest.h>

#include "controllers/FormBody.h"

namespace authsvc::controllers {
namespace {

TEST(FormBodyTest, DecodesPercentEscapesAndPlusAsSpace) {
    auto form = parseForm("grant_type=password&username=a%40b.example&password=p+w%2Bd%20x");
    ASSERT_TRUE(form.ok()) << form.error().message;
    EXPECT_EQ(form->at("grant_type"), "password");
    EXPECT_EQ(form->at("username"), "a@b.example");
    EXPECT_EQ(form->at("password"), "p w+d x");
}

TEST(FormBodyTest, DecodesNamesAndLowerCaseHexAndKeepsEqualsInValues) {
    auto form = parseForm("refresh%5ftoken=abc%3d%3D&x=a=b");
    ASSERT_TRUE(form.ok()) << form.error().message;
    EXPECT_EQ(form->at("refresh_token"), "abc==");
    EXPECT_EQ(form->at("x"), "a=b");
}

TEST(FormBodyTest, ARepeatedNameIsInvalidRequest) {
    auto form = parseForm("grant_type=password&grant_type=refresh_token");
    ASSERT_FALSE(form.ok());
    EXPECT_EQ(form.error().code, models::ErrorCode::InvalidRequest);
    EXPECT_NE(form.error().message.find("grant_type"), std::string::npos);
    // Also when the second is spelled with an escape.
    EXPECT_FALSE(parseForm("a=1&%61=2").ok());
}

TEST(FormBodyTest, AMalformedEscapeIsInvalidRequest) {
    for (const char* body : {"a=%", "a=%4", "a=%zz", "a%=1", "a=%g1"}) {
        auto form = parseForm(body);
        ASSERT_FALSE(form.ok()) << body;
        EXPECT_EQ(form.error().code, models::ErrorCode::InvalidRequest) << body;
    }
}

TEST(FormBodyTest, EmptyValuesAndEmptyPairsAreOmitted) {
    auto form = parseForm("&a=&b&c=1&&");
    ASSERT_TRUE(form.ok()) << form.error().message;
    EXPECT_EQ(form->size(), 1u);
    EXPECT_EQ(form->at("c"), "1");
    auto missing = requiredParam(*form, "a");
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code, models::ErrorCode::InvalidRequest);
    EXPECT_NE(missing.error().message.find("'a'"), std::string::npos);
    EXPECT_EQ(*requiredParam(*form, "c"), "1");
    EXPECT_TRUE(parseForm("")->empty());
}

TEST(FormBodyTest, DecodedBytesAreKeptAsIs) {
    auto form = parseForm("p=%00%FF%C3%A9");
    ASSERT_TRUE(form.ok());
    EXPECT_EQ(form->at("p"), std::string("\0\xFF\xC3\xA9", 4));
}

}  // namespace
}  // namespace authsvc::controllers
