// appendJsonString writes exactly what nlohmann::json(s).dump() writes, on its fast path
// and off it, and handles invalid UTF-8 the way each caller asked.
#include "common/JsonText.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace {

using authsvc::models::appendJsonString;
using authsvc::models::InvalidUtf8;
using nlohmann::json;

TEST(JsonTextTest, AppendJsonStringGivesNlohmannsBytes) {
    const std::string all7bit = [] {
        std::string s;
        for (int c = 0; c < 0x80; ++c) s.push_back(static_cast<char>(c));
        return s;
    }();
    for (const std::string& s :
         {std::string(), std::string("eyJhbGciOiJIUzI1NiJ9.e30.sig-_"), std::string("42"),
          std::string("a\"b"), std::string("back\\slash"), std::string("tab\tnl\n"),
          std::string("nul\0x", 5), std::string("del\x7f"), std::string("caf\xc3\xa9"),
          std::string("\xf0\x9f\x94\x91 key"), all7bit}) {
        for (const InvalidUtf8 invalid : {InvalidUtf8::Throw, InvalidUtf8::Replace}) {
            std::string out = "prefix:";
            appendJsonString(out, s, invalid);
            EXPECT_EQ(out, "prefix:" + json(s).dump()) << s;
        }
    }
}

TEST(JsonTextTest, AppendJsonStringRefusesInvalidUtf8LikeNlohmann) {
    std::string out;
    EXPECT_THROW(appendJsonString(out, "bad \xff\xfe"), json::type_error);
    EXPECT_THROW(json(std::string("bad \xff\xfe")).dump(), json::type_error);
}

TEST(JsonTextTest, AppendJsonStringCanReplaceInvalidUtf8) {
    std::string out;
    appendJsonString(out, "bad \xff!", InvalidUtf8::Replace);
    EXPECT_EQ(out, "\"bad \xef\xbf\xbd!\"");
}

}  // namespace
