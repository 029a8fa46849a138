// Email normalisation and the input rules of API.md.
#include "common/Validation.h"

#include <gtest/gtest.h>

namespace {

using authsvc::models::codePoints;
using authsvc::models::emailLengthProblem;
using authsvc::models::emailProblem;
using authsvc::models::normalizeEmail;
using authsvc::models::passwordProblem;
using authsvc::models::sanitizeUserAgent;

TEST(ValidationTest, NormalizeTrimsAndLowerCases) {
    EXPECT_EQ(normalizeEmail("  A@Example.COM\t\r\n"), "a@example.com");
    EXPECT_EQ(normalizeEmail("a@example.com"), "a@example.com");
    EXPECT_EQ(normalizeEmail("\v\fMiXeD.Case+Tag@Host.Org "), "mixed.case+tag@host.org");
}

TEST(ValidationTest, NormalizeKeepsInnerSpacesAndNonAsciiBytes) {
    EXPECT_EQ(normalizeEmail(" a b@c "), "a b@c");
    // UTF-8 is left as is (only ASCII letters are lower-cased).
    EXPECT_EQ(normalizeEmail("\xC3\x89LISE@X.FR"), "\xC3\x89lise@x.fr");
}

TEST(ValidationTest, NormalizeOfOnlyWhitespaceIsEmpty) {
    EXPECT_EQ(normalizeEmail(" \t\n "), "");
    EXPECT_EQ(normalizeEmail(""), "");
}

TEST(ValidationTest, ValidEmails) {
    EXPECT_EQ(emailProblem("a@example.com"), std::nullopt);
    EXPECT_EQ(emailProblem("a@b"), std::nullopt);
    EXPECT_EQ(emailProblem("\xC3\xA9@x.fr"), std::nullopt);
}

TEST(ValidationTest, EmailProblems) {
    EXPECT_EQ(emailProblem(""), "email must not be empty");
    EXPECT_EQ(emailProblem("example.com"), "email must contain exactly one @");
    EXPECT_EQ(emailProblem("a@b@c"), "email must contain exactly one @");
    EXPECT_EQ(emailProblem("@example.com"), "email needs text on both sides of @");
    EXPECT_EQ(emailProblem("a@"), "email needs text on both sides of @");
    EXPECT_EQ(emailProblem("a b@c"), "email must not contain spaces or control characters");
    EXPECT_EQ(emailProblem("a\x01@c"), "email must not contain spaces or control characters");
    EXPECT_EQ(emailProblem("a\x7f@c"), "email must not contain spaces or control characters");
    EXPECT_EQ(emailProblem(std::string("a\0@c", 4)),
              "email must not contain spaces or control characters");
}

TEST(ValidationTest, EmailOf254CharactersIsTheLongestAccepted) {
    const std::string domain = "@example.com";  // 12
    const std::string ok = std::string(254 - domain.size(), 'a') + domain;
    ASSERT_EQ(ok.size(), 254u);
    EXPECT_EQ(emailProblem(ok), std::nullopt);
    EXPECT_EQ(emailProblem("a" + ok), "email must be at most 254 characters");
    // The length rule alone (login): counts characters, checks nothing else.
    EXPECT_EQ(emailLengthProblem(ok), std::nullopt);
    EXPECT_EQ(emailLengthProblem(std::string(254, 'x')), std::nullopt);
    EXPECT_EQ(emailLengthProblem(std::string(255, 'x')), "email must be at most 254 characters");
    std::string wide;
    for (int i = 0; i < 254; ++i) wide += "\xc3\xa9";  // 254 characters, 508 bytes
    EXPECT_EQ(emailLengthProblem(wide), std::nullopt);
    EXPECT_TRUE(emailLengthProblem(wide + "x"));
}

TEST(ValidationTest, CodePointsCountsUtf8Characters) {
    EXPECT_EQ(codePoints(""), 0u);
    EXPECT_EQ(codePoints("abc"), 3u);
    EXPECT_EQ(codePoints("\xC3\xA9t\xC3\xA9"), 3u);  // été
    EXPECT_EQ(codePoints("\xE2\x82\xAC"), 1u);       // €
    EXPECT_EQ(codePoints("\xF0\x9F\x94\x91"
                         "a"),
              2u);  // key emoji + a
}

TEST(ValidationTest, PasswordMinimumCountsCodePointsNotBytes) {
    // 7 × "é" is 14 bytes but 7 characters: too short for 8.
    std::string seven;
    for (int i = 0; i < 7; ++i) seven += "\xC3\xA9";
    EXPECT_EQ(passwordProblem(seven, 8), "password must be at least 8 characters");
    EXPECT_EQ(passwordProblem(seven + "\xC3\xA9", 8), std::nullopt);
    EXPECT_EQ(passwordProblem("1234567", 8), "password must be at least 8 characters");
    EXPECT_EQ(passwordProblem("12345678", 8), std::nullopt);
    EXPECT_EQ(passwordProblem("123", 3), std::nullopt);
    EXPECT_EQ(passwordProblem("12", 3), "password must be at least 3 characters");
}

TEST(ValidationTest, PasswordMaximumIs1024Bytes) {
    EXPECT_EQ(passwordProblem(std::string(1024, 'p'), 8), std::nullopt);
    EXPECT_EQ(passwordProblem(std::string(1025, 'p'), 8), "password must be at most 1024 bytes");
    // 600 × "é" = 600 characters but 1200 bytes.
    std::string wide;
    for (int i = 0; i < 600; ++i) wide += "\xC3\xA9";
    EXPECT_EQ(passwordProblem(wide, 8), "password must be at most 1024 bytes");
}

// ---- the User-Agent a session records ----------------------------------------------------

const std::string kFffd = "\xEF\xBF\xBD";

TEST(UserAgentTest, ShortValidTextIsKeptAsItIs) {
    EXPECT_EQ(sanitizeUserAgent(""), "");
    EXPECT_EQ(sanitizeUserAgent("Mozilla/5.0 (X11; Linux x86_64)"),
              "Mozilla/5.0 (X11; Linux x86_64)");
    const std::string mixed =
        "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xEF\xBF\xBF";  // 2-4 bytes
    EXPECT_EQ(sanitizeUserAgent(mixed), mixed);
}

TEST(UserAgentTest, CutAfterMaxCodePointsNeverInsideASequence) {
    EXPECT_EQ(sanitizeUserAgent(std::string(300, 'a')), std::string(200, 'a'));
    EXPECT_EQ(sanitizeUserAgent(std::string(200, 'a')), std::string(200, 'a'));
    for (const std::string ch : {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"}) {
        std::string in = "ab";
        for (int i = 0; i < 250; ++i) in += ch;
        std::string want = "ab";
        for (int i = 0; i < 198; ++i) want += ch;
        EXPECT_EQ(sanitizeUserAgent(in), want) << ch.size() << "-byte characters";
        EXPECT_EQ(sanitizeUserAgent(in, 3), "ab" + ch);
    }
    // A sequence that would straddle the cut is left out whole.
    EXPECT_EQ(sanitizeUserAgent("a\xF0\x9F\x98\x80", 1), "a");
}

TEST(UserAgentTest, IllFormedBytesBecomeReplacementCharacters) {
    EXPECT_EQ(sanitizeUserAgent("a\xFF"
                                "b"),
              "a" + kFffd + "b");
    EXPECT_EQ(sanitizeUserAgent("a\xC3"), "a" + kFffd);                   // truncated
    EXPECT_EQ(sanitizeUserAgent("\xE2\x82"), kFffd + kFffd);              // truncated
    EXPECT_EQ(sanitizeUserAgent("\xC0\xAF"), kFffd + kFffd);              // overlong '/'
    EXPECT_EQ(sanitizeUserAgent("\xE0\x80\xAF"), kFffd + kFffd + kFffd);  // overlong
    EXPECT_EQ(sanitizeUserAgent("\xED\xA0\x80"), kFffd + kFffd + kFffd);  // surrogate
    EXPECT_EQ(sanitizeUserAgent("\xF4\x90\x80\x80"), kFffd + kFffd + kFffd + kFffd);  // > U+10FFFF
    EXPECT_EQ(sanitizeUserAgent("\x80x"), kFffd + "x");    // lone continuation
    EXPECT_EQ(sanitizeUserAgent("\xC3(x"), kFffd + "(x");  // bad continuation
    // The edges that are valid.
    EXPECT_EQ(sanitizeUserAgent("\xED\x9F\xBF"), "\xED\x9F\xBF");          // U+D7FF
    EXPECT_EQ(sanitizeUserAgent("\xF4\x8F\xBF\xBF"), "\xF4\x8F\xBF\xBF");  // U+10FFFF
    // Each replacement counts as one character.
    EXPECT_EQ(sanitizeUserAgent(std::string(300, '\xFF')).size(), 200 * kFffd.size());
}

TEST(UserAgentTest, ControlCharactersAreReplaced) {
    EXPECT_EQ(sanitizeUserAgent(std::string("a\0b", 3)), "a" + kFffd + "b");
    EXPECT_EQ(sanitizeUserAgent("a\tb\x1b[31m\x7f"), "a" + kFffd + "b" + kFffd + "[31m" + kFffd);
}

}  // namespace
