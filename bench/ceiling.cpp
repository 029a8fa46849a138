// bench_ceiling PORT THREADS: a bare Pistache server answering every request with a
// fixed small JSON body: the framework's limit on this machine (scenario 1 of the
// bench). Same endpoint options as app/HttpServer.cpp's HttpServer::start, and the same
// keep-alive fix (no "Connection: Close" for an HTTP/1.1 request without a Connection
// header), so that a plain wrk keeps its connections open as with authsvc.
// Port 0 picks a free port; the chosen one is printed as "listening on 127.0.0.1:PORT".
// Stops on SIGTERM or SIGINT.
#include <pistache/endpoint.h>
#include <pistache/http.h>
#include <pistache/peer.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

namespace Http = Pistache::Http;

namespace {

const std::string kBody = R"({"status":"ok"})";

class CeilingHandler : public Http::Handler {
  public:
    HTTP_PROTOTYPE(CeilingHandler)

    void onRequest(const Http::Request& /*req*/, Http::ResponseWriter writer) override {
        writer.headers().add<Http::Header::ContentType>(MIME(Application, Json));
        writer.send(Http::Code::Ok, kBody);
    }

  private:
    // The keep-alive part of app/HttpServer.cpp's RequestHandler::onInput.
    void onInput(const char* buffer, size_t len,
                 const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
        auto parser = getParser(peer);
        auto& request = parser->request;
        bool complete = false;
        int errorStatus = 0;
        try {
            if (!parser->feed(buffer, len)) {
                errorStatus = 413;
            } else {
                complete = parser->parse() == Http::Private::State::Done;
            }
        } catch (const Http::HttpError& e) {
            errorStatus = e.code();
        } catch (const std::exception&) {
            errorStatus = 400;
        }
        if (errorStatus != 0) {
            Http::ResponseWriter response(request.version(), transport(), this, peer);
            parser->reset();
            response.send(static_cast<Http::Code>(errorStatus), "{\"error\":\"invalid_request\"}");
            return;
        }
        if (!complete) return;

        Http::ResponseWriter response(request.version(), transport(), this, peer);
        request.copyAddress(peer->address());
        if (auto connection = request.headers().tryGet<Http::Header::Connection>()) {
            response.headers().add<Http::Header::Connection>(connection->control());
        } else if (request.version() == Http::Version::Http10) {
            response.headers().add<Http::Header::Connection>(Http::ConnectionControl::Close);
        }
        peer->setIdle(false);
        onRequest(request, std::move(response));
        parser->reset();
    }
};

// As app/HttpServer.cpp: room for headers on top of twice the default max_body_bytes.
constexpr size_t kMaxBodyBytes = 16384;
constexpr size_t kHeaderRoom = 32 * 1024;

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s PORT THREADS\n", argv[0]);
        return 2;
    }
    const int port = std::atoi(argv[1]);
    const int threads = std::atoi(argv[2]);
    if (port < 0 || port > 65535 || threads < 1) {
        std::fprintf(stderr, "bad PORT or THREADS\n");
        return 2;
    }
    sigset_t stopSignals;
    sigemptyset(&stopSignals);
    sigaddset(&stopSignals, SIGTERM);
    sigaddset(&stopSignals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stopSignals, nullptr);

    Pistache::Address addr("127.0.0.1", Pistache::Port(uint16_t(port)));
    auto endpoint = std::make_unique<Http::Endpoint>(addr);
    auto opts = Http::Endpoint::options()
                    .threads(threads)
                    .flags(Pistache::Tcp::Options::ReuseAddr)
                    .backlog(1024)
                    .maxRequestSize(kMaxBodyBytes * 2 + kHeaderRoom)
                    .maxResponseSize(4 * 1024 * 1024)
                    .headerTimeout(std::chrono::seconds(10))
                    .bodyTimeout(std::chrono::seconds(10))
                    .keepaliveTimeout(std::chrono::seconds(30));
    endpoint->init(opts);
    endpoint->setHandler(Http::make_handler<CeilingHandler>());
    endpoint->serveThreaded();
    std::printf("listening on 127.0.0.1:%d\n", int(uint16_t(endpoint->getPort())));
    std::fflush(stdout);

    int sig = 0;
    sigwait(&stopSignals, &sig);
    endpoint->shutdown();
    return 0;
}
