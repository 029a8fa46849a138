// ClientAddress: who a request comes from. IP addresses and CIDR blocks (IPv4 and IPv6,
// parsed with inet_pton), the trusted-proxy rule for X-Forwarded-For, and the key under
// which the throttles count an address (IPv4: the address; IPv6: its /64, the block one
// subscriber usually holds). Pure values and functions; thread-safe once built.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace authsvc::middleware {

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

class TrustedProxies {
  public:
    TrustedProxies() = default;
    explicit TrustedProxies(std::vector<Cidr> blocks) : blocks_(std::move(blocks)) {}
    bool empty() const { return blocks_.empty(); }
    bool contains(const IpAddress& address) const;

    // The client's address, as text. `peer` is the socket's address; `forwardedFor` the
    // X-Forwarded-For value, if any. Only when the peer is trusted is the header read: the
    // right-most address in it that is not itself trusted, or the left-most if all are. An
    // entry that is not an address where one is needed, or an empty header, leaves the
    // peer's address. Entries may carry a port ("192.0.2.1:443", "[2001:db8::1]:443").
    std::string clientAddress(std::string_view peer,
                              std::optional<std::string_view> forwardedFor) const;

  private:
    std::vector<Cidr> blocks_;
};

// The throttles' key for an address given as text: IPv4 as it is, IPv6 as its /64
// ("2001:db8:1:2::/64"). Text that is not an address is kept as it is.
std::string addressKey(std::string_view address);

}  // namespace authsvc::middleware
