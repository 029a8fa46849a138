#include "verify/Base64Url.h"

#include <array>
#include <cstdint>

namespace authsvc::verify {
namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<int8_t, 256> kValue = [] {
    std::array<int8_t, 256> t{};
    t.fill(-1);
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kAlphabet[i])] = int8_t(i);
    return t;
}();
}  // namespace

std::string base64UrlEncode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() * 4 + 2) / 3);
    size_t i = 0;
    auto at = [&](size_t k) { return uint32_t(static_cast<unsigned char>(bytes[k])); };
    for (; i + 3 <= bytes.size(); i += 3) {
        const uint32_t v = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
        out += kAlphabet[v >> 18];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    if (bytes.size() - i == 1) {
        const uint32_t v = at(i) << 16;
        out += kAlphabet[v >> 18];
        out += kAlphabet[(v >> 12) & 63];
    } else if (bytes.size() - i == 2) {
        const uint32_t v = at(i) << 16 | at(i + 1) << 8;
        out += kAlphabet[v >> 18];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
    }
    return out;
}

// Four characters at a time into a string sized once (a byte appended at a time was ~30
// instructions a byte, a tenth of a distinct token's verification around its signature).
std::optional<std::string> base64UrlDecode(std::string_view text) {
    const size_t rest = text.size() % 4;  // 0, 2 or 3 characters after the last quantum
    if (rest == 1) return std::nullopt;
    const size_t full = text.size() - rest;
    std::string out(full / 4 * 3 + (rest ? rest - 1 : 0), '\0');
    const auto* in = reinterpret_cast<const unsigned char*>(text.data());
    char* o = out.data();
    for (size_t i = 0; i < full; i += 4) {
        const int a = kValue[in[i]], b = kValue[in[i + 1]], c = kValue[in[i + 2]],
                  d = kValue[in[i + 3]];
        if ((a | b | c | d) < 0) return std::nullopt;
        const uint32_t v = uint32_t(a) << 18 | uint32_t(b) << 12 | uint32_t(c) << 6 | uint32_t(d);
        *o++ = char(v >> 16);
        *o++ = char(v >> 8);
        *o++ = char(v);
    }
    if (rest) {
        uint32_t v = 0;
        for (size_t k = 0; k < rest; ++k) {
            const int x = kValue[in[full + k]];
            if (x < 0) return std::nullopt;
            v |= uint32_t(x) << (18 - 6 * k);
        }
        // The unused low bits of the last character must be zero (canonical encoding).
        if ((rest == 2 && (v & 0xffff) != 0) || (rest == 3 && (v & 0xff) != 0)) return std::nullopt;
        *o++ = char(v >> 16);
        if (rest == 3) *o = char(v >> 8);
    }
    return out;
}

}  // namespace authsvc::verify
