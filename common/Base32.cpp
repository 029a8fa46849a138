#include "common/Base32.h"

#include <cstdint>

namespace authsvc::models {
namespace {
constexpr char kBase32Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int base32Value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a';
    if (c >= '2' && c <= '7') return c - '2' + 26;
    return -1;
}
}  // namespace

std::string base32Encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() * 8 + 4) / 5);
    uint32_t buffer = 0;
    int bits = 0;
    for (unsigned char b : bytes) {
        buffer = (buffer << 8) | b;
        bits += 8;
        while (bits >= 5) {
            out.push_back(kBase32Alphabet[(buffer >> (bits - 5)) & 31]);
            bits -= 5;
        }
    }
    if (bits > 0) out.push_back(kBase32Alphabet[(buffer << (5 - bits)) & 31]);
    return out;
}

std::optional<std::string> base32Decode(std::string_view text) {
    std::string out;
    uint32_t buffer = 0;
    int bits = 0;
    size_t letters = 0;
    for (char c : text) {
        if (c == '=' || c == ' ') continue;
        const int v = base32Value(c);
        if (v < 0) return std::nullopt;
        ++letters;
        buffer = (buffer << 5) | uint32_t(v);
        bits += 5;
        if (bits >= 8) {
            out.push_back(char((buffer >> (bits - 8)) & 0xff));
            bits -= 8;
        }
    }
    // 1, 3 and 6 letters left over are no encoding's tail.
    const size_t tail = letters % 8;
    if (tail == 1 || tail == 3 || tail == 6) return std::nullopt;
    return out;
}

}  // namespace authsvc::models
