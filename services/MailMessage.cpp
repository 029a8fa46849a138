#include "services/MailMessage.h"

#include <ctime>

#include "common/Crypto.h"

namespace authsvc::models {
namespace {

bool plainAscii(const std::string& s) {
    for (unsigned char c : s) {
        if (c < 0x20 || c > 0x7e) return false;
    }
    return true;
}

// Line ends as CRLF; a line of a single "." stays as is (SMTP dot-stuffing is the
// transport's, libcurl does it).
std::string crlf(const std::string& text) {
    std::string out;
    out.reserve(text.size() + text.size() / 32 + 2);
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\r') {
            out += "\r\n";
            if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
        } else if (c == '\n') {
            out += "\r\n";
        } else {
            out += c;
        }
    }
    if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
    return out;
}

// A header value without CR or LF (no header injection through a value).
std::string oneLine(const std::string& s) {
    std::string out;
    for (char c : s) out += (c == '\r' || c == '\n') ? ' ' : c;
    return out;
}

}  // namespace

std::string rfc5322Date(int64_t epochMs) {
    std::time_t t = static_cast<std::time_t>(epochMs / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    static const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday],
                  tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec);
    return buf;
}

std::string encodeHeaderWord(const std::string& utf8) {
    const std::string text = oneLine(utf8);
    if (plainAscii(text)) return text;
    // "=?UTF-8?B?" + base64 + "?=" within 75 characters: 45 bytes give 60 base64 characters.
    constexpr size_t kMaxBytes = 45;
    std::string out;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = std::min(text.size(), start + kMaxBytes);
        // Never split a UTF-8 sequence: back up over continuation bytes.
        while (end < text.size() && end > start + 1 &&
               (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
            --end;
        }
        if (!out.empty()) out += "\r\n ";
        out += "=?UTF-8?B?" + crypto::base64Encode(text.substr(start, end - start)) + "?=";
        start = end;
    }
    return out;
}

std::string mailboxAddress(const std::string& mailbox) {
    const auto open = mailbox.rfind('<');
    const auto close = mailbox.rfind('>');
    if (open != std::string::npos && close != std::string::npos && close > open) {
        return mailbox.substr(open + 1, close - open - 1);
    }
    return mailbox;
}

std::string buildMessage(const MailContent& mail, int64_t dateMs,
                         const std::string& messageIdLocal) {
    const std::string fromAddress = mailboxAddress(mail.from);
    const auto at = fromAddress.rfind('@');
    const std::string domain =
        at == std::string::npos ? std::string("localhost") : fromAddress.substr(at + 1);
    std::string out;
    out += "Date: " + rfc5322Date(dateMs) + "\r\n";
    out += "Message-ID: <" + oneLine(messageIdLocal) + "@" + oneLine(domain) + ">\r\n";
    out += "From: " + oneLine(mail.from) + "\r\n";
    out += "To: " + oneLine(mail.to) + "\r\n";
    out += "Subject: " + encodeHeaderWord(mail.subject) + "\r\n";
    out += "MIME-Version: 1.0\r\n";
    out += "Content-Type: text/plain; charset=utf-8\r\n";
    out += "Content-Transfer-Encoding: 8bit\r\n";
    out += "\r\n";
    out += crlf(mail.body);
    return out;
}

RenderedTemplate renderTemplate(const std::string& text,
                                const std::map<std::string, std::string>& vars) {
    std::string filled;
    size_t i = 0;
    while (i < text.size()) {
        const size_t open = text.find("{{", i);
        if (open == std::string::npos) {
            filled.append(text, i, std::string::npos);
            break;
        }
        const size_t close = text.find("}}", open + 2);
        if (close == std::string::npos) {
            filled.append(text, i, std::string::npos);
            break;
        }
        filled.append(text, i, open - i);
        const std::string name = text.substr(open + 2, close - open - 2);
        auto it = vars.find(name);
        if (it != vars.end()) {
            filled += it->second;
        } else {
            filled.append(text, open, close + 2 - open);
        }
        i = close + 2;
    }
    RenderedTemplate out;
    const size_t nl = filled.find('\n');
    out.subject = filled.substr(0, nl);
    if (!out.subject.empty() && out.subject.back() == '\r') out.subject.pop_back();
    if (nl != std::string::npos) {
        size_t bodyStart = nl + 1;
        // One empty line separates subject and body.
        if (filled.compare(bodyStart, 1, "\n") == 0) {
            bodyStart += 1;
        } else if (filled.compare(bodyStart, 2, "\r\n") == 0) {
            bodyStart += 2;
        }
        out.body = filled.substr(bodyStart);
    }
    return out;
}

}  // namespace authsvc::models
