#include "verify/Bearer.h"

#include <algorithm>
#include <array>

namespace authsvc::verify {
namespace {
// A table and no early exit: this runs over every byte of every presented token.
constexpr std::array<unsigned char, 256> kNotB64Token = [] {
    std::array<unsigned char, 256> t{};
    t.fill(1);
    for (int c = 'a'; c <= 'z'; ++c) t[c] = 0;
    for (int c = 'A'; c <= 'Z'; ++c) t[c] = 0;
    for (int c = '0'; c <= '9'; ++c) t[c] = 0;
    for (char c : std::string_view("-._~+/")) t[static_cast<unsigned char>(c)] = 0;
    return t;
}();

bool allB64TokenChars(std::string_view s) {
    unsigned char bad = 0;
    for (const char c : s) bad |= kNotB64Token[static_cast<unsigned char>(c)];
    return bad == 0;
}

char asciiLower(char c) {
    return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
}
}  // namespace

std::optional<std::string_view> bearerCredentials(std::string_view header) {
    constexpr std::string_view scheme = "bearer";
    if (header.size() <= scheme.size() + 1) return std::nullopt;
    for (size_t i = 0; i < scheme.size(); ++i) {
        if (asciiLower(header[i]) != scheme[i]) return std::nullopt;
    }
    size_t pos = scheme.size();
    if (header[pos] != ' ') return std::nullopt;
    while (pos < header.size() && header[pos] == ' ') ++pos;
    if (pos == header.size()) return std::nullopt;
    return header.substr(pos);
}

bool isB64Token(std::string_view token) {
    const size_t padding = std::min(token.find('='), token.size());
    if (padding == 0 || !allB64TokenChars(token.substr(0, padding))) return false;
    return token.find_first_not_of('=', padding) == std::string_view::npos;
}

}  // namespace authsvc::verify
