// bench_ceiling PORT THREADS: a bare Pistache server answering every request with a
// fixed small JSON body: the framework's limit on this machine (scenario 1 of the
// bench). Same server settings (app::serverSettings) and connection layer (app::ProtocolHandler:
// framing, the Content-Length guard, keep-alive for HTTP/1.1 without a Connection header,
// answers in request order) as authsvc, so the ceiling differs from it only by the service
// itself.
// Port 0 picks a free port; the chosen one is printed as "listening on 127.0.0.1:PORT".
// Stops on SIGTERM or SIGINT.
#include <pistache/http.h>
#include <pistache/peer.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "app/http/ProtocolHandler.h"

namespace Http = Pistache::Http;

namespace {

const std::string kBody = R"({"status":"ok"})";
const std::string kError = R"({"error":"invalid_request"})";
const authsvc::app::HeaderFields kJson = {{"Content-Type", "application/json"}};

class CeilingHandler : public authsvc::app::ProtocolHandler {
  public:
    HTTP_PROTOTYPE(CeilingHandler)

  private:
    void handleRequest(const Http::Request& /*req*/, Http::ResponseWriter&& writer,
                       Turn& turn) override {
        turn.answer(writer, Http::Code::Ok, kBody, kJson);
    }
    void handleProtocolError(Http::ResponseWriter&& writer, int status, Turn& turn) override {
        turn.answer(writer, static_cast<Http::Code>(status), kError, kJson);
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
    authsvc::app::ConnectionServer server(addr);
    server.start(authsvc::app::serverSettings(threads, kMaxBodyBytes),
                 std::make_shared<CeilingHandler>());
    std::printf("listening on 127.0.0.1:%d\n", int(uint16_t(server.port())));
    std::fflush(stdout);

    int sig = 0;
    sigwait(&stopSignals, &sig);
    server.shutdown();
    return 0;
}
