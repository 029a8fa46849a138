// The text of a mail (RFC 5322 with MIME headers), templates, and the sender's backoff.
#include "services/MailMessage.h"

#include <gtest/gtest.h>

#include "common/Crypto.h"
#include "verify/Base64Url.h"
#include "services/MailSender.h"
#include "services/OneTimeToken.h"

namespace {

using namespace authsvc::models;

std::string headerOf(const std::string& message, const std::string& name) {
    const std::string head = message.substr(0, message.find("\r\n\r\n"));
    size_t pos = 0;
    while (pos < head.size()) {
        size_t end = head.find("\r\n", pos);
        if (end == std::string::npos) end = head.size();
        // Folded lines (starting with a space) continue the header before.
        while (end + 2 < head.size() && head[end + 2] == ' ') end = head.find("\r\n", end + 2);
        if (end == std::string::npos) end = head.size();
        const std::string line = head.substr(pos, end - pos);
        if (line.rfind(name + ": ", 0) == 0) return line.substr(name.size() + 2);
        pos = end + 2;
    }
    return "";
}

TEST(MailMessageTest, DateIsRfc5322InUtc) {
    // 2027-01-15 08:00:00 UTC was a Friday.
    EXPECT_EQ(rfc5322Date(1'800'000'000'000), "Fri, 15 Jan 2027 08:00:00 +0000");
    EXPECT_EQ(rfc5322Date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
}

TEST(MailMessageTest, MessageHasTheHeadersAndCrlfLines) {
    const std::string m = buildMessage(
        {"App <no-reply@example.com>", "bob@example.org", "Hello", "line one\nline two\n"},
        1'800'000'000'000, "abc123");
    EXPECT_EQ(headerOf(m, "Date"), "Fri, 15 Jan 2027 08:00:00 +0000");
    EXPECT_EQ(headerOf(m, "Message-ID"), "<abc123@example.com>");
    EXPECT_EQ(headerOf(m, "From"), "App <no-reply@example.com>");
    EXPECT_EQ(headerOf(m, "To"), "bob@example.org");
    EXPECT_EQ(headerOf(m, "Subject"), "Hello");
    EXPECT_EQ(headerOf(m, "MIME-Version"), "1.0");
    EXPECT_EQ(headerOf(m, "Content-Type"), "text/plain; charset=utf-8");
    EXPECT_NE(m.find("\r\n\r\nline one\r\nline two\r\n"), std::string::npos);
    // No bare LF anywhere.
    for (size_t i = 0; i < m.size(); ++i) {
        if (m[i] == '\n') {
            ASSERT_TRUE(i > 0 && m[i - 1] == '\r') << "bare LF at " << i;
        }
    }
}

TEST(MailMessageTest, NonAsciiSubjectIsEncodedWordsThatDecodeBack) {
    const std::string subject =
        "Passwort zurücksetzen – ünïcødé ✓ and a long tail to force more than one word ääää";
    const std::string encoded = encodeHeaderWord(subject);
    std::string decoded;
    size_t pos = 0;
    int words = 0;
    while ((pos = encoded.find("=?UTF-8?B?", pos)) != std::string::npos) {
        const size_t end = encoded.find("?=", pos + 10);
        ASSERT_NE(end, std::string::npos);
        EXPECT_LE(end + 2 - pos, 75u) << "an encoded word is longer than 75 characters";
        const std::string b64 = encoded.substr(pos + 10, end - pos - 10);
        // Standard base64: decode through the URL alphabet after swapping.
        std::string url = b64;
        for (auto& c : url) c = c == '+' ? '-' : c == '/' ? '_' : c;
        while (!url.empty() && url.back() == '=') url.pop_back();
        auto bytes = authsvc::verify::base64UrlDecode(url);
        ASSERT_TRUE(bytes) << b64;
        decoded += *bytes;
        pos = end + 2;
        ++words;
    }
    EXPECT_GE(words, 2);
    EXPECT_EQ(decoded, subject);
    for (unsigned char c : encoded) EXPECT_LT(c, 0x80) << "a header must be ASCII";
}

TEST(MailMessageTest, HeaderValuesCannotInjectHeaders) {
    const std::string m = buildMessage(
        {"a@example.com", "b@example.com\r\nBcc: evil@example.com", "Hi\r\nBcc: x@y", "body"}, 0,
        "id");
    EXPECT_EQ(m.find("\r\nBcc:"), std::string::npos);
}

TEST(MailMessageTest, MailboxAddress) {
    EXPECT_EQ(mailboxAddress("App <no-reply@example.com>"), "no-reply@example.com");
    EXPECT_EQ(mailboxAddress("no-reply@example.com"), "no-reply@example.com");
}

TEST(MailMessageTest, TemplatesFillVariablesAndSplitTheSubject) {
    auto t = renderTemplate("Hi {{email}}\n\nGo to {{link}} now {{unknown}}\n",
                            {{"email", "a@b"}, {"link", "https://x/reset?token=T"}});
    EXPECT_EQ(t.subject, "Hi a@b");
    EXPECT_EQ(t.body, "Go to https://x/reset?token=T now {{unknown}}\n");
}

TEST(MailBackoffTest, DoublesFromTheInitialDelayUpToAnHour) {
    using std::chrono::milliseconds;
    const milliseconds initial{5000}, max{3600 * 1000};
    EXPECT_EQ(mailBackoff(1, initial, max), milliseconds(5000));
    EXPECT_EQ(mailBackoff(2, initial, max), milliseconds(10000));
    EXPECT_EQ(mailBackoff(5, initial, max), milliseconds(80000));
    EXPECT_EQ(mailBackoff(11, initial, max), max);
    EXPECT_EQ(mailBackoff(1000, initial, max), max);
}

TEST(OneTimeTokenTest, TokensAre256BitBase64UrlAndOnlyTheirHashIsKept) {
    const MintedToken a = mintOneTimeToken(), b = mintOneTimeToken();
    EXPECT_EQ(a.token.size(), 43u);
    EXPECT_NE(a.token, b.token);
    EXPECT_EQ(a.hashHex.size(), 64u);
    EXPECT_EQ(oneTimeTokenHash(a.token), a.hashHex);
    EXPECT_FALSE(oneTimeTokenHash(a.token.substr(1)));
    EXPECT_FALSE(oneTimeTokenHash(a.token + "A"));
    EXPECT_FALSE(oneTimeTokenHash(std::string(43, '*')));
}

}  // namespace
