// Socket-level behaviour: keep-alive without a Connection header, garbage, bad Content-Length,
// slow clients, connection ends (Connection: close, HTTP/1.0, half-close), pipelining. After
// each abuse the server must still answer /healthz and stop cleanly.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "support/Harness.h"

namespace it {
namespace {

using namespace std::chrono_literals;

class SocketAnyBackendTest : public ServiceTest {
  protected:
    void expectStillServing() {
        HttpClient fresh(server->port());
        fresh.setTimeoutMs(3000);
        const HttpResponse r = fresh.get("/healthz");
        EXPECT_EQ(r.status, 200) << r;
        EXPECT_TRUE(server->running()) << "authsvc died";
    }
    // The server answers garbage with a 4xx or closes the connection, promptly.
    void expectAnsweredOrClosed(const std::string& bytes, const std::string& label) {
        RawConnection conn(server->port());
        ASSERT_TRUE(conn.ok());
        conn.send(bytes);
        const RawResponse r = conn.readResponse(4s);
        EXPECT_FALSE(r.timedOut) << label << ": no answer and no close within 4 s";
        if (r.status != 0) {
            EXPECT_GE(r.status, 400) << label << ": " << r.raw;
            EXPECT_LT(r.status, 600) << label << ": " << r.raw;
        }
        for (const char* leak : {"basic_string", "_M_create", "std::", "what()"}) {
            EXPECT_EQ(r.raw.find(leak), std::string::npos) << label << " leaks: " << r.raw;
        }
    }
};

TEST_F(SocketAnyBackendTest, KeepAliveWithoutConnectionHeader) {
    HttpClient c(server->port());  // curl sends no Connection header
    const HttpResponse first = c.get("/healthz");
    ASSERT_EQ(first.status, 200) << first;
    EXPECT_EQ(first.newConnections, 1);
    EXPECT_FALSE(containsI(first.header("Connection").value_or(""), "close")) << first;

    const HttpResponse second = c.get("/healthz");
    ASSERT_EQ(second.status, 200) << second;
    EXPECT_EQ(second.newConnections, 0) << "the connection was not reused";

    const auto [email, id] = newUser();
    const HttpResponse loggedIn = loginRaw(c, email, kPassword);
    ASSERT_EQ(loggedIn.status, 200) << loggedIn;
    EXPECT_EQ(loggedIn.newConnections, 0) << "POST /api/login did not reuse the connection";
    const HttpResponse protectedCall =
        c.getWithToken("/api/protected", loggedIn.jsonBody()["access_token"]);
    EXPECT_EQ(protectedCall.status, 200) << protectedCall;
    EXPECT_EQ(protectedCall.newConnections, 0);
    const HttpResponse unauthorized = c.get("/api/protected");
    EXPECT_EQ(unauthorized.status, 401);
    EXPECT_EQ(unauthorized.newConnections, 0);
    EXPECT_EQ(c.get("/nope").newConnections, 0);
    EXPECT_EQ(c.get("/healthz").newConnections, 0);
}

TEST_F(SocketAnyBackendTest, TwoRequestsOnOneRawSocket) {
    RawConnection conn(server->port());
    ASSERT_TRUE(conn.ok());
    for (int i = 0; i < 2; ++i) {
        ASSERT_TRUE(conn.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"));
        const RawResponse r = conn.readResponse(3s);
        EXPECT_EQ(r.status, 200) << "request " << i << ": " << r.raw;
        EXPECT_FALSE(r.closed && r.status == 0) << "closed before request " << i;
    }
}

// HEAD is answered as GET without the body (RFC 9110 9.3.2): the next answer on the
// connection starts right after its header block.
TEST_F(SocketAnyBackendTest, HeadIsGetWithoutTheBodyAndTheNextAnswerFollows) {
    RawConnection conn(server->port());
    ASSERT_TRUE(conn.ok());
    ASSERT_TRUE(
        conn.send("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                  "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    const RawResponse r = conn.readUntilClosed(1s);  // both answers; the connection stays
    const size_t headEnd = r.raw.find("\r\n\r\n");
    ASSERT_NE(headEnd, std::string::npos) << r.raw;
    EXPECT_EQ(r.raw.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << r.raw;
    EXPECT_NE(r.raw.find("Content-Length: "), std::string::npos) << r.raw;
    EXPECT_EQ(r.raw.compare(headEnd + 4, 9, "HTTP/1.1 "), 0) << r.raw;
    EXPECT_EQ(r.raw.find("HTTP/1.1 200", headEnd), headEnd + 4) << r.raw;
    EXPECT_NE(r.raw.find("\"status\""), std::string::npos) << "no body on the GET: " << r.raw;
}

TEST_F(SocketAnyBackendTest, GarbageOnTheSocket) {
    std::string binary(3000, '\0');
    for (auto& ch : binary) {
        do {
            ch = static_cast<char>(randombytes_uniform(256));
        } while (ch == '\r' || ch == '\n');
    }
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"binary garbage", binary + "\r\n\r\n"},
        {"one word", "GARBAGE\r\n\r\n"},
        {"bad version", "GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n"},
        {"bad header line", "GET /healthz HTTP/1.1\r\nNoColonHere\r\n\r\n"},
        {"TLS hello", std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 15)},
        {"NUL bytes", std::string(64, '\0') + "\r\n\r\n"},
    };
    // All at once: some garbage is only answered when the header timeout fires.
    std::vector<std::unique_ptr<RawConnection>> conns;
    for (const auto& [label, bytes] : cases) {
        conns.push_back(std::make_unique<RawConnection>(server->port()));
        ASSERT_TRUE(conns.back()->ok());
        conns.back()->send(bytes);
    }
    expectStillServing();  // while the garbage connections are pending
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    for (size_t i = 0; i < cases.size(); ++i) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        const RawResponse r = conns[i]->readResponse(std::max(left, 1ms));
        const std::string& label = cases[i].first;
        EXPECT_FALSE(r.timedOut) << label << ": no answer and no close within 15 s";
        if (r.status != 0) {
            EXPECT_GE(r.status, 400) << label << ": " << r.raw;
            EXPECT_LT(r.status, 500) << label << ": " << r.raw;
        }
        for (const char* leak : {"basic_string", "_M_create", "std::", "what()"}) {
            EXPECT_EQ(r.raw.find(leak), std::string::npos) << label << " leaks: " << r.raw;
        }
    }
    expectStillServing();
    EXPECT_EQ(server->stop(), 0);
}

TEST_F(SocketAnyBackendTest, NegativeContentLength) {
    expectAnsweredOrClosed(
        "POST /api/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: -5\r\n\r\n{}",
        "Content-Length: -5");
    expectStillServing();
    EXPECT_EQ(server->stop(), 0);
}

TEST_F(SocketAnyBackendTest, HugeContentLengthIs413WithoutWaitingForTheBody) {
    RawConnection conn(server->port());
    ASSERT_TRUE(conn.ok());
    conn.send(
        "POST /api/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: 99999999999\r\n\r\n{\"email\":");
    const RawResponse r = conn.readResponse(4s);
    EXPECT_FALSE(r.timedOut) << "no answer and no close within 4 s";
    if (r.status != 0) {
        EXPECT_EQ(r.status, 413) << r.raw;
    }
    expectStillServing();
    EXPECT_EQ(server->stop(), 0);
}

TEST_F(SocketAnyBackendTest, OversizeBodyDoesNotDesyncTheConnection) {
    // A 100 KB body is answered 413 before it is read; the rest of it must not then be parsed as
    // further requests on the same connection: either the server closes the connection, or the
    // next request on it gets its own answer.
    RawConnection conn(server->port());
    ASSERT_TRUE(conn.ok());
    const std::string body = "{\"email\":\"" + std::string(100000, 'x') + "\"}";
    conn.send(
        "POST /api/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: " +
        std::to_string(body.size()) + "\r\n\r\n" + body);
    const RawResponse first = conn.readResponse(4s);
    ASSERT_EQ(first.status, 413) << first.raw;
    if (first.closed) return;  // closed right after the 413: fine
    conn.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    const RawResponse next = conn.readResponse(3s);
    EXPECT_FALSE(next.timedOut) << "no answer to the request after the 413";
    if (next.status != 0) {
        EXPECT_EQ(next.status, 200)
            << "the rest of the rejected body was parsed as requests; the next answer is:\n"
            << next.raw;
    }
}

TEST_F(SocketAnyBackendTest, SlowClientTricklingARequestIsServed) {
    RawConnection conn(server->port());
    ASSERT_TRUE(conn.ok());
    const std::string req = "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: yes\r\n\r\n";
    for (char ch : req) {
        ASSERT_TRUE(conn.send(std::string(1, ch)));
        std::this_thread::sleep_for(8ms);
    }
    const RawResponse r = conn.readResponse(3s);
    EXPECT_EQ(r.status, 200) << r.raw;
}

TEST_F(SocketAnyBackendTest, SlowlorisDoesNotBlockOtherClients) {
    std::vector<std::unique_ptr<RawConnection>> slow;
    for (int i = 0; i < 40; ++i) {
        auto c = std::make_unique<RawConnection>(server->port());
        ASSERT_TRUE(c->ok());
        if (i % 2 == 0) {
            c->send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Partial: ");  // headers never end
        } else {
            c->send(  // body never completes
                "POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                "Content-Length: 100\r\n\r\n{\"email\":");
        }
        slow.push_back(std::move(c));
    }
    HttpClient other(server->port());
    other.setTimeoutMs(3000);
    for (int i = 0; i < 5; ++i) {
        const HttpResponse r = other.get("/healthz");
        EXPECT_EQ(r.status, 200) << r;
        EXPECT_LT(r.seconds, 1.0);
    }
    const auto [email, id] = newUser();
    EXPECT_EQ(loginRaw(other, email, kPassword).status, 200);
    // Trickle one more byte on each, then hang up mid-request.
    for (auto& c : slow) c->send("x");
    slow.clear();
    expectStillServing();
    EXPECT_EQ(server->stop(), 0);
}

TEST_F(SocketAnyBackendTest, ClientHangingUpMidResponseIsHarmless) {
    const auto [email, id] = newUser();
    for (int i = 0; i < 20; ++i) {
        RawConnection conn(server->port());
        ASSERT_TRUE(conn.ok());
        const std::string body = json{{"email", email}, {"password", kPassword}}.dump();
        conn.send(
            "POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Content-Length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body);
        // Close without reading: the login is still being hashed or being written.
    }
    expectStillServing();
    EXPECT_EQ(loginRaw(*client, email, kPassword).status, 200);
    EXPECT_EQ(server->stop(), 0);
}

// ---------------------------------------------------------------- how connections end

std::string header(const RawResponse& r, const std::string& name) {
    for (const auto& line : splitLines(r.raw.substr(0, r.raw.find("\r\n\r\n")))) {
        if (line.size() > name.size() && containsI(line.substr(0, name.size() + 1), name + ":")) {
            std::string value = line.substr(name.size() + 1);
            while (!value.empty() && (value.front() == ' ' || value.back() == '\r')) {
                value.erase(value.front() == ' ' ? 0 : value.size() - 1, 1);
            }
            return value;
        }
    }
    return "";
}

std::string getRequest(const std::string& path, const std::string& extra = "") {
    return "GET " + path + " HTTP/1.1\r\nHost: x\r\n" + extra + "\r\n";
}

TEST_F(SocketAnyBackendTest, KeepAliveClientCarriesOnAfterA413) {
    // A pooled keep-alive client (axios, Dio, curl's connection cache) must learn that the
    // connection ends with the 413, or it sends its next request on a dead socket.
    HttpClient c(server->port());
    const std::string body = "{\"email\":\"" + std::string(100000, 'x') + "\"}";
    const HttpResponse tooLarge = c.postRaw("/api/register", body, "application/json");
    ASSERT_EQ(tooLarge.status, 413) << tooLarge;
    EXPECT_TRUE(containsI(tooLarge.header("Connection").value_or(""), "close")) << tooLarge;
    for (int i = 0; i < 3; ++i) {
        const HttpResponse next = c.get("/healthz");
        EXPECT_EQ(next.status, 200) << next;
        EXPECT_TRUE(next.error.empty()) << next.error;
    }
    const HttpResponse again = c.postRaw("/api/register", body, "application/json");
    EXPECT_EQ(again.status, 413) << again;
    EXPECT_EQ(c.get("/healthz").status, 200);
}

TEST_F(SocketAnyBackendTest, Http10ClientReadsToEofRightAfterTheAnswer) {
    RawConnection conn(server->port());
    ASSERT_TRUE(conn.ok());
    const auto start = std::chrono::steady_clock::now();
    conn.send("GET /healthz HTTP/1.0\r\n\r\n");
    const RawResponse r = conn.readUntilClosed(5s);  // the keep-alive timeout is 30 s
    EXPECT_FALSE(r.timedOut) << "no EOF after the answer: " << r.raw;
    EXPECT_EQ(r.status, 200) << r.raw;
    EXPECT_TRUE(containsI(header(r, "Connection"), "close")) << r.raw;
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

TEST_F(SocketAnyBackendTest, ConnectionCloseClientReadsToEofRightAfterTheAnswer) {
    for (const std::string path : {"/healthz", "/readyz", "/nope"}) {  // reactor, pool, 404
        RawConnection conn(server->port());
        ASSERT_TRUE(conn.ok());
        const auto start = std::chrono::steady_clock::now();
        conn.send(getRequest(path, "Connection: close\r\n"));
        const RawResponse r = conn.readUntilClosed(5s);
        EXPECT_FALSE(r.timedOut) << path << ": no EOF after the answer: " << r.raw;
        EXPECT_NE(r.status, 0) << path << ": " << r.raw;
        EXPECT_TRUE(containsI(header(r, "Connection"), "close")) << path << ": " << r.raw;
        EXPECT_LT(std::chrono::steady_clock::now() - start, 2s) << path;
    }
    // And through curl, which reads until the server closes when told "Connection: close".
    HttpClient c(server->port());
    const HttpResponse r = c.get("/healthz", {"Connection: close"});
    EXPECT_EQ(r.status, 200) << r;
    EXPECT_LT(r.seconds, 2.0);
    EXPECT_EQ(c.get("/healthz").newConnections, 1) << "the closed connection was reused";
}

TEST_F(SocketAnyBackendTest, HalfClosingClientGetsItsAnswers) {
    // nc -N and some health checkers shut their sending side after the request.
    for (const std::string path : {"/healthz", "/readyz"}) {  // reactor, pool
        RawConnection conn(server->port());
        ASSERT_TRUE(conn.ok());
        conn.send(getRequest(path, "X-Request-Id: half-1\r\n") +
                  getRequest("/healthz", "X-Request-Id: half-2\r\n"));
        conn.shutdownWrite();
        const RawResponse first = conn.readResponse(5s);
        EXPECT_EQ(first.status, 200) << path << ": " << first.raw;
        EXPECT_EQ(header(first, "X-Request-Id"), "half-1") << first.raw;
        const RawResponse second = conn.readResponse(5s);
        EXPECT_EQ(second.status, 200) << path << ": " << second.raw;
        EXPECT_EQ(header(second, "X-Request-Id"), "half-2") << second.raw;
        const RawResponse end = conn.readUntilClosed(5s);
        EXPECT_TRUE(end.closed && end.raw.empty()) << path << ": " << end.raw;
    }
    expectStillServing();
}

// ---------------------------------------------------------------- pipelining

// Reads `n` answers from `conn` and returns them in order.
std::vector<RawResponse> readAnswers(RawConnection& conn, size_t n) {
    std::vector<RawResponse> out;
    for (size_t i = 0; i < n; ++i) {
        RawResponse r = conn.readResponse(10s);
        if (r.status == 0) break;
        out.push_back(std::move(r));
    }
    return out;
}

TEST_F(SocketAnyBackendTest, PipelinedRequestsAreAllAnswered) {
    for (const size_t n : {2, 50}) {
        RawConnection conn(server->port());
        ASSERT_TRUE(conn.ok());
        std::string bytes;
        for (size_t i = 0; i < n; ++i) bytes += getRequest("/healthz");
        conn.send(bytes);  // one write
        const auto answers = readAnswers(conn, n);
        ASSERT_EQ(answers.size(), n) << n << " pipelined requests";
        for (const auto& r : answers) EXPECT_EQ(r.status, 200) << r.raw;
        conn.send(getRequest("/healthz"));  // the connection is still in step
        EXPECT_EQ(conn.readResponse(3s).status, 200);
    }
}

TEST_F(SocketAnyBackendTest, PipelinedPoolAndReactorRoutesAnswerInRequestOrder) {
    // /readyz runs on the database pool, a login on the hashing pool, /healthz and a
    // rejected /api/protected on the reactor: their answers must still come back in order.
    const std::string login = json{{"email", "nobody@example.com"}, {"password", "wrong"}}.dump();
    const std::string refresh = json{{"refresh_token", "not-a-token"}}.dump();
    auto post = [](const std::string& path, const std::string& body, const std::string& id) {
        return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
               "X-Request-Id: " + id + "\r\nContent-Length: " + std::to_string(body.size()) +
               "\r\n\r\n" + body;
    };
    std::vector<std::pair<std::string, long>> expected;  // request id, status
    std::string bytes;
    for (int round = 0; round < 3; ++round) {
        // Appended, not "r" + std::string: GCC 12 at -O3 warns falsely (-Wrestrict) on that.
        std::string r = "r";
        r.append(std::to_string(round)).append("-");
        bytes += getRequest("/readyz", "X-Request-Id: " + r + "ready\r\n");
        expected.emplace_back(r + "ready", 200);
        bytes += getRequest("/healthz", "X-Request-Id: " + r + "health\r\n");
        expected.emplace_back(r + "health", 200);
        bytes += post("/api/login", login, r + "login");
        expected.emplace_back(r + "login", 401);
        bytes += getRequest("/api/protected", "X-Request-Id: " + r + "protected\r\n");
        expected.emplace_back(r + "protected", 401);
        bytes += post("/api/refresh_token", refresh, r + "refresh");
        expected.emplace_back(r + "refresh", 401);
    }
    RawConnection conn(server->port());
    ASSERT_TRUE(conn.ok());
    conn.send(bytes);
    const auto answers = readAnswers(conn, expected.size());
    ASSERT_EQ(answers.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(header(answers[i], "X-Request-Id"), expected[i].first) << i;
        EXPECT_EQ(answers[i].status, expected[i].second) << expected[i].first << answers[i].raw;
    }
}

TEST_F(SocketAnyBackendTest, DeepPipelineBehindSlowAnswersIsAnsweredInOrder) {
    // More requests than the server keeps unanswered per connection (it stops reading the
    // connection meanwhile), with pool routes among them.
    constexpr int kRequests = 300;
    std::string bytes;
    for (int i = 0; i < kRequests; ++i) {
        bytes += getRequest(i % 10 == 0 ? "/readyz" : "/healthz",
                            "X-Request-Id: p" + std::to_string(i) + "\r\n");
    }
    bytes += getRequest("/healthz", "X-Request-Id: last\r\nConnection: close\r\n");
    RawConnection conn(server->port());
    ASSERT_TRUE(conn.ok());
    conn.send(bytes);
    const auto answers = readAnswers(conn, kRequests + 1);
    ASSERT_EQ(answers.size(), size_t(kRequests + 1));
    for (int i = 0; i < kRequests; ++i) {
        std::string id = "p";  // appended: as above, -Wrestrict
        id += std::to_string(i);
        EXPECT_EQ(header(answers[size_t(i)], "X-Request-Id"), id);
    }
    EXPECT_EQ(header(answers.back(), "X-Request-Id"), "last");
    EXPECT_TRUE(conn.readUntilClosed(5s).closed);
    expectStillServing();
}

TEST_F(SocketAnyBackendTest, ClientThatDoesNotReadItsAnswersIsNotReadEither) {
    // A pipelining client that never reads: once its answers pile up, the server must stop
    // reading its requests (bounded memory), so the client's sending stalls.
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    const int small = 64 * 1024;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);  // before connect
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    timeval oneSecond{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &oneSecond, sizeof oneSecond);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(server->port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);

    std::string chunk;
    while (chunk.size() < 256 * 1024) chunk += getRequest("/healthz");
    constexpr size_t kLimit = 64u << 20;  // what an unbounded server would take in
    size_t accepted = 0;
    bool stalled = false;
    while (accepted < kLimit && !stalled) {
        const size_t at = accepted % chunk.size();  // whole requests, back to back
        const ssize_t n = ::send(fd, chunk.data() + at, chunk.size() - at, MSG_NOSIGNAL);
        if (n > 0) {
            accepted += size_t(n);
        } else {
            stalled = n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
            if (!stalled && errno != EINTR) break;
        }
    }
    ::close(fd);
    EXPECT_TRUE(stalled) << "the server read " << accepted << " bytes of requests whose "
                         << "answers were never read";
    expectStillServing();
}

// ---------------------------------------------------------------- strict request grammar

// How many answers (status lines) a client read on one connection.
size_t statusLineCount(const std::string& raw) {
    size_t n = 0;
    for (size_t at = raw.find("HTTP/1.1 "); at != std::string::npos;
         at = raw.find("HTTP/1.1 ", at + 1)) {
        if (at == 0 || raw.compare(at - 2, 2, "\r\n") == 0 || raw[at - 1] == '}') ++n;
    }
    return n;
}

// Each request is refused with one 400 (JSON envelope, Connection: close) and nothing
// after it: what follows its header block is never read as another request.
void expectRefusedAndClosed(int port, const std::string& bytes, const std::string& label,
                            int status = 400) {
    RawConnection conn(port);
    ASSERT_TRUE(conn.ok());
    ASSERT_TRUE(conn.send(bytes));
    const RawResponse r = conn.readUntilClosed(5s);
    EXPECT_FALSE(r.timedOut) << label << ": not closed after the answer: " << r.raw;
    EXPECT_EQ(r.status, status) << label << ": " << r.raw;
    EXPECT_EQ(statusLineCount(r.raw), 1u) << label << ": a second answer: " << r.raw;
    EXPECT_TRUE(containsI(header(r, "Connection"), "close")) << label << ": " << r.raw;
    EXPECT_NE(r.raw.find("\"error\":\"invalid_request\""), std::string::npos)
        << label << ": " << r.raw;
}

TEST_F(SocketAnyBackendTest, WhitespaceBeforeAColonDoesNotSmuggleTheBodyAsARequest) {
    // Issue 21: "Content-Length : N" was ignored, and the body answered as a second request.
    const std::string smuggled = "GET /api/smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
    expectRefusedAndClosed(server->port(),
                           "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length : " +
                               std::to_string(smuggled.size()) + "\r\n\r\n" + smuggled,
                           "space before the colon");
    expectStillServing();
}

TEST_F(SocketAnyBackendTest, MalformedLinesAre400AndClose) {
    const std::string next = "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"obs-fold", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n 2\r\n\r\n"},
        {"line without a colon", "GET /healthz HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n"},
        {"bare LF", "GET /healthz HTTP/1.1\nHost: x\n\n"},
        {"bare LF after a field", "GET /healthz HTTP/1.1\r\nHost: x\n\r\n"},
        {"bare CR", "GET /healthz HTTP/1.1\r\nHost: x\rX-A: 1\r\n\r\n"},
        {"NUL in a value", std::string("GET /healthz HTTP/1.1\r\nX-A: a") + '\0' + "b\r\n\r\n"},
        {"control in a value", "GET /healthz HTTP/1.1\r\nX-A: a\x01\r\n\r\n"},
        {"version prefix", "GET /healthz HTTP/1.\r\nHost: x\r\n\r\n"},
        {"no version", "GET /healthz \r\nHost: x\r\n\r\n"},
        {"HTTP/1.2", "GET /healthz HTTP/1.2\r\nHost: x\r\n\r\n"},
    };
    for (const auto& [label, bytes] : cases) {
        expectRefusedAndClosed(server->port(), bytes + next, label);
    }
    expectStillServing();
}

TEST_F(SocketAnyBackendTest, TheSmugglingClassicsAre400AndClose) {
    const std::string post = "POST /api/login HTTP/1.1\r\nHost: x\r\n";
    const std::string smuggled = "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"CL.TE",
         post + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled},
        {"TE.CL", post + "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n1f\r\n" +
                      smuggled + "\r\n0\r\n\r\n"},
        {"TE.TE",
         post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n\r\n0\r\n\r\n" + smuggled},
        {"obfuscated TE", post + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n" + smuggled},
        {"two lengths", post + "Content-Length: 0\r\nContent-Length: " +
                            std::to_string(smuggled.size()) + "\r\n\r\n" + smuggled},
        {"signed length", post + "Content-Length: +0\r\n\r\n" + smuggled},
        {"length with a space", post + "Content-Length: 1 0\r\n\r\n" + smuggled},
        {"0x chunk size", post + "Transfer-Encoding: chunked\r\n\r\n0x0\r\n\r\n" + smuggled},
        {"chunk extension", post + "Transfer-Encoding: chunked\r\n\r\n0;a=b\r\n\r\n" + smuggled},
        {"LF-only chunks", post + "Transfer-Encoding: chunked\r\n\r\n2\nab\n0\n\n" + smuggled},
    };
    for (const auto& [label, bytes] : cases) {
        expectRefusedAndClosed(server->port(), bytes, label);
    }
    expectStillServing();
}

TEST_F(SocketAnyBackendTest, HeaderFieldsBeyondMaxHeaderBytesAre431AndClose) {
    // server.max_header_bytes: 16 KiB by default, whatever the body limit.
    const std::string big = "X-Big: " + std::string(17000, 'a') + "\r\n";
    expectRefusedAndClosed(server->port(), getRequest("/healthz", big), "17 KB of fields", 431);
    // Refused as soon as the bytes pass the limit, without the header block's end.
    RawConnection conn(server->port());
    ASSERT_TRUE(conn.ok());
    ASSERT_TRUE(conn.send("GET /healthz HTTP/1.1\r\nHost: x\r\n" + big));
    const RawResponse r = conn.readResponse(5s);
    EXPECT_EQ(r.status, 431) << r.raw;
    // Just below the limit: served.
    RawConnection fits(server->port());
    ASSERT_TRUE(fits.ok());
    ASSERT_TRUE(fits.send(getRequest("/healthz", "X-Big: " + std::string(16000, 'a') + "\r\n")));
    EXPECT_EQ(fits.readResponse(5s).status, 200);
}

TEST_F(SocketAnyBackendTest, AChunkedRequestTrickledInPiecesIsServed) {
    // The framer resumes between reads, the chunk walk too.
    const std::string body = "{\"email\":\"" + uniqueEmail("trickle") + "\",\"password\":\"" +
                             std::string(kPassword) + "\"}";
    const std::string half1 = body.substr(0, body.size() / 2), half2 = body.substr(half1.size());
    auto hex = [](size_t n) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%zx", n);
        return std::string(buf);
    };
    const std::string req =
        "POST /api/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n" +
        hex(half1.size()) + "\r\n" + half1 + "\r\n" + hex(half2.size()) + "\r\n" + half2 +
        "\r\n0\r\n\r\n";
    RawConnection conn(server->port());
    ASSERT_TRUE(conn.ok());
    for (size_t at = 0; at < req.size(); at += 7) {
        ASSERT_TRUE(conn.send(req.substr(at, 7)));
        std::this_thread::sleep_for(2ms);
    }
    const RawResponse r = conn.readResponse(5s);
    EXPECT_EQ(r.status, 201) << r.raw;
}

}  // namespace
}  // namespace it
