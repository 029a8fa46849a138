#include "common/IpAddress.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace authsvc::models {

namespace {

constexpr std::array<uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

}  // namespace

std::string_view trimBlanks(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    if (!text.empty() && text.front() == '[' && text.back() == ']') {
        text = text.substr(1, text.size() - 2);
    }
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
    const std::string z(text);  // inet_pton wants a terminated string
    IpAddress a;
    if (inet_pton(AF_INET, z.c_str(), a.bytes.data()) == 1) return a;
    if (inet_pton(AF_INET6, z.c_str(), a.bytes.data()) != 1) return std::nullopt;
    if (std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), a.bytes.begin())) {
        std::copy(a.bytes.begin() + 12, a.bytes.end(), a.bytes.begin());
        std::fill(a.bytes.begin() + 4, a.bytes.end(), 0);
        return a;
    }
    a.v6 = true;
    return a;
}

std::string IpAddress::toString() const {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof buf);
    return buf;
}

std::optional<Cidr> Cidr::parse(std::string_view text) {
    text = trimBlanks(text);
    const size_t slash = text.find('/');
    auto address = IpAddress::parse(text.substr(0, slash));
    if (!address) return std::nullopt;
    const int bits = address->v6 ? 128 : 32;
    int prefix = bits;
    if (slash != std::string_view::npos) {
        const std::string_view p = text.substr(slash + 1);
        auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
        if (p.empty() || ec != std::errc() || end != p.data() + p.size() || prefix < 0 ||
            prefix > bits) {
            return std::nullopt;
        }
    }
    Cidr c{*address, prefix};
    for (int i = prefix; i < 128; ++i)
        c.network.bytes[size_t(i / 8)] &= uint8_t(~(0x80u >> (i % 8)));
    return c;
}

bool Cidr::contains(const IpAddress& a) const {
    if (a.v6 != network.v6) return false;
    const size_t whole = size_t(prefix / 8);
    if (!std::equal(network.bytes.begin(), network.bytes.begin() + long(whole), a.bytes.begin())) {
        return false;
    }
    const int rest = prefix % 8;
    if (rest == 0) return true;
    const uint8_t mask = uint8_t(0xff00u >> rest);
    return (a.bytes[whole] & mask) == network.bytes[whole];
}

std::string addressKey(std::string_view address) {
    auto a = IpAddress::parse(address);
    if (!a) return std::string(address);
    if (!a->v6) return a->toString();
    std::fill(a->bytes.begin() + 8, a->bytes.end(), 0);
    return a->toString() + "/64";
}

}  // namespace authsvc::models
