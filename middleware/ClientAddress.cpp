#include "middleware/ClientAddress.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace authsvc::middleware {

namespace {

constexpr std::array<uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// An X-Forwarded-For entry: a bare address, "[v6]", "[v6]:port" or "v4:port".
std::optional<IpAddress> parseEntry(std::string_view entry) {
    entry = trim(entry);
    if (!entry.empty() && entry.front() == '[') {
        const size_t close = entry.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        const std::string_view rest = entry.substr(close + 1);
        if (!rest.empty() && rest.front() != ':') return std::nullopt;
        return IpAddress::parse(entry.substr(1, close - 1));
    }
    const size_t colon = entry.find(':');
    if (colon != std::string_view::npos && entry.find(':', colon + 1) == std::string_view::npos) {
        entry = entry.substr(0, colon);  // IPv4 with a port
    }
    return IpAddress::parse(entry);
}

}  // namespace

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
    text = trim(text);
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

bool TrustedProxies::contains(const IpAddress& address) const {
    return std::any_of(blocks_.begin(), blocks_.end(),
                       [&](const Cidr& c) { return c.contains(address); });
}

std::string TrustedProxies::clientAddress(std::string_view peer,
                                          std::optional<std::string_view> forwardedFor) const {
    if (blocks_.empty() || !forwardedFor) return std::string(peer);
    const auto peerAddress = IpAddress::parse(peer);
    if (!peerAddress || !contains(*peerAddress)) return std::string(peer);
    // From the right: each entry was appended by the hop to its right; the first one that
    // is not a proxy of ours is the client as our proxies saw it.
    std::optional<IpAddress> leftmost;
    std::string_view rest = *forwardedFor;
    while (!trim(rest).empty()) {
        const size_t comma = rest.rfind(',');
        const std::string_view entry =
            comma == std::string_view::npos ? rest : rest.substr(comma + 1);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
        auto address = parseEntry(entry);
        if (!address) return std::string(peer);
        if (!contains(*address)) return address->toString();
        leftmost = address;
    }
    return leftmost ? leftmost->toString() : std::string(peer);
}

std::string addressKey(std::string_view address) {
    auto a = IpAddress::parse(address);
    if (!a) return std::string(address);
    if (!a->v6) return a->toString();
    std::fill(a->bytes.begin() + 8, a->bytes.end(), 0);
    return a->toString() + "/64";
}

}  // namespace authsvc::middleware
