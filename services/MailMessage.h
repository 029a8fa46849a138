// MailMessage: the text of one mail as RFC 5322 (Internet Message Format) with MIME
// (RFC 2045) headers: Date (RFC 5322 3.3, UTC), Message-ID (unique: random and the sender's
// domain), From, To, a Subject in RFC 2047 encoded words when it is not plain ASCII,
// MIME-Version and Content-Type: text/plain; charset=utf-8 with 8bit transfer encoding,
// every line ended by CRLF. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace authsvc::models {

struct MailContent {
    std::string from;     // an RFC 5322 mailbox: "addr@example.com" or "Name <addr@example.com>"
    std::string to;       // an address
    std::string subject;  // UTF-8
    std::string body;     // UTF-8, any line ends
};

// The message text; `dateMs` for the Date header, `messageIdLocal` the part of the
// Message-ID before "@" (callers pass random text).
std::string buildMessage(const MailContent& mail, int64_t dateMs,
                         const std::string& messageIdLocal);

// RFC 5322 3.3 date-time in UTC: "Mon, 07 Dec 2026 05:25:48 +0000".
std::string rfc5322Date(int64_t epochMs);
// The text as it may stand in a header: itself when it is printable ASCII, else RFC 2047
// "=?UTF-8?B?...?=" words (each at most 75 characters, split between UTF-8 characters),
// separated by CRLF SP (folding).
std::string encodeHeaderWord(const std::string& utf8);
// The address part of a mailbox ("Name <a@b>" -> "a@b"; "a@b" -> "a@b").
std::string mailboxAddress(const std::string& mailbox);

// A plain-text template: "{{name}}" replaced by vars' value (unknown names left as they are).
// The first line is the subject, then an empty line, then the body.
struct RenderedTemplate {
    std::string subject;
    std::string body;
};
RenderedTemplate renderTemplate(const std::string& text,
                                const std::map<std::string, std::string>& vars);

}  // namespace authsvc::models
