// Dispatcher: a parsed request's way to its answer, on the reactor thread that read it:
//   the request (id, fields) -> route lookup (404/405) -> admission: the route's checks
//   in order (middleware/Admission.h: body rules, Bearer, role, ...) -> the handler inline,
//   or on a worker pool for blocking work, after the route's worker checks (a live
//   session) -> (back on the reactor thread) access log + metrics -> answer, in the
//   connection's request order. A new check is a line in the route table; nothing here
//   changes.
// RequestHandler is the ProtocolHandler that hands every request to it.
// Called by reactor threads; its state is immutable after construction but for draining_.
#pragma once

#include <pistache/http.h>
#include <spdlog/logger.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "app/http/ProtocolHandler.h"
#include "app/http/Route.h"
#include "app/observability/Metrics.h"
#include "app/scheduling/WorkerPool.h"
#include "middleware/Admission.h"
#include "middleware/ClientAddress.h"
#include "middleware/RequestId.h"

namespace authsvc::app {

struct DispatcherDeps {
    Metrics& metrics;
    std::shared_ptr<spdlog::logger> log;
    WorkerPool& databasePool;
    WorkerPool& hashingPool;
    // Called once from each reactor thread, on its first request (e.g. so that a scheduler
    // can watch how busy the reactors are); may be empty.
    std::function<void()> onReactorThread;
    const middleware::TrustedProxies& trustedProxies;
};

class Dispatcher {
  public:
    // Throws std::invalid_argument for a route whose checks cannot run as listed
    // (middleware::admissionProblem).
    Dispatcher(std::vector<Route> routes, DispatcherDeps deps);
    using Turn = ProtocolHandler::Turn;
    // Answers `req` through `turn` (on a worker pool for blocking work; the answer is then
    // written by the reactor thread). Never throws: failures become 500 responses. The
    // writer is taken by reference and moved only by a route that runs on a worker pool.
    void handle(const Pistache::Http::Request& req, Pistache::Http::ResponseWriter&& writer,
                Turn& turn);
    // Answers a request that the parser refused (400, 408, 413, ...) with our envelope.
    void protocolError(Pistache::Http::ResponseWriter&& writer, int status, Turn& turn);
    // Called once by each reactor thread's handler, from that thread.
    void reactorThreadSeen() {
        if (deps_.onReactorThread) deps_.onReactorThread();
    }
    // From now on every new request is answered 503 (graceful shutdown).
    void startDraining() { draining_ = true; }

  private:
    struct Lookup {
        const Route* route = nullptr;
        size_t index = 0;
        std::string allow;       // non-empty: the path exists with these methods
        std::string_view param;  // the parameter segment of a "/prefix/{name}" route's path
    };
    // The routes of one "/prefix/{name}" path: they match "/prefix/<one segment>".
    struct ParamRoutes {
        std::string prefix;  // with its trailing '/'
        std::vector<size_t> routes;
    };
    void dispatch(const Pistache::Http::Request& req, Pistache::Http::ResponseWriter&& writer,
                  Turn& turn);
    // Building the request: what every answer needs (method, path, query, Authorization,
    // request id, the client's address when logged), then, once the route is known, the
    // rest it reads (path parameter, User-Agent only for a route that asks, body).
    HttpRequest requestLine(const Pistache::Http::Request& preq, Turn& turn);
    void completeRequest(const Pistache::Http::Request& preq, const Lookup& found,
                         HttpRequest& req) const;
    // The route's reactor checks: nullopt when they admit the request, else the answer.
    std::optional<HttpResponse> admitOnReactor(const Route& route, const HttpRequest& req,
                                               middleware::Admitted& admitted) const;
    // Runs the route's handler inline, or hands it (with its worker checks) to its pool.
    void schedule(const Route& route, size_t index, HttpRequest req, middleware::Admitted admitted,
                  const Pistache::Http::Request& preq, Pistache::Http::ResponseWriter& writer,
                  std::chrono::steady_clock::time_point start, Turn& turn);
    // Fixed paths first (one hash lookup); only when none matches, the few parameter paths.
    Lookup lookup(const std::string& path, const std::string& method) const;
    Lookup choose(const std::vector<size_t>& candidates, const std::string& method) const;
    // The peer's address (`peer`, as text), or the one the request's X-Forwarded-For names
    // when the peer is trusted.
    std::string clientAddress(const std::string& peer, const Pistache::Http::Request& req) const;
    // The route's worker checks, then its handler: the error boundary.
    HttpResponse run(const Route& route, const HttpRequest& req,
                     middleware::Admitted& admitted) const;
    // The answer to an exception a check or a handler threw (logged with the request id).
    HttpResponse failure(const Route& route, const HttpRequest& req) const;
    // The route's worker checks, then its LaterHandler, which answers through `respond`
    // (at once for a refusal or a thrown exception): the same error boundary as run().
    void runLater(const Route& route, const HttpRequest& req, middleware::Admitted& admitted,
                  const controllers::Respond& respond) const;
    // A refusal or failure of `route`, in its error envelope (Route::oauthErrors).
    static HttpResponse refusalOf(const Route& route, const controllers::Refusal& refusal);
    // The response's header fields; counts and logs the response (any thread).
    HeaderFields prepare(const HttpRequest& req, size_t routeIndex, const HttpResponse& resp,
                         std::chrono::steady_clock::time_point start) const;
    // prepare(), then answers `turn` with it (on the turn's reactor thread).
    void send(Pistache::Http::ResponseWriter& writer, const HttpRequest& req, size_t routeIndex,
              const HttpResponse& resp, std::chrono::steady_clock::time_point start,
              Turn& turn) const;

    std::vector<Route> routes_;
    std::vector<size_t> metricIndex_;  // per route
    std::unordered_map<std::string, std::vector<size_t>> byPath_;
    std::vector<ParamRoutes> byPrefix_;
    DispatcherDeps deps_;
    middleware::RequestIds requestIds_;
    std::atomic<bool> draining_{false};
};

// The service's handler: requests and protocol errors go to the dispatcher. Pistache gives
// every reactor thread a clone; each tells the dispatcher its thread on its first request.
class RequestHandler : public ProtocolHandler {
  public:
    HTTP_PROTOTYPE(RequestHandler)
    explicit RequestHandler(std::shared_ptr<Dispatcher> d) : dispatcher_(std::move(d)) {}

  private:
    void handleRequest(const Pistache::Http::Request& req, Pistache::Http::ResponseWriter&& writer,
                       Turn& turn) override {
        if (!reactorSeen_) {
            reactorSeen_ = true;
            dispatcher_->reactorThreadSeen();
        }
        dispatcher_->handle(req, std::move(writer), turn);
    }
    void handleProtocolError(Pistache::Http::ResponseWriter&& writer, int status,
                             Turn& turn) override {
        dispatcher_->protocolError(std::move(writer), status, turn);
    }

    std::shared_ptr<Dispatcher> dispatcher_;
    bool reactorSeen_ = false;
};

}  // namespace authsvc::app
