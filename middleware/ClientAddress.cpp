#include "middleware/ClientAddress.h"

#include <algorithm>

namespace authsvc::middleware {

namespace {

// An X-Forwarded-For entry: a bare address, "[v6]", "[v6]:port" or "v4:port".
std::optional<IpAddress> parseEntry(std::string_view entry) {
    entry = models::trimBlanks(entry);
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
    while (!models::trimBlanks(rest).empty()) {
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

}  // namespace authsvc::middleware
