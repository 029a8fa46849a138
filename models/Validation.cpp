#include "models/Validation.h"

#include <algorithm>

namespace authsvc::models {

namespace {
bool isSpace(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
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
