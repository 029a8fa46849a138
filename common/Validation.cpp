#include "common/Validation.h"

#include <algorithm>

namespace authsvc::models {

namespace {
bool isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// The length of the well-formed UTF-8 sequence starting at s[i], or 0 if none starts
// there (the byte ranges of RFC 3629 section 4). Our own: of the Debian libraries at hand,
// iconv can only drop or fail on bad bytes and nlohmann's replacement works only while
// dumping; ICU would be a large dependency for this.
size_t utf8SequenceLength(std::string_view s, size_t i) {
    auto byte = [&s](size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char lead = byte(i);
    if (lead < 0x80) return 1;
    size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
    if (lead >= 0xC2 && lead <= 0xDF) {
        n = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        n = 3;
        if (lead == 0xE0) lo = 0xA0;  // overlong
        if (lead == 0xED) hi = 0x9F;  // surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        n = 4;
        if (lead == 0xF0) lo = 0x90;  // overlong
        if (lead == 0xF4) hi = 0x8F;  // past U+10FFFF
    } else {
        return 0;
    }
    if (i + n > s.size() || byte(i + 1) < lo || byte(i + 1) > hi) return 0;
    for (size_t k = 2; k < n; ++k) {
        if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
    }
    return n;
}
}  // namespace

std::string normalizeEmail(std::string_view raw) {
    size_t b = 0, e = raw.size();
    while (b < e && isSpace(raw[b])) ++b;
    while (e > b && isSpace(raw[e - 1])) --e;
    std::string out(raw.substr(b, e - b));
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    }
    return out;
}

std::optional<std::string> emailProblem(std::string_view email) {
    if (email.empty()) return "email must not be empty";
    if (auto why = emailLengthProblem(email)) return why;
    size_t at = email.find('@');
    if (at == std::string_view::npos || email.find('@', at + 1) != std::string_view::npos) {
        return "email must contain exactly one @";
    }
    if (at == 0 || at + 1 == email.size()) return "email needs text on both sides of @";
    bool bad = std::any_of(email.begin(), email.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return u < 0x20 || u == 0x7f || isSpace(c);
    });
    if (bad) return "email must not contain spaces or control characters";
    return std::nullopt;
}

std::optional<std::string> emailLengthProblem(std::string_view email) {
    if (codePoints(email) > kMaxEmailLength) return "email must be at most 254 characters";
    return std::nullopt;
}

size_t codePoints(std::string_view utf8) {
    return size_t(std::count_if(utf8.begin(), utf8.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
}

std::optional<std::string> passwordProblem(std::string_view password, int minLength) {
    if (password.size() > kMaxPasswordBytes) return "password must be at most 1024 bytes";
    if (codePoints(password) < size_t(minLength)) {
        return "password must be at least " + std::to_string(minLength) + " characters";
    }
    return std::nullopt;
}

std::string sanitizeUserAgent(std::string_view raw, size_t maxChars) {
    static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
    std::string out;
    out.reserve(std::min(raw.size(), maxChars * kReplacement.size()));
    size_t chars = 0;
    for (size_t i = 0; i < raw.size() && chars < maxChars; ++chars) {
        const auto lead = static_cast<unsigned char>(raw[i]);
        const size_t n = utf8SequenceLength(raw, i);
        if (n == 0 || lead < 0x20 || lead == 0x7f) {
            out.append(kReplacement);
            ++i;
        } else {
            out.append(raw.substr(i, n));
            i += n;
        }
    }
    return out;
}

std::optional<std::string> roleProblem(std::string_view role) {
    if (role.empty() || role.size() > kMaxRoleLength) return "a role has 1 to 64 characters";
    const bool allowed = std::all_of(role.begin(), role.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == ':' ||
               c == '.' || c == '-';
    });
    if (!allowed) return "a role consists of a-z, 0-9, '_', ':', '.' and '-'";
    return std::nullopt;
}

}  // namespace authsvc::models
