// ConnectionGate's rules without a server: the per-address and global caps (the longest-idle
// connection makes room), trusted proxies exempt, IPv6 counted by /64; IdleConnections'
// order; UnwrittenBytes' accounting and its wake-up once the total falls below the limit.
#include "app/http/ConnectionGate.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

namespace {

using authsvc::app::ConnectionCaps;
using authsvc::app::ConnectionGate;
using authsvc::app::IdleConnections;
using authsvc::app::UnwrittenBytes;
using GateVerdict = authsvc::app::ConnectionGate::Verdict;
using IdleTime = std::chrono::steady_clock::time_point;

sockaddr_storage gateV4(const char* text) {
    sockaddr_storage s{};
    auto* in = reinterpret_cast<sockaddr_in*>(&s);
    in->sin_family = AF_INET;
    inet_pton(AF_INET, text, &in->sin_addr);
    return s;
}

sockaddr_storage gateV6(const char* text) {
    sockaddr_storage s{};
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&s);
    in6->sin6_family = AF_INET6;
    inet_pton(AF_INET6, text, &in6->sin6_addr);
    return s;
}

const sockaddr* gateAddr(const sockaddr_storage& s) {
    return reinterpret_cast<const sockaddr*>(&s);
}

ConnectionCaps gateCaps(size_t total, size_t perAddress) {
    ConnectionCaps c;
    c.maxConnections = total;
    c.maxConnectionsPerAddress = perAddress;
    return c;
}

// A connected socket pair: the gate shuts down `server`; `client` then reads EOF.
struct GatePair {
    int server = -1;
    int client = -1;
    GatePair() {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0) {
            server = fds[0];
            client = fds[1];
        }
    }
    ~GatePair() {
        ::close(server);
        ::close(client);
    }
    bool shutDown() const {  // the client sees EOF at once
        char c;
        return ::recv(client, &c, 1, MSG_DONTWAIT) == 0;
    }
};

TEST(ConnectionGateTest, PerAddressCapRefusesTheExtraConnectionUntilOneEnds) {
    ConnectionGate gate(gateCaps(0, 2), 0);
    const auto a = gateV4("192.0.2.1");
    EXPECT_EQ(gate.admit(10, gateAddr(a)), GateVerdict::Admitted);
    EXPECT_EQ(gate.admit(11, gateAddr(a)), GateVerdict::Admitted);
    EXPECT_EQ(gate.admit(12, gateAddr(a)), GateVerdict::AddressFull);
    EXPECT_EQ(gate.admit(12, gateAddr(gateV4("192.0.2.2"))),
              GateVerdict::Admitted);  // another address
    gate.release(10);
    EXPECT_EQ(gate.admit(10, gateAddr(a)), GateVerdict::Admitted);
    EXPECT_EQ(gate.open(), 3u);
    gate.release(99);  // never admitted: nothing
    EXPECT_EQ(gate.open(), 3u);
}

TEST(ConnectionGateTest, TrustedProxiesAreNotCappedPerAddress) {
    ConnectionCaps c = gateCaps(0, 1);
    c.exempt = authsvc::middleware::TrustedProxies({*authsvc::models::Cidr::parse("10.0.0.0/8"),
                                                    *authsvc::models::Cidr::parse("2001:db8::1")});
    ConnectionGate gate(std::move(c), 0);
    for (int fd = 10; fd < 20; ++fd)
        EXPECT_EQ(gate.admit(fd, gateAddr(gateV4("10.1.2.3"))), GateVerdict::Admitted);
    EXPECT_EQ(gate.admit(20, gateAddr(gateV6("2001:db8::1"))), GateVerdict::Admitted);
    EXPECT_EQ(gate.admit(21, gateAddr(gateV6("2001:db8::1"))), GateVerdict::Admitted);
    EXPECT_EQ(gate.admit(22, gateAddr(gateV6("2001:db8::2"))),
              GateVerdict::Admitted);  // same /64, not exempt
    EXPECT_EQ(gate.admit(23, gateAddr(gateV6("2001:db8::3"))), GateVerdict::AddressFull);
}

TEST(ConnectionGateTest, IPv6IsCountedByItsSlash64AndMappedIPv4AsIPv4) {
    ConnectionGate gate(gateCaps(0, 1), 0);
    EXPECT_EQ(gate.admit(10, gateAddr(gateV6("2001:db8:1:2::1"))), GateVerdict::Admitted);
    EXPECT_EQ(gate.admit(11, gateAddr(gateV6("2001:db8:1:2:ffff::9"))), GateVerdict::AddressFull);
    EXPECT_EQ(gate.admit(11, gateAddr(gateV6("2001:db8:1:3::1"))), GateVerdict::Admitted);
    EXPECT_EQ(gate.admit(12, gateAddr(gateV4("192.0.2.7"))), GateVerdict::Admitted);
    EXPECT_EQ(gate.admit(13, gateAddr(gateV6("::ffff:192.0.2.7"))), GateVerdict::AddressFull);
}

TEST(ConnectionGateTest, ADescriptorReusedWithoutReleaseIsCountedOnce) {
    ConnectionGate gate(gateCaps(0, 1), 0);
    const auto a = gateV4("192.0.2.1");
    EXPECT_EQ(gate.admit(10, gateAddr(a)), GateVerdict::Admitted);
    // fd 10 was closed without release() and comes back for the same address.
    EXPECT_EQ(gate.admit(10, gateAddr(a)), GateVerdict::Admitted);
    EXPECT_EQ(gate.open(), 1u);
}

TEST(ConnectionGateTest, AtTheCapTheLongestIdleConnectionMakesRoom) {
    ConnectionGate gate(gateCaps(3, 0), 0);
    auto first = std::make_shared<IdleConnections>();
    auto second = std::make_shared<IdleConnections>();
    gate.addIdleList(first);
    gate.addIdleList(second);
    GatePair a, b, c;
    IdleConnections::Node na, nb, nc;
    const IdleTime t0{};
    const auto peer = gateV4("192.0.2.1");
    ASSERT_EQ(gate.admit(a.server, gateAddr(peer)), GateVerdict::Admitted);
    ASSERT_EQ(gate.admit(b.server, gateAddr(peer)), GateVerdict::Admitted);
    ASSERT_EQ(gate.admit(c.server, gateAddr(peer)), GateVerdict::Admitted);
    first->touch(na, a.server, t0 + std::chrono::seconds(2));
    second->touch(nb, b.server, t0 + std::chrono::seconds(1));  // idle longest
    first->touch(nc, c.server, t0 + std::chrono::seconds(3));

    EXPECT_EQ(gate.admit(100, gateAddr(peer)), GateVerdict::Admitted);
    EXPECT_TRUE(b.shutDown());
    EXPECT_FALSE(a.shutDown());
    EXPECT_FALSE(c.shutDown());
    EXPECT_EQ(gate.evictions(), 1u);
    // b's reactor closes it: release() before its descriptor goes.
    gate.release(b.server);

    // A connection that becomes busy is no candidate; touched again, it waits anew.
    first->remove(na);
    first->touch(na, a.server, t0 + std::chrono::seconds(4));
    EXPECT_EQ(gate.admit(101, gateAddr(peer)), GateVerdict::Admitted);
    EXPECT_TRUE(c.shutDown());
    EXPECT_FALSE(a.shutDown());
}

TEST(ConnectionGateTest, AtTheCapWithoutIdleConnectionsTheNewOneIsRefused) {
    ConnectionGate gate(gateCaps(2, 0), 0);
    auto list = std::make_shared<IdleConnections>();
    gate.addIdleList(list);
    const auto peer = gateV4("192.0.2.1");
    EXPECT_EQ(gate.admit(10, gateAddr(peer)), GateVerdict::Admitted);
    EXPECT_EQ(gate.admit(11, gateAddr(peer)), GateVerdict::Admitted);
    EXPECT_EQ(gate.admit(12, gateAddr(peer)), GateVerdict::ServerFull);
    gate.release(10);
    EXPECT_EQ(gate.admit(12, gateAddr(peer)), GateVerdict::Admitted);
}

TEST(ConnectionGateTest, EvictedConnectionsNotClosedYetBoundTheOvershoot) {
    ConnectionGate gate(gateCaps(1, 0), 0);
    auto list = std::make_shared<IdleConnections>();
    gate.addIdleList(list);
    const auto peer = gateV4("192.0.2.1");
    std::vector<std::unique_ptr<GatePair>> pairs;
    std::vector<std::unique_ptr<IdleConnections::Node>> nodes;
    size_t admitted = 0;
    for (int i = 0; i < 40; ++i) {
        pairs.push_back(std::make_unique<GatePair>());
        nodes.push_back(std::make_unique<IdleConnections::Node>());
        if (gate.admit(pairs.back()->server, gateAddr(peer)) == GateVerdict::Admitted) {
            ++admitted;
            list->touch(*nodes.back(), pairs.back()->server, IdleTime{} + std::chrono::seconds(i));
        }
    }
    // Their reactor has closed none of the evicted ones yet: the cap plus the slack.
    EXPECT_EQ(admitted, 1 + ConnectionGate::kEvictionSlack);
    EXPECT_EQ(gate.open(), 1 + ConnectionGate::kEvictionSlack);
    list->clear();
}

TEST(IdleConnectionsTest, OldestIsTheLongestWaitingAndRemoveIsIdempotent) {
    IdleConnections list;
    EXPECT_FALSE(list.oldest());
    EXPECT_FALSE(list.evictOldest());
    IdleConnections::Node a, b;
    const IdleTime t0{};
    list.touch(a, -1, t0 + std::chrono::seconds(5));
    list.touch(b, -1, t0 + std::chrono::seconds(6));
    EXPECT_EQ(*list.oldest(), t0 + std::chrono::seconds(5));
    list.touch(a, -1, t0 + std::chrono::seconds(7));  // active again: to the end
    EXPECT_EQ(*list.oldest(), t0 + std::chrono::seconds(6));
    list.remove(b);
    list.remove(b);
    EXPECT_EQ(*list.oldest(), t0 + std::chrono::seconds(7));
    list.clear();
    EXPECT_FALSE(list.oldest());
    list.remove(a);  // unlinked by clear(): nothing
}

TEST(UnwrittenBytesTest, OverTheLimitWaitersAreWokenOnceItFallsBelow) {
    UnwrittenBytes bytes(1000);
    int wakes = 0;
    bytes.onDrained([&] { ++wakes; });
    bytes.add(600);
    EXPECT_FALSE(bytes.overAndWaiting());
    bytes.add(400);
    EXPECT_TRUE(bytes.overAndWaiting());  // at the limit
    bytes.remove(100);                    // below: the waiter is woken
    EXPECT_EQ(wakes, 1);
    bytes.remove(100);  // nobody waits any more
    EXPECT_EQ(wakes, 1);
    EXPECT_EQ(bytes.total(), 800u);
    bytes.add(500);
    bytes.remove(100);  // still over, and nobody asked
    EXPECT_EQ(wakes, 1);
    EXPECT_TRUE(bytes.overAndWaiting());
    bytes.remove(100);  // 1100: still over
    EXPECT_EQ(wakes, 1);
    bytes.remove(600);
    EXPECT_EQ(wakes, 1 + 1);
    EXPECT_EQ(bytes.total(), 500u);
}

TEST(UnwrittenBytesTest, LimitZeroIsNoLimit) {
    UnwrittenBytes bytes(0);
    int wakes = 0;
    bytes.onDrained([&] { ++wakes; });
    bytes.add(size_t(1) << 40);
    EXPECT_FALSE(bytes.overAndWaiting());
    bytes.remove(size_t(1) << 40);
    EXPECT_EQ(wakes, 0);
}

}  // namespace
