// Fuzz target: the HTTP request path as the server's protocol handler sees it, bytes in,
// response or close out, in one process and without a listening socket:
//   client end of a socketpair -> Pistache's Tcp::Transport (its real read loop,
//   handleIncoming) -> app::ProtocolHandler::onInput (declaredLengthProblem, Pistache's
//   request parser) -> app::Dispatcher (request id, route lookup, 404/405, body checks,
//   Bearer check, the real controllers over ServiceWorld's SQLite, on real worker
//   pools) -> ResponseWriter -> the transport's write queue -> the client end.
// What is not the server's own: the Pistache reactor loop. The target plays the reactor:
// it hands the transport a "readable" event for the peer, waits for the worker pools,
// then flushes the transport's write queue (Transport::flush). The peer is adopted through
// Transport's protected peer table (Endpoint's listener is not used), so there are no
// header/body timers and no ResponseNudger wake-ups (the flush replaces them).
// Input: byte 0 = flags (bit 0: the client half-closes after writing), byte 1 = where to
// split the bytes into two reads (0: one read), then the bytes the client sends.
// Checks: whatever comes back starts as an HTTP/1.x response and is never a 500.
// FUZZ_HTTP_ECHO=1 in the environment prints what came back (for replaying an input).
#include <fcntl.h>
#include <pistache/http.h>
#include <pistache/os.h>
#include <pistache/peer.h>
#include <pistache/reactor.h>
#include <pistache/transport.h>
#include <spdlog/logger.h>
#include <spdlog/sinks/null_sink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "ServiceWorld.h"
#include "app/HashingGovernor.h"
#include "app/HttpServer.h"
#include "app/Metrics.h"
#include "app/ProtocolHandler.h"
#include "app/ResponseNudger.h"
#include "app/Routes.h"
#include "app/WorkerPool.h"
#include "middleware/RequireAuth.h"

namespace {

using namespace authsvc;
namespace Http = Pistache::Http;
namespace Tcp = Pistache::Tcp;
namespace Polling = Pistache::Polling;

// What HttpServer's own handler does (private to HttpServer.cpp): requests and protocol
// errors go to the dispatcher.
class FuzzHandler : public app::ProtocolHandler {
  public:
    HTTP_PROTOTYPE(FuzzHandler)
    explicit FuzzHandler(std::shared_ptr<app::Dispatcher> d) : dispatcher_(std::move(d)) {}
    void onRequest(const Http::Request& req, Http::ResponseWriter writer) override {
        dispatcher_->handle(req, std::move(writer));
    }

  private:
    void onProtocolError(Http::ResponseWriter writer, int status) override {
        dispatcher_->protocolError(std::move(writer), status);
    }
    std::shared_ptr<app::Dispatcher> dispatcher_;
};

// A Transport whose peers the target adds and removes itself.
class FuzzTransport : public Tcp::Transport {
  public:
    using Tcp::Transport::Transport;
    void adopt(const std::shared_ptr<Tcp::Peer>& peer) { peers.emplace(peer->fd(), peer); }
    bool has(int fd) const { return peers.count(fd) != 0; }
    void forget(int fd) { peers.erase(fd); }
};

constexpr int64_t kMaxBodyBytes = 256;  // the smallest server.max_body_bytes: 413s are near

struct HttpWorld {
    // The clock stands still (the Bearer seeds stay valid) and logins are not throttled
    // (fuzz_json_body covers the throttle).
    fuzz::ServiceWorld service{1'000'000, 1'000'000};
    controllers::OpsController ops{[] { return true; }, [this] { return metrics.render(); }};
    app::Metrics metrics;
    middleware::RequireAuth requireAuth{service.tokenService};
    std::shared_ptr<spdlog::logger> log =
        std::make_shared<spdlog::logger>("fuzz", std::make_shared<spdlog::sinks::null_sink_mt>());
    app::WorkerPool databasePool{"fuzz-db", 1, 64};
    app::WorkerPool hashingPool{"fuzz-hash", 1, 64};
    app::ResponseNudger nudger{std::chrono::milliseconds(2), [](Tcp::Peer&) {}};
    app::ReactorThreads reactors;
    std::shared_ptr<app::Dispatcher> dispatcher;
    std::shared_ptr<FuzzHandler> handler;
    std::shared_ptr<FuzzTransport> transport;
    std::shared_ptr<Pistache::Aio::Reactor> reactor = Pistache::Aio::Reactor::create();
    Pistache::Aio::Reactor::Key key;

    HttpWorld() {
        log->set_level(spdlog::level::info);  // access lines are built, then dropped
        app::RoutesConfig paths;
        dispatcher = std::make_shared<app::Dispatcher>(
            app::routeTable(paths, *service.authController, *service.userController, ops),
            app::DispatcherDeps{requireAuth, metrics, log, databasePool, hashingPool, nudger,
                                reactors, kMaxBodyBytes});
        handler = std::make_shared<FuzzHandler>(dispatcher);
        // As Endpoint::init sets it from app::endpointOptions (body limit twice, + 32 KiB).
        handler->setMaxRequestSize(size_t(kMaxBodyBytes) * 2 + 32 * 1024);
        transport = std::make_shared<FuzzTransport>(handler);
        reactor->init();
        key = reactor->addHandler(transport);
    }
    ~HttpWorld() {
        hashingPool.stop();
        databasePool.stop();
        nudger.stop();
    }

    // One round of the reactor for the peer: read what arrived, let the pools answer,
    // write the answers.
    void pump(int fd) {
        if (!transport->has(fd)) return;  // the transport closed it
        Polling::Event readable{Polling::Tag(uint64_t(fd))};
        readable.flags = Pistache::Flags<Polling::NotifyOn>(Polling::NotifyOn::Read);
        std::vector<Polling::Event> events;
        events.push_back(readable);
        transport->onReady(Pistache::Aio::FdSet(std::move(events)));
        while (databasePool.hasWork() || hashingPool.hasWork()) std::this_thread::yield();
        transport->flush();
    }
};

void sendAll(int fd, std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n <= 0) return;  // the server end is gone, or the buffer is full: send less
        bytes.remove_prefix(size_t(n));
    }
}

std::string receiveAll(int fd) {
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return out;
        out.append(buf, size_t(n));
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static HttpWorld world;
    if (size < 2) return 0;
    const bool halfClose = data[0] & 1;
    const std::string_view bytes(reinterpret_cast<const char*>(data) + 2, size - 2);
    const size_t split = bytes.size() * data[1] / 256;

    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) {
        std::abort();
    }
    const int server = sv[0], client = sv[1];
    {
        auto peer =
            Tcp::Peer::Create(server, Pistache::Address("192.0.2.7", Pistache::Port(40000)));
        world.transport->adopt(peer);
        world.reactor->registerFd(world.key, server, Polling::NotifyOn::Read, Polling::Mode::Edge);
        static_cast<Tcp::Handler&>(*world.handler).onConnection(peer);

        if (split > 0) {
            sendAll(client, bytes.substr(0, split));
            world.pump(server);
        }
        sendAll(client, bytes.substr(split));
        if (halfClose) ::shutdown(client, SHUT_WR);
        world.pump(server);

        if (world.transport->has(server)) {
            world.transport->forget(server);
            world.reactor->removeFd(world.key, server);
            ::close(server);
        }
    }
    const std::string out = receiveAll(client);
    ::close(client);
    static const bool echo = std::getenv("FUZZ_HTTP_ECHO") != nullptr;
    if (echo) std::fprintf(stderr, "--- %zu bytes back:\n%s\n---\n", out.size(), out.c_str());
    if (!out.empty() && out.rfind("HTTP/1.", 0) != 0) std::abort();
    if (out.find(" 500 ") != std::string::npos) std::abort();
    return 0;
}
