// ClientAddress: who a request comes from: the trusted-proxy rule for X-Forwarded-For.
// Thread-safe once built.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/IpAddress.h"

namespace authsvc::middleware {

using models::Cidr;
using models::IpAddress;

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

}  // namespace authsvc::middleware
