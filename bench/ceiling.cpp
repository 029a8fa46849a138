// bench_ceiling PORT THREADS: a bare Pistache server answering every request with a
// fixed small JSON body: the framework's limit on this machine (scenario 1 of the
// bench). Same endpoint options (app::endpointOptions) and input path (app::ProtocolHandler:
// the Content-Length guard and keep-alive for HTTP/1.1 without a Connection
// header) as authsvc, so the ceiling differs from it only by the service itself.
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

#include "app/ProtocolHandler.h"

namespace Http = Pistache::Http;

namespace {

const std::string kBody = R"({"status":"ok"})";

class CeilingHandler : public authsvc::app::ProtocolHandler {
  public:
    HTTP_PROTOTYPE(CeilingHandler)

    void onRequest(const Http::Request& /*req*/, Http::ResponseWriter writer) override {
        writer.headers().add<Http::Header::ContentType>(MIME(Application, Json));
        writer.send(Http::Code::Ok, kBody);
    }

  private:
    void onProtocolError(Http::ResponseWriter writer, int status) override {
        writer.send(static_cast<Http::Code>(status), "{\"error\":\"invalid_request\"}");
    }
};

constexpr int64_t kMaxBodyBytes = 16384;  // config.yaml's server.max_body_bytes

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
    endpoint->init(authsvc::app::endpointOptions(threads, kMaxBodyBytes));
    endpoint->setHandler(Http::make_handler<CeilingHandler>());
    endpoint->serveThreaded();
    std::printf("listening on 127.0.0.1:%d\n", int(uint16_t(endpoint->getPort())));
    std::fflush(stdout);

    int sig = 0;
    sigwait(&stopSignals, &sig);
    endpoint->shutdown();
    return 0;
}
