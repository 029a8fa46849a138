// Fuzz target: the HTTP request path as the service runs it, bytes in, bytes out, in one
// process and without a listening socket:
//   client end of a socketpair -> a Pistache reactor thread running app::ConnectionTransport
//   (its own reading of the peer, half-close, closing) -> app::ProtocolHandler (framing of
//   pipelined requests, the length pre-checks, Pistache's parser, answers in request
//   order, "Connection: close") -> app::RequestHandler -> app::Dispatcher (request id, route
//   lookup, 404/405, body checks, Bearer check, the real controllers (JWKS too) over ServiceWorld's
//   SQLite, on real worker pools whose answers come back through the completion queue) ->
//   send(2) on the reactor thread (Pistache's write queue for what the socket does not take)
//   -> the client end.
// What is not the server's own: accepting the connection (the peer is handed to the
// transport with Transport::handleNewPeer, as Tcp::Listener does) and the server settings
// beyond the limits (app::serverSettings with small body and header limits, one reactor
// thread).
// Input: byte 0 = flags (bit 0: the client half-closes right after writing), byte 1 = where
// to split the bytes into two writes (0: one write), then the bytes the client sends.
// The client then waits for the answers: with bit 0 clear and input that frames into
// complete requests (app::frameRequest), until it has one answer per request (keep-alive,
// no close needed); then it half-closes (if it had not) and reads until the server closes
// its end; then it closes, and the target waits until the server has released the
// connection. Every wait is bounded (kPatience): running over it is a finding (abort).
// Checks: what comes back is a sequence of complete HTTP/1.x responses, none a 500 or a 408
// (the timeouts are set beyond the waits); no answer follows one that says "Connection:
// close"; at most one answer per framed request (one more for a request the framing
// refuses); and when no answer says "Connection: close", exactly one per complete request.
// FUZZ_HTTP_ECHO=1 in the environment prints what came back (for replaying an input).
#include <openssl/crypto.h>
#include <pistache/http.h>
#include <pistache/peer.h>
#include <pistache/reactor.h>
#include <poll.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/null_sink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ServiceWorld.h"
#include "app/OpenApiDocument.h"
#include "app/Routes.h"
#include "app/http/HttpServer.h"
#include "app/http/ProtocolHandler.h"
#include "app/http/RequestFramer.h"
#include "app/observability/Metrics.h"
#include "app/scheduling/DatabasePool.h"
#include "app/scheduling/HashingGovernor.h"
#include "app/scheduling/WorkerPool.h"
#include "controllers/AdminController.h"
#include "controllers/KeysController.h"
#include "middleware/BodyChecks.h"
#include "middleware/ClientAddress.h"
#include "middleware/RequireAuth.h"
#include "services/UserAdminService.h"

namespace {

using namespace authsvc;
namespace Http = Pistache::Http;
namespace Tcp = Pistache::Tcp;
using Clock = std::chrono::steady_clock;

// Far beyond any answer's time on a loaded machine; an input that needs longer hangs.
constexpr auto kPatience = std::chrono::seconds(20);
constexpr int64_t kMaxBodyBytes = 256;    // the smallest server.max_body_bytes: 413s are near
constexpr size_t kMaxHeaderBytes = 1024;  // the smallest server.max_header_bytes: 431s too

[[noreturn]] void fail(const char* what, const std::string& out) {
    std::fprintf(stderr, "fuzz_http: %s\n--- %zu bytes back:\n%s\n---\n", what, out.size(),
                 out.c_str());
    std::abort();
}

// ConnectionTransport as the server's reactor thread runs it; tells the target (another
// thread) how many peers it holds and how many event rounds it has handled.
class FuzzTransport : public app::ConnectionTransport {
  public:
    using app::ConnectionTransport::ConnectionTransport;
    void onReady(const Pistache::Aio::FdSet& fds) override {
        app::ConnectionTransport::onReady(fds);
        open_ = peers.size();
        ++rounds_;
    }
    size_t open() const { return open_; }
    uint64_t rounds() const { return rounds_; }

  private:
    std::atomic<size_t> open_{0};
    std::atomic<uint64_t> rounds_{0};
};

// The service's settings for one reactor thread, with timeouts beyond kPatience: a request
// left unanswered shows as a missing answer, not as a 408 that closes the connection.
app::ServerSettings serverSettings() {
    app::ServerSettings s = app::serverSettings(1, kMaxBodyBytes);
    s.limits.maxHeaderBytes = kMaxHeaderBytes;
    s.limits.requestTimeout = 3 * kPatience;
    s.limits.keepaliveTimeout = 3 * kPatience;
    return s;
}

struct HttpWorld {
    // The clock stands still (the Bearer seeds stay valid) and logins are not throttled
    // (fuzz_json_body covers the throttle).
    fuzz::ServiceWorld service{1'000'000, 1'000'000};
    app::Metrics metrics;
    controllers::OpsController ops{[] { return true; }, [this] { return metrics.render(); },
                                   app::openApiJson()};
    controllers::KeysController keysController{service.keys, 300};
    models::UserAdminService userAdmin{*service.db, service.users, *service.auth,
                                       *service.accounts};
    controllers::AdminController adminController{userAdmin};
    middleware::RequireAuth requireAuth{service.verifier};
    app::RouteChecks checks{std::make_shared<middleware::BodyRules>(kMaxBodyBytes),
                            std::make_shared<middleware::RequireBearer>(requireAuth),
                            *service.auth};
    middleware::TrustedProxies trustedProxies;
    std::shared_ptr<spdlog::logger> log =
        std::make_shared<spdlog::logger>("fuzz", std::make_shared<spdlog::sinks::null_sink_mt>());
    // As the server wires it (on SQLite: refreshes answer once the pool drains).
    std::unique_ptr<app::WorkerPool> databasePool =
        app::makeDatabasePool(*service.db, "fuzz-db", 1, 64);
    app::WorkerPool hashingPool{"fuzz-hash", 1, 64};
    app::ReactorThreads reactors;
    app::ServerSettings settings = serverSettings();
    std::shared_ptr<app::Dispatcher> dispatcher;
    std::shared_ptr<FuzzTransport> transport;
    std::shared_ptr<Pistache::Aio::Reactor> reactor = Pistache::Aio::Reactor::create();
    std::thread reactorThread;

    HttpWorld() {
        // OpenSSL initialises itself on first use, keeping error state of the thread that
        // does so; on the reactor thread (gone before the exit-time leak check) that state
        // is reported as a leak. The main thread's is released at exit.
        OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, nullptr);
        log->set_level(spdlog::level::info);  // access lines are built, then dropped
        app::RoutesConfig paths;
        dispatcher = std::make_shared<app::Dispatcher>(
            app::routeTable(paths, checks, *service.authController, *service.userController,
                            *service.accountController, ops, keysController, adminController),
            app::DispatcherDeps{metrics, log, *databasePool, hashingPool,
                                [this] { reactors.addCurrentThread(); }, trustedProxies});
        // As ConnectionServer::start sets up each reactor thread's handler and transport.
        auto handler = std::make_shared<app::RequestHandler>(dispatcher);
        handler->setMaxRequestSize(settings.limits.maxRequestBytes);
        handler->setMaxResponseSize(settings.maxResponseBytes);
        handler->setLimits(settings.limits);
        transport = std::make_shared<FuzzTransport>(handler);
        reactor->init();
        reactor->addHandler(transport);
        reactorThread = std::thread([r = reactor] { r->run(); });
    }
    ~HttpWorld() {
        reactor->shutdown();
        reactorThread.join();
        hashingPool.stop();
        databasePool->stop();
    }
};

struct Response {
    int status = 0;
    bool close = false;  // "Connection: close"
};

bool startsWithIgnoringCase(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
    }
    return true;
}

// Parses the complete responses at the start of `out` into `responses`; returns how many
// bytes they take. Fails (abort) on bytes that cannot start a response. `heads[i]`: the
// i-th request was a HEAD, so its answer has a Content-Length but no body; 1xx, 204 and
// 304 answers have neither (RFC 9110 8.6, 9.3.2).
size_t parseResponses(const std::string& out, std::vector<Response>& responses,
                      const std::vector<bool>& heads) {
    responses.clear();
    size_t pos = 0;
    while (pos < out.size()) {
        const std::string_view rest = std::string_view(out).substr(pos);
        if (rest.size() >= 7 && rest.substr(0, 7) != "HTTP/1.") fail("not an HTTP/1.x answer", out);
        if (rest.size() < 7 && std::string_view("HTTP/1.").substr(0, rest.size()) != rest) {
            fail("not an HTTP/1.x answer", out);
        }
        const size_t headerEnd = rest.find("\r\n\r\n");
        if (headerEnd == std::string_view::npos) break;
        Response r;
        if (headerEnd < 12 || rest[8] != ' ') fail("bad status line", out);
        r.status = std::atoi(std::string(rest.substr(9, 3)).c_str());
        if (r.status < 100 || r.status > 599) fail("bad status", out);
        size_t length = 0;
        bool hasLength = false;
        for (size_t nl = rest.find("\r\n"); nl < headerEnd; nl = rest.find("\r\n", nl + 2)) {
            const std::string_view line = rest.substr(nl + 2, rest.find("\r\n", nl + 2) - nl - 2);
            if (startsWithIgnoringCase(line, "content-length:")) {
                hasLength = true;
                length = size_t(std::strtoull(std::string(line.substr(15)).c_str(), nullptr, 10));
            } else if (startsWithIgnoringCase(line, "connection:")) {
                std::string_view value = line.substr(11);
                while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
                r.close = startsWithIgnoringCase(value, "close");
            }
        }
        const bool noBody = r.status < 200 || r.status == 204 || r.status == 304;
        if (noBody && hasLength) fail("a Content-Length on a 1xx, 204 or 304", out);
        if (!noBody && !hasLength) fail("an answer without Content-Length", out);
        if (responses.size() < heads.size() && heads[responses.size()]) length = 0;
        if (rest.size() < headerEnd + 4 + length) break;
        responses.push_back(r);
        pos += headerEnd + 4 + length;
    }
    return pos;
}

// Waits (bounded) until `fd` is readable or writable as asked; false at the deadline.
// libFuzzer's -timeout alarm interrupts poll() (EINTR): it waits on.
bool waitFor(int fd, short events, Clock::time_point deadline) {
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) return false;
        pollfd p{fd, events, 0};
        const int n = ::poll(&p, 1, int(left.count()));
        if (n > 0) return true;
        if (n < 0 && errno != EINTR) return false;
    }
}

// Reads what is there; false once the server has closed its end.
bool receive(int fd, std::string& out) {
    char buf[8192];
    for (;;) {
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n > 0) {
            out.append(buf, size_t(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
}

// Sends all of `bytes`, reading answers meanwhile (a server that stops reading until its
// answers are read must not block the client); false if the server end is gone.
bool sendAll(int fd, std::string_view bytes, std::string& out, Clock::time_point deadline) {
    while (!bytes.empty()) {
        if (!waitFor(fd, POLLOUT | POLLIN, deadline)) fail("the server does not read", out);
        if (!receive(fd, out)) return false;
        const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n > 0) bytes.remove_prefix(size_t(n));
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
    }
    return true;
}

// The request in `frame` is one Pistache's parser accepts (as ProtocolHandler::parseFrame
// feeds it) and its method is HEAD: its answer has no body.
bool parsesAsHead(std::string_view frame, size_t limit) {
    Http::RequestParser parser(limit);
    try {
        return parser.feed(frame.data(), frame.size()) &&
               parser.parse() == Http::Private::State::Done &&
               parser.request.method() == Http::Method::Head;
    } catch (const std::exception&) {
        return false;
    }
}

// The requests the server frames in `bytes`: how many are complete (and which of them are
// HEADs), whether the framing refuses one (the server answers it, then closes), whether
// bytes of a request are left.
struct Framing {
    size_t complete = 0;
    std::vector<bool> heads;  // per complete request: a HEAD
    bool refused = false;
    bool partial = false;
};
Framing frame(std::string_view bytes, size_t limit) {
    Framing f;
    while (!bytes.empty()) {
        const app::RequestFrame r = app::frameRequest(bytes, limit, kMaxHeaderBytes);
        if (r.status != 0) {
            f.refused = true;
            break;
        }
        if (r.length == 0) {
            f.partial = true;
            break;
        }
        ++f.complete;
        f.heads.push_back(parsesAsHead(bytes.substr(0, r.length), limit));
        bytes.remove_prefix(r.length);
    }
    return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static HttpWorld world;
    if (size < 2) return 0;
    const bool halfClose = data[0] & 1;
    const std::string_view bytes(reinterpret_cast<const char*>(data) + 2, size - 2);
    const size_t split = bytes.size() * data[1] / 256;
    const Framing expected = frame(bytes, world.settings.limits.maxRequestBytes);

    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) {
        std::abort();
    }
    const int server = sv[0], client = sv[1];
    world.transport->handleNewPeer(
        Tcp::Peer::Create(server, Pistache::Address("192.0.2.7", Pistache::Port(40000))));

    const auto deadline = Clock::now() + kPatience;
    std::string out;
    std::vector<Response> responses;
    bool open = true;  // the server has not closed its end
    if (split > 0) {
        const uint64_t rounds = world.transport->rounds();
        open = sendAll(client, bytes.substr(0, split), out, deadline);
        // Two reads for the server, most of the time: an event round after the first write.
        while (open && world.transport->rounds() < rounds + 1 && Clock::now() < deadline) {
            std::this_thread::sleep_for(std::chrono::microseconds(20));
        }
    }
    if (open) open = sendAll(client, bytes.substr(split), out, deadline);
    if (open && !halfClose && !expected.refused && !expected.partial) {
        // Keep-alive: every request is answered without the client closing anything.
        while (open && parseResponses(out, responses, expected.heads) == out.size() &&
               responses.size() < expected.complete &&
               (responses.empty() || !responses.back().close)) {
            if (!waitFor(client, POLLIN, deadline)) fail("answers missing (keep-alive)", out);
            open = receive(client, out);
        }
    }
    // The client sends no more: the server answers what it has and then closes.
    ::shutdown(client, SHUT_WR);
    while (open) {
        if (!waitFor(client, POLLIN, deadline)) fail("the server did not close its end", out);
        open = receive(client, out);
    }
    ::close(client);
    while (world.transport->open() != 0) {
        if (Clock::now() > deadline) fail("the connection was not released", out);
        std::this_thread::sleep_for(std::chrono::microseconds(20));
    }

    static const bool echo = std::getenv("FUZZ_HTTP_ECHO") != nullptr;
    if (echo) std::fprintf(stderr, "--- %zu bytes back:\n%s\n---\n", out.size(), out.c_str());
    if (parseResponses(out, responses, expected.heads) != out.size())
        fail("an incomplete answer", out);
    size_t closeAt = responses.size();
    for (size_t i = 0; i < responses.size(); ++i) {
        if (responses[i].status == 500) fail("a 500", out);
        if (responses[i].status == 408) fail("a 408 (a request was left waiting)", out);
        if (responses[i].close && closeAt == responses.size()) closeAt = i;
    }
    if (closeAt + 1 < responses.size()) fail("an answer after Connection: close", out);
    if (responses.size() > expected.complete + (expected.refused ? 1 : 0)) {
        fail("more answers than requests", out);
    }
    if (closeAt == responses.size() &&
        (expected.refused || responses.size() != expected.complete)) {
        fail("a request without an answer", out);
    }
    return 0;
}
