// ClientAddress: CIDR parsing and matching, the X-Forwarded-For rule for trusted proxies,
// and the throttles' address key (IPv6 by /64).
#include "middleware/ClientAddress.h"

#include <gtest/gtest.h>

namespace {

using authsvc::middleware::TrustedProxies;
using authsvc::models::addressKey;
using authsvc::models::Cidr;
using authsvc::models::IpAddress;

IpAddress ip(const char* text) {
    auto a = IpAddress::parse(text);
    EXPECT_TRUE(a) << text;
    return a.value_or(IpAddress{});
}

Cidr cidr(const char* text) {
    auto c = Cidr::parse(text);
    EXPECT_TRUE(c) << text;
    return c.value_or(Cidr{});
}

TEST(ClientAddressTest, ParsesBothFamiliesAndTakesMappedIpv4AsIpv4) {
    EXPECT_FALSE(ip("192.0.2.1").v6);
    EXPECT_EQ(ip("192.0.2.1").toString(), "192.0.2.1");
    EXPECT_TRUE(ip("2001:db8::1").v6);
    EXPECT_EQ(ip("2001:DB8:0:0::1").toString(), "2001:db8::1");
    EXPECT_EQ(ip("[2001:db8::1]").toString(), "2001:db8::1");
    EXPECT_EQ(ip("::ffff:192.0.2.1"), ip("192.0.2.1"));
    for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.4/8", "host.example",
                            "2001:db8::1::2", " 1.2.3.4", "1.2.3.4:80", "::1%lo"}) {
        EXPECT_FALSE(IpAddress::parse(bad)) << bad;
    }
}

TEST(ClientAddressTest, CidrParsingValidatesThePrefix) {
    EXPECT_EQ(cidr("10.0.0.0/8").prefix, 8);
    EXPECT_EQ(cidr("192.0.2.7").prefix, 32);
    EXPECT_EQ(cidr("2001:db8::/32").prefix, 32);
    EXPECT_EQ(cidr("::1").prefix, 128);
    EXPECT_EQ(cidr("0.0.0.0/0").prefix, 0);
    EXPECT_EQ(cidr(" 10.1.2.3/16 ").network, ip("10.1.0.0"));  // host bits cleared
    for (const char* bad :
         {"10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/", "10.0.0.0/8x", "2001:db8::/129", "/8",
          "10.0.0/8", "example.com/8", "10.0.0.0/8/8", "10.0.0.0/ 8"}) {
        EXPECT_FALSE(Cidr::parse(bad)) << bad;
    }
}

TEST(ClientAddressTest, CidrMatchingAtAndAcrossByteBoundaries) {
    const Cidr net = cidr("10.1.0.0/16");
    EXPECT_TRUE(net.contains(ip("10.1.255.255")));
    EXPECT_FALSE(net.contains(ip("10.2.0.0")));
    const Cidr odd = cidr("192.0.2.64/26");  // .64 - .127
    EXPECT_TRUE(odd.contains(ip("192.0.2.64")));
    EXPECT_TRUE(odd.contains(ip("192.0.2.127")));
    EXPECT_FALSE(odd.contains(ip("192.0.2.63")));
    EXPECT_FALSE(odd.contains(ip("192.0.2.128")));
    EXPECT_TRUE(cidr("127.0.0.1/32").contains(ip("127.0.0.1")));
    EXPECT_FALSE(cidr("127.0.0.1/32").contains(ip("127.0.0.2")));
    EXPECT_TRUE(cidr("0.0.0.0/0").contains(ip("203.0.113.9")));
    const Cidr v6 = cidr("2001:db8:abcd:12::/63");
    EXPECT_TRUE(v6.contains(ip("2001:db8:abcd:13:ffff::1")));
    EXPECT_FALSE(v6.contains(ip("2001:db8:abcd:14::1")));
    // Families never match each other, not even ::/0 and an IPv4 address.
    EXPECT_FALSE(cidr("::/0").contains(ip("10.0.0.1")));
    EXPECT_FALSE(cidr("0.0.0.0/0").contains(ip("::1")));
    EXPECT_TRUE(cidr("10.0.0.0/8").contains(ip("::ffff:10.9.9.9")));
}

TEST(ClientAddressTest, ForwardedForIsIgnoredUnlessThePeerIsTrusted) {
    const TrustedProxies none;
    EXPECT_EQ(none.clientAddress("127.0.0.1", "203.0.113.5"), "127.0.0.1");
    const TrustedProxies lb({cidr("10.0.0.0/8")});
    EXPECT_EQ(lb.clientAddress("192.0.2.1", "203.0.113.5"), "192.0.2.1");
    EXPECT_EQ(lb.clientAddress("10.0.0.2", "203.0.113.5"), "203.0.113.5");
    EXPECT_EQ(lb.clientAddress("10.0.0.2", std::nullopt), "10.0.0.2");
    EXPECT_EQ(lb.clientAddress("10.0.0.2", ""), "10.0.0.2");
    EXPECT_EQ(lb.clientAddress("10.0.0.2", " , "), "10.0.0.2");
}

TEST(ClientAddressTest, TheRightMostUntrustedEntryIsTheClient) {
    const TrustedProxies p({cidr("10.0.0.0/8"), cidr("2001:db8:ffff::/48")});
    // The client wrote the left entries itself: only the right-most untrusted one is real.
    EXPECT_EQ(p.clientAddress("10.0.0.2", "1.1.1.1, 203.0.113.5"), "203.0.113.5");
    EXPECT_EQ(p.clientAddress("10.0.0.2", "1.1.1.1, 203.0.113.5, 10.0.0.9"), "203.0.113.5");
    EXPECT_EQ(p.clientAddress("10.0.0.2", "203.0.113.5,10.0.0.9,10.7.7.7"), "203.0.113.5");
    EXPECT_EQ(p.clientAddress("10.0.0.2", "2001:db8::5, 2001:db8:ffff::1"), "2001:db8::5");
    // Every entry trusted: the left-most.
    EXPECT_EQ(p.clientAddress("10.0.0.2", "10.0.0.7, 10.0.0.9"), "10.0.0.7");
    // Ports and brackets; output is canonical.
    EXPECT_EQ(p.clientAddress("10.0.0.2", "203.0.113.5:4431"), "203.0.113.5");
    EXPECT_EQ(p.clientAddress("10.0.0.2", "[2001:DB8::5]:443"), "2001:db8::5");
    EXPECT_EQ(p.clientAddress("10.0.0.2", "::ffff:203.0.113.5"), "203.0.113.5");
    // A trusted peer given as a mapped address is trusted.
    EXPECT_EQ(p.clientAddress("::ffff:10.0.0.2", "203.0.113.5"), "203.0.113.5");
}

TEST(ClientAddressTest, GarbageWhereTheClientShouldBeLeavesThePeer) {
    const TrustedProxies p({cidr("10.0.0.0/8")});
    EXPECT_EQ(p.clientAddress("10.0.0.2", "unknown"), "10.0.0.2");
    EXPECT_EQ(p.clientAddress("10.0.0.2", "203.0.113.5, garbage"), "10.0.0.2");
    EXPECT_EQ(p.clientAddress("10.0.0.2", "203.0.113.5,,10.0.0.3"), "10.0.0.2");
    // Garbage left of the client does not matter.
    EXPECT_EQ(p.clientAddress("10.0.0.2", "garbage, 203.0.113.5"), "203.0.113.5");
}

TEST(ClientAddressTest, Ipv6IsKeyedBySlash64AndIpv4ByAddress) {
    EXPECT_EQ(addressKey("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
    EXPECT_EQ(addressKey("2001:db8:1:2:ffff:ffff:ffff:ffff"), "2001:db8:1:2::/64");
    EXPECT_NE(addressKey("2001:db8:1:3::1"), addressKey("2001:db8:1:2::1"));
    EXPECT_EQ(addressKey("::1"), "::/64");
    EXPECT_EQ(addressKey("192.0.2.1"), "192.0.2.1");
    EXPECT_NE(addressKey("192.0.2.1"), addressKey("192.0.2.2"));
    EXPECT_EQ(addressKey("::ffff:192.0.2.1"), "192.0.2.1");
    EXPECT_EQ(addressKey("not an address"), "not an address");
}

}  // namespace
