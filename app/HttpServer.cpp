#include "app/HttpServer.h"

#include <pistache/peer.h>

#include <sys/socket.h>

#include <cctype>
#include <string_view>

#include "controllers/ErrorMapper.h"
#include "middleware/BodyChecks.h"

namespace authsvc::app {

namespace Http = Pistache::Http;
using models::ErrorCode;
using models::makeError;

namespace {

// Pistache 0.0.5 serialises only typed response headers; this one carries any name.
class NamedHeader : public Http::Header::Header {
  public:
    NamedHeader(std::string name, std::string value)
        : name_(std::move(name)), value_(std::move(value)) {}
    const char* name() const override { return name_.c_str(); }
    void parse(const std::string& data) override { value_ = data; }
    void write(std::ostream& os) const override { os << value_; }
    uint64_t hash() const override { return 0x61757468737663ULL; }  // never cast to

  private:
    std::string name_;
    std::string value_;
};

// Keeps access-log lines on one line and free of quotes (they may be JSON-formatted).
std::string logSafe(const std::string& s, size_t max = 200) {
    std::string out;
    for (char c : s.substr(0, max)) {
        out += (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? c : '?';
    }
    return out;
}

}  // namespace

Dispatcher::Dispatcher(std::vector<Route> routes, DispatcherDeps deps)
    : routes_(std::move(routes)), deps_(std::move(deps)) {
    for (size_t i = 0; i < routes_.size(); ++i) {
        metricIndex_.push_back(deps_.metrics.addRoute(routes_[i].name));
        for (const auto& p : routes_[i].paths) byPath_[p].push_back(i);
    }
}

Dispatcher::Lookup Dispatcher::lookup(const std::string& path, const std::string& method) const {
    Lookup out;
    out.index = Metrics::kUnmatched;
    auto it = byPath_.find(path);
    if (it == byPath_.end()) return out;
    for (size_t i : it->second) {
        if (routes_[i].method == method) {
            out.route = &routes_[i];
            out.index = metricIndex_[i];
            return out;
        }
        if (!out.allow.empty()) out.allow += ", ";
        out.allow += routes_[i].method;
    }
    return out;
}

// The error boundary: expected failures are already responses; anything thrown here
// is logged with the request id and answered without internals.
HttpResponse Dispatcher::run(const Route& route, const HttpRequest& req,
                             const AuthContext* auth) const {
    try {
        if (auto* h = std::get_if<PublicHandler>(&route.handler)) return (*h)(req);
        return std::get<BearerHandler>(route.handler)(req, *auth);
    } catch (const models::DatabaseUnavailable& e) {
        deps_.log->warn("database unavailable rid={} route={}: {}", req.requestId, route.name,
                        logSafe(e.what()));
        return controllers::errorResponse(
            makeError(ErrorCode::Unavailable, "The service is temporarily unavailable", 1));
    } catch (const std::exception& e) {
        deps_.log->error("unexpected failure rid={} route={}: {}", req.requestId, route.name,
                         logSafe(e.what()));
    } catch (...) {
        deps_.log->error("unexpected failure rid={} route={}", req.requestId, route.name);
    }
    return controllers::errorResponse(makeError(ErrorCode::Internal, "Internal server error"));
}

Pistache::Async::Promise<ssize_t> Dispatcher::send(
    Http::ResponseWriter& writer, const HttpRequest& req, size_t routeIndex,
    const HttpResponse& resp, std::chrono::steady_clock::time_point start) const {
    writer.headers().add(std::make_shared<NamedHeader>("X-Request-Id", req.requestId));
    for (const auto& [name, value] : resp.headers) {
        writer.headers().add(std::make_shared<NamedHeader>(name, value));
    }
    writer.headers().add(std::make_shared<NamedHeader>("Content-Type", resp.contentType));
    auto sent = writer.send(static_cast<Http::Code>(resp.status), resp.body);
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::steady_clock::now() - start)
                            .count();
    deps_.metrics.observeRequest(routeIndex, resp.status, micros);
    deps_.log->info("{} {} {} {}us rid={}", req.method, logSafe(req.path), resp.status, micros,
                    req.requestId);
    return sent;
}

void Dispatcher::protocolError(Http::ResponseWriter writer, int status) {
    HttpRequest req;
    req.method = "-";
    req.path = "-";
    req.requestId = requestIds_.next(std::nullopt);
    ErrorCode code = ErrorCode::InvalidRequest;
    std::string message = "Malformed HTTP request";
    if (status == 413) {
        code = ErrorCode::PayloadTooLarge;
        message = "Request exceeds the size limit";
    } else if (status == 415) {
        code = ErrorCode::UnsupportedMediaType;
        message = "Unreadable Content-Type";
    }
    HttpResponse resp = controllers::errorResponse(makeError(code, message));
    if (status >= 400 && status < 600) resp.status = status;
    try {
        // After a refused request the position in the byte stream is unknown (the rest of
        // an unread body would parse as requests): close once the answer is written. This
        // runs on the reactor thread, where chaining on the send promise is safe.
        std::weak_ptr<Pistache::Tcp::Peer> peer = writer.getPeer();
        send(writer, req, Metrics::kUnmatched, resp, std::chrono::steady_clock::now())
            .then(
                [peer](ssize_t) {
                    if (auto p = peer.lock()) ::shutdown(p->fd(), SHUT_RDWR);
                },
                [peer](std::exception_ptr) {
                    if (auto p = peer.lock()) ::shutdown(p->fd(), SHUT_RDWR);
                });
    } catch (const std::exception& e) {
        deps_.log->warn("could not answer a malformed request: {}", logSafe(e.what()));
    }
}

void Dispatcher::handle(const Http::Request& preq, Http::ResponseWriter writer) {
    try {
        dispatch(preq, std::move(writer));
    } catch (const std::exception& e) {
        // Only reachable if building or sending a response failed (e.g. out of memory).
        deps_.log->error("request dropped: {}", logSafe(e.what()));
    }
}

void Dispatcher::dispatch(const Http::Request& preq, Http::ResponseWriter writer) {
    const auto start = std::chrono::steady_clock::now();
    const auto& headers = preq.headers();
    HttpRequest req;
    req.method = Http::methodString(preq.method());
    req.path = preq.resource();
    if (auto ct = headers.tryGet<Http::Header::ContentType>()) {
        req.hasContentType = true;
        const auto& mime = ct->mime();
        req.jsonContentType =
            mime.top() == Http::Mime::Type::Application && mime.sub() == Http::Mime::Subtype::Json;
    }
    if (auto authz = headers.tryGet<Http::Header::Authorization>())
        req.authorization = authz->value();
    std::optional<std::string> incomingId;
    if (auto raw = headers.tryGetRaw("X-Request-Id")) incomingId = raw->value();
    req.requestId = requestIds_.next(incomingId);
    req.clientIp = preq.address().host();

    auto reply = [&](size_t index, const HttpResponse& resp) {
        send(writer, req, index, resp, start);
    };
    if (draining_) {
        reply(Metrics::kUnmatched, controllers::errorResponse(makeError(
                                       ErrorCode::Unavailable, "The server is shutting down", 1)));
        return;
    }
    Lookup found = lookup(req.path, req.method);
    if (!found.route) {
        if (found.allow.empty()) {
            reply(found.index,
                  controllers::errorResponse(
                      makeError(ErrorCode::NotFound, "No resource at " + logSafe(req.path, 100))));
        } else {
            auto resp = controllers::errorResponse(
                makeError(ErrorCode::MethodNotAllowed, "Method " + req.method + " is not allowed"));
            reply(found.index, resp.header("Allow", found.allow));
        }
        return;
    }
    req.body = preq.body();
    if (auto bad = middleware::checkBody(req, deps_.maxBodyBytes)) {
        reply(found.index, controllers::errorResponse(*bad));
        return;
    }
    std::optional<AuthContext> auth;
    if (found.route->needsBearer()) {
        auto ctx = deps_.requireAuth.authenticate(req.authorization);
        if (!ctx) {
            reply(found.index, controllers::errorResponse(ctx.error()));
            return;
        }
        auth = std::move(ctx.value());
    }

    const Route& route = *found.route;
    if (route.runsOn == RunsOn::Reactor) {
        reply(found.index, run(route, req, auth ? &*auth : nullptr));
        return;
    }
    // Blocking work goes to a worker pool; the response is sent from there (see
    // ResponseNudger for the one Pistache rule that makes this safe).
    auto shared = std::make_shared<Http::ResponseWriter>(std::move(writer));
    WorkerPool& pool = route.runsOn == RunsOn::HashingPool ? deps_.hashingPool : deps_.databasePool;
    const size_t index = found.index;
    auto job = [this, shared, req, auth = std::move(auth), &route, index, start]() {
        HttpResponse resp = run(route, req, auth ? &*auth : nullptr);  // never throws
        try {
            std::weak_ptr<Pistache::Tcp::Peer> peer = shared->getPeer();
            send(*shared, req, index, resp, start);
            deps_.nudger.poke(std::move(peer));
        } catch (const std::exception& e) {
            // An exception escaping a worker would end the process.
            deps_.log->warn("response not sent rid={}: {}", req.requestId, logSafe(e.what()));
        }
    };
    if (!pool.trySubmit(std::move(job))) {
        send(*shared, req, index,
             controllers::errorResponse(makeError(ErrorCode::Unavailable, "The server is busy", 1)),
             start);
    }
}

namespace {
// Pistache's parser reserves a body of the declared Content-Length before reading it,
// so "Content-Length: 99999999999" would allocate 100 GB. Looks at the header block in
// this chunk of input: 413 for a declared length beyond the request limit, 400 for one
// that is not a plain number. (A header split across two reads is not seen here; the
// parser's own failure is then caught as a 400.)
int declaredLengthProblem(std::string_view input, size_t limit) {
    const size_t headerEnd = std::min(input.find("\r\n\r\n"), input.size());
    constexpr std::string_view name = "\ncontent-length:";
    for (size_t i = 0; i + name.size() <= headerEnd; ++i) {
        size_t k = 0;
        while (k < name.size() &&
               std::tolower(static_cast<unsigned char>(input[i + k])) == name[k]) {
            ++k;
        }
        if (k != name.size()) continue;
        size_t p = i + k;
        while (p < input.size() && (input[p] == ' ' || input[p] == '\t')) ++p;
        size_t digits = 0;
        uint64_t value = 0;
        while (p < input.size() && std::isdigit(static_cast<unsigned char>(input[p]))) {
            if (++digits > 18) return 413;
            value = value * 10 + uint64_t(input[p++] - '0');
        }
        if (p < input.size() && input[p] != '\r' && input[p] != ' ' && input[p] != '\t') {
            return 400;
        }
        if (digits == 0 && p < input.size()) return 400;
        if (value > limit) return 413;
    }
    return 0;
}

// Our Http::Handler. onInput() is our own version of Pistache's (private there, but
// virtual in Tcp::Handler), so that the protocol-level errors follow the contract:
// JSON bodies without library messages, 400 rather than a 500 carrying
// "basic_string::_M_create" for a negative Content-Length, 413 for a request beyond the
// parser's buffer. It also fixes keep-alive at the source: Pistache 0.0.5 answers
// "Connection: Close" to an HTTP/1.1 request without a Connection header (whose
// default is keep-alive, RFC 9112 9.3) yet keeps the socket open, so clients
// reconnect for every request.
class RequestHandler : public Http::Handler {
  public:
    HTTP_PROTOTYPE(RequestHandler)
    explicit RequestHandler(std::shared_ptr<Dispatcher> d) : dispatcher_(std::move(d)) {}

    void onRequest(const Http::Request& req, Http::ResponseWriter writer) override {
        dispatcher_->handle(req, std::move(writer));
    }

  private:
    void onInput(const char* buffer, size_t len,
                 const std::shared_ptr<Pistache::Tcp::Peer>& peer) override {
        auto parser = getParser(peer);
        auto& request = parser->request;
        bool complete = false;
        int errorStatus = declaredLengthProblem(std::string_view(buffer, len), getMaxRequestSize());
        try {
            if (errorStatus != 0) {
                // refused before Pistache reserves the declared length
            } else if (!parser->feed(buffer, len)) {
                errorStatus = 413;
            } else {
                complete = parser->parse() == Http::Private::State::Done;
            }
        } catch (const Http::HttpError& e) {
            errorStatus = e.code();
        } catch (const std::exception&) {
            errorStatus = 400;  // the parser refused the request (e.g. a bad Content-Length)
        }
        if (errorStatus != 0) {
            Http::ResponseWriter response(request.version(), transport(), this, peer);
            parser->reset();
            dispatcher_->protocolError(std::move(response), errorStatus);
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
        dispatcher_->handle(request, std::move(response));
        parser->reset();
    }

    std::shared_ptr<Dispatcher> dispatcher_;
};

// Room for the request line and headers on top of the largest body we accept, so an
// oversized body reaches our own 413 (with its JSON body) rather than Pistache's.
constexpr size_t kHeaderRoom = 32 * 1024;
}  // namespace

HttpServer::HttpServer(ServerOptions options, std::shared_ptr<Dispatcher> dispatcher)
    : options_(std::move(options)), dispatcher_(std::move(dispatcher)) {}

HttpServer::~HttpServer() {
    stop();
}

void HttpServer::start() {
    Pistache::Address addr(options_.host, Pistache::Port(uint16_t(options_.port)));
    endpoint_ = std::make_unique<Http::Endpoint>(addr);
    auto opts = Http::Endpoint::options()
                    .threads(options_.threads)
                    .flags(Pistache::Tcp::Options::ReuseAddr)
                    .backlog(1024)
                    .maxRequestSize(size_t(options_.maxBodyBytes) * 2 + kHeaderRoom)
                    .maxResponseSize(4 * 1024 * 1024)
                    .headerTimeout(std::chrono::seconds(10))
                    .bodyTimeout(std::chrono::seconds(10))
                    .keepaliveTimeout(std::chrono::seconds(30));
    endpoint_->init(opts);
    endpoint_->setHandler(Http::make_handler<RequestHandler>(dispatcher_));
    endpoint_->serveThreaded();
}

int HttpServer::port() const {
    return endpoint_ ? int(uint16_t(endpoint_->getPort())) : 0;
}

void HttpServer::stop() {
    if (endpoint_) {
        endpoint_->shutdown();
        endpoint_.reset();
    }
}

}  // namespace authsvc::app
