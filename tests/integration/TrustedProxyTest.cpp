// server.trusted_proxies: X-Forwarded-For names the client only when the peer (here the test
// client on 127.0.0.1) is a trusted proxy; the throttles and the access log use that address.
#include "support/Harness.h"

namespace it {
namespace {

using namespace std::chrono_literals;

json limits() {
    return {{"register_rate_limit", {{"per_ip_per_hour", 2}}},
            {"login_rate_limit", {{"per_ip_per_minute", 3}, {"per_account_per_minute", 100}}}};
}

HttpResponse registerFrom(HttpClient& c, const std::string& forwardedFor) {
    return c.postJson("/api/register", {{"email", uniqueEmail("xff")}, {"password", kPassword}},
                      {"X-Forwarded-For: " + forwardedFor});
}

HttpResponse failLoginFrom(HttpClient& c, const std::string& forwardedFor) {
    return c.postJson("/api/login", {{"email", uniqueEmail("ghost")}, {"password", "wrong one"}},
                      {"X-Forwarded-For: " + forwardedFor});
}

// The access-log line of a response (found by its request id).
std::string accessLine(ServerProcess& server, const HttpResponse& r) {
    const std::string id = r.header("X-Request-Id").value_or("?");
    server.waitForLog(id, 2s);
    for (const auto& line : splitLines(server.log())) {
        if (line.find("rid=" + id) != std::string::npos) return line;
    }
    return "";
}

class TrustedProxyTest : public ServiceTest {
  protected:
    json overrides() const override {
        return {{"server", {{"trusted_proxies", {"10.0.0.0/8", "127.0.0.1/32"}}}},
                {"auth", limits()}};
    }
};

TEST_F(TrustedProxyTest, RegistrationsAreCountedPerForwardedAddress) {
    // The client wrote the left entry itself; the right-most untrusted one counts.
    EXPECT_EQ(registerFrom(*client, "198.51.100.1, 203.0.113.1").status, 201);
    EXPECT_EQ(registerFrom(*client, "198.51.100.2, 203.0.113.1, 10.1.2.3").status, 201);
    expectError(registerFrom(*client, "198.51.100.3, 203.0.113.1"), 429, "too_many_requests");
    EXPECT_EQ(registerFrom(*client, "203.0.113.2").status, 201);
    // IPv6 by /64: two addresses of one /64 share the limit, another /64 does not.
    EXPECT_EQ(registerFrom(*client, "2001:db8:1:2::1").status, 201);
    EXPECT_EQ(registerFrom(*client, "[2001:db8:1:2:aaaa::2]:443").status, 201);
    expectError(registerFrom(*client, "2001:db8:1:2:ffff::3"), 429, "too_many_requests");
    EXPECT_EQ(registerFrom(*client, "2001:db8:1:3::1").status, 201);
}

TEST_F(TrustedProxyTest, FailedLoginsAreCountedPerForwardedAddress) {
    for (int i = 0; i < 3; ++i) {
        expectError(failLoginFrom(*client, "203.0.113.9"), 401, "invalid_credentials");
    }
    expectError(failLoginFrom(*client, "203.0.113.9"), 429, "too_many_requests");
    expectError(failLoginFrom(*client, "203.0.113.10"), 401, "invalid_credentials");
    // Without the header the client is the proxy itself, counted on its own.
    const auto [email, id] = newUser();
    EXPECT_EQ(loginRaw(*client, email, kPassword).status, 200);
}

TEST_F(TrustedProxyTest, TheAccessLogCarriesTheForwardedAddress) {
    const HttpResponse viaProxy =
        client->get("/healthz", {"X-Forwarded-For: 198.51.100.1, 203.0.113.44"});
    const std::string line = accessLine(*server, viaProxy);
    EXPECT_EQ(line.find("203.0.113.44 GET /healthz 200"), line.find(" info ") + 6) << line;
    EXPECT_EQ(line.find("198.51.100.1"), std::string::npos) << line;
    const HttpResponse direct = client->get("/healthz");
    const std::string directLine = accessLine(*server, direct);
    EXPECT_NE(directLine.find(" 127.0.0.1 GET /healthz 200"), std::string::npos) << directLine;
}

TEST_F(TrustedProxyTest, RepeatedForwardedForLinesAreOneListInOrder) {
    // A proxy that adds its own line (HAProxy's option forwardfor) after the client's: the
    // client wrote the first line; the right-most untrusted address across both counts.
    RawConnection conn(server->port());
    ASSERT_TRUE(conn.ok());
    const std::string rid = "xff-two-lines-1";
    ASSERT_TRUE(conn.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: " + rid +
                          "\r\nX-Forwarded-For: 198.51.100.66\r\n"
                          "X-Forwarded-For: 203.0.113.77, 10.0.0.5\r\n\r\n"));
    ASSERT_EQ(conn.readResponse(5s).status, 200);
    server->waitForLog("rid=" + rid, 2s);
    std::string line;
    for (const auto& l : splitLines(server->log())) {
        if (l.find("rid=" + rid) != std::string::npos) line = l;
    }
    EXPECT_NE(line.find(" 203.0.113.77 GET /healthz 200"), std::string::npos) << line;
    EXPECT_EQ(line.find("198.51.100.66"), std::string::npos) << line;

    // The throttles count the same address: three failed logins from 203.0.113.88 sent
    // on a second line, then the fourth is throttled even with another first line.
    auto loginVia = [&](const std::string& firstLine) {
        const std::string body =
            "{\"email\":\"" + uniqueEmail("ghost") + "\",\"password\":\"wrong one\"}";
        RawConnection c(server->port());
        EXPECT_TRUE(c.ok());
        c.send(
            "POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "X-Forwarded-For: " +
            firstLine +
            "\r\nX-Forwarded-For: 203.0.113.88\r\n"
            "Content-Length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body);
        return c.readResponse(10s).status;
    };
    for (int i = 0; i < 3; ++i) EXPECT_EQ(loginVia("198.51.100." + std::to_string(i)), 401);
    EXPECT_EQ(loginVia("198.51.100.99"), 429);
}

class UntrustedPeerTest : public ServiceTest {
  protected:
    // A trusted proxy elsewhere: the test client on 127.0.0.1 is not one.
    json overrides() const override {
        return {{"server", {{"trusted_proxies", {"10.0.0.0/8", "::1"}}}}, {"auth", limits()}};
    }
};

TEST_F(UntrustedPeerTest, ForwardedForFromAnUntrustedPeerIsIgnored) {
    EXPECT_EQ(registerFrom(*client, "203.0.113.1").status, 201);
    EXPECT_EQ(registerFrom(*client, "203.0.113.2").status, 201);
    const HttpResponse third = registerFrom(*client, "203.0.113.3");
    expectError(third, 429, "too_many_requests");
    const std::string line = accessLine(*server, third);
    EXPECT_NE(line.find(" 127.0.0.1 POST /api/register 429"), std::string::npos) << line;
    EXPECT_EQ(line.find("203.0.113"), std::string::npos) << line;
    for (int i = 0; i < 3; ++i) failLoginFrom(*client, "203.0.113." + std::to_string(20 + i));
    expectError(failLoginFrom(*client, "203.0.113.30"), 429, "too_many_requests");
}

TEST(TrustedProxyConfigTest, ABadCidrStopsStartUpWithAClearError) {
    ServerProcess server(json{{"server", {{"trusted_proxies", {"10.0.0.0/8", "10.0.0.0/33"}}}}});
    EXPECT_FALSE(server.start());
    const std::string log = server.log();
    EXPECT_NE(log.find("server.trusted_proxies"), std::string::npos) << log;
    EXPECT_NE(log.find("10.0.0.0/33"), std::string::npos) << log;
}

}  // namespace
}  // namespace it
