// IpAddress: IP addresses and CIDR blocks (IPv4 and IPv6, parsed with inet_pton), and the
// key under which the throttles count an address (IPv4: the address; IPv6: its /64, the
// block one subscriber usually holds). Pure values and functions.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace authsvc::models {

// An IPv4 or IPv6 address. An IPv4-mapped IPv6 address (::ffff:a.b.c.d, what a dual-stack
// socket reports for an IPv4 client) is the IPv4 address.
struct IpAddress {
    bool v6 = false;
    std::array<uint8_t, 16> bytes{};  // IPv4: the first 4

    // The bare textual forms ("192.0.2.1", "2001:db8::1"); nullopt for anything else.
    static std::optional<IpAddress> parse(std::string_view text);
    // The canonical text (inet_ntop).
    std::string toString() const;
    bool operator==(const IpAddress&) const = default;
};

// "192.0.2.0/24", "2001:db8::/32"; a bare address is its own /32 or /128.
struct Cidr {
    IpAddress network;  // host bits cleared
    int prefix = 0;

    static std::optional<Cidr> parse(std::string_view text);
    bool contains(const IpAddress& address) const;
};

// `s` without the spaces and tabs at either end (list entries in headers such as
// X-Forwarded-For, CIDR blocks in the configuration).
std::string_view trimBlanks(std::string_view s);

// The throttles' key for an address given as text: IPv4 as it is, IPv6 as its /64
// ("2001:db8:1:2::/64"). Text that is not an address is kept as it is.
std::string addressKey(std::string_view address);

}  // namespace authsvc::models
