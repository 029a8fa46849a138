#include "app/http/Dispatcher.h"

#include <pistache/peer.h>
#include <spdlog/details/fmt_helper.h>

#include <algorithm>
#include <stdexcept>
#include <string_view>

#include "app/http/ProtocolHandler.h"
#include "controllers/ErrorMapper.h"

namespace authsvc::app {

namespace Http = Pistache::Http;
using models::ErrorCode;
using models::makeError;
using Runs = middleware::Admission::Runs;

namespace {

// Keeps log lines on one line and free of quotes (they may be JSON-formatted), and the
// fields a client chooses at most kLogSafeMax bytes.
constexpr size_t kLogSafeMax = 200;

char logSafeChar(char c) {
    return c < 0x20 || c >= 0x7f || c == '"' || c == '\\' ? '?' : c;
}

std::string logSafe(std::string_view s, size_t max = kLogSafeMax) {
    std::string out(s.substr(0, max));
    for (char& c : out) c = logSafeChar(c);
    return out;
}

// spdlog's own buffer helpers (its pattern_formatter writes with them).
using spdlog::details::fmt_helper::append_int;
using spdlog::details::fmt_helper::append_string_view;

// The access-log message: "127.0.0.1 GET /api/protected 200 81us rid=...", starting with
// the client's address ("-" when unknown). Built by hand, without fmt's run-time format
// string or a copy of the path: every request writes one.
void appendAccessLine(spdlog::memory_buf_t& out, const HttpRequest& req, int status,
                      long long micros) {
    if (req.clientIp.empty()) out.push_back('-');
    for (const char c : std::string_view(req.clientIp).substr(0, kLogSafeMax)) {
        out.push_back(logSafeChar(c));
    }
    out.push_back(' ');
    append_string_view(req.method, out);
    out.push_back(' ');
    const std::string_view path = std::string_view(req.path).substr(0, kLogSafeMax);
    for (const char c : path) out.push_back(logSafeChar(c));
    out.push_back(' ');
    append_int(status, out);
    out.push_back(' ');
    append_int(micros, out);
    append_string_view("us rid=", out);
    append_string_view(req.requestId, out);
}

}  // namespace

Dispatcher::Dispatcher(std::vector<Route> routes, DispatcherDeps deps)
    : routes_(std::move(routes)), deps_(std::move(deps)) {
    for (size_t i = 0; i < routes_.size(); ++i) {
        if (auto why = middleware::admissionProblem(routes_[i].handler.admission(),
                                                    routes_[i].runsOn != RunsOn::Reactor)) {
            throw std::invalid_argument("route " + routes_[i].name + ": " + *why);
        }
        metricIndex_.push_back(deps_.metrics.addRoute(routes_[i].name));
        for (const auto& p : routes_[i].paths) {
            const size_t slash = p.rfind('/');
            if (!p.ends_with('}') || p.compare(slash + 1, 1, "{") != 0) {
                byPath_[p].push_back(i);
                continue;
            }
            const std::string prefix = p.substr(0, slash + 1);
            auto it = std::find_if(byPrefix_.begin(), byPrefix_.end(),
                                   [&](const ParamRoutes& r) { return r.prefix == prefix; });
            if (it == byPrefix_.end()) it = byPrefix_.insert(byPrefix_.end(), {prefix, {}});
            it->routes.push_back(i);
        }
    }
}

std::string Dispatcher::clientAddress(const std::string& peer, const Http::Request& preq) const {
    if (deps_.trustedProxies.empty()) return peer;
    const auto forwarded = preq.headers().tryGetRaw("X-Forwarded-For");
    return deps_.trustedProxies.clientAddress(
        peer, forwarded ? std::optional<std::string_view>(forwarded->value()) : std::nullopt);
}

Dispatcher::Lookup Dispatcher::lookup(const std::string& path, const std::string& requested) const {
    // HEAD is GET without the body (RFC 9110 9.3.2; ProtocolHandler leaves the body out).
    static const std::string kGet = "GET";
    const std::string& method = requested == "HEAD" ? kGet : requested;
    auto it = byPath_.find(path);
    if (it != byPath_.end()) return choose(it->second, method);
    for (const auto& r : byPrefix_) {
        if (path.size() > r.prefix.size() && path.starts_with(r.prefix) &&
            path.find('/', r.prefix.size()) == std::string::npos) {
            Lookup out = choose(r.routes, method);
            out.param = std::string_view(path).substr(r.prefix.size());
            return out;
        }
    }
    Lookup out;
    out.index = Metrics::kUnmatched;
    return out;
}

Dispatcher::Lookup Dispatcher::choose(const std::vector<size_t>& candidates,
                                      const std::string& method) const {
    Lookup out;
    out.index = Metrics::kUnmatched;
    for (size_t i : candidates) {
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

// The error boundary: expected failures are already responses; anything thrown by a
// check or a handler is logged with the request id and answered without internals.
HttpResponse Dispatcher::run(const Route& route, const HttpRequest& req,
                             middleware::Admitted& admitted) const {
    try {
        if (auto refused =
                middleware::admit(route.handler.admission(), Runs::OnWorker, req, admitted)) {
            return refusalOf(route, *refused);
        }
        const auto& handler = route.handler.handler();
        if (auto* h = std::get_if<PublicHandler>(&handler)) return (*h)(req);
        if (std::holds_alternative<LaterHandler>(handler)) {
            throw std::logic_error("a handler that answers later, run inline");
        }
        // GuardedHandler puts the Bearer check, which sets it, first.
        if (!admitted.auth) throw std::logic_error("a Bearer handler without an AuthContext");
        return std::get<BearerHandler>(handler)(req, *admitted.auth);
    } catch (...) {
        return failure(route, req);
    }
}

void Dispatcher::runLater(const Route& route, const HttpRequest& req,
                          middleware::Admitted& admitted,
                          const controllers::Respond& respond) const {
    std::optional<HttpResponse> now;
    try {
        if (auto refused =
                middleware::admit(route.handler.admission(), Runs::OnWorker, req, admitted)) {
            now = refusalOf(route, *refused);
        } else {
            std::get<LaterHandler>(route.handler.handler())(req, respond);
            return;
        }
    } catch (...) {
        now = failure(route, req);
    }
    respond(nullptr, std::move(*now));
}

HttpResponse Dispatcher::refusalOf(const Route& route, const controllers::Refusal& refusal) {
    return route.oauthErrors ? controllers::oauthErrorResponse(refusal)
                             : controllers::errorResponse(refusal);
}

HttpResponse Dispatcher::failure(const Route& route, const HttpRequest& req) const {
    try {
        throw;
    } catch (const models::DatabaseUnavailable& e) {
        deps_.log->warn("database unavailable rid={} route={}: {}", req.requestId, route.name,
                        logSafe(e.what()));
        return refusalOf(
            route, makeError(ErrorCode::Unavailable, "The service is temporarily unavailable", 1));
    } catch (const std::exception& e) {
        deps_.log->error("unexpected failure rid={} route={}: {}", req.requestId, route.name,
                         logSafe(e.what()));
    } catch (...) {
        deps_.log->error("unexpected failure rid={} route={}", req.requestId, route.name);
    }
    return refusalOf(route, makeError(ErrorCode::Internal, "Internal server error"));
}

std::optional<HttpResponse> Dispatcher::admitOnReactor(const Route& route, const HttpRequest& req,
                                                       middleware::Admitted& admitted) const {
    try {
        if (auto refused =
                middleware::admit(route.handler.admission(), Runs::OnReactor, req, admitted)) {
            return refusalOf(route, *refused);
        }
        return std::nullopt;
    } catch (...) {
        return failure(route, req);
    }
}

void Dispatcher::send(Http::ResponseWriter& writer, const HttpRequest& req, size_t routeIndex,
                      const HttpResponse& resp, std::chrono::steady_clock::time_point start,
                      Turn& turn) const {
    turn.answer(writer, static_cast<Http::Code>(resp.status), resp.body,
                prepare(req, routeIndex, resp, start));
}

HeaderFields Dispatcher::prepare(const HttpRequest& req, size_t routeIndex,
                                 const HttpResponse& resp,
                                 std::chrono::steady_clock::time_point start) const {
    HeaderFields fields;
    fields.reserve(resp.headers.size() + 2);
    fields.emplace_back("X-Request-Id", req.requestId);
    for (const auto& [name, value] : resp.headers) fields.emplace_back(name, value);
    fields.emplace_back("Content-Type", std::string(resp.contentType));
    // Counted and logged before the answer is written: once the client has the response, a
    // /metrics it sends next includes it.
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::steady_clock::now() - start)
                            .count();
    deps_.metrics.observeRequest(routeIndex, resp.status, micros);
    if (deps_.log->should_log(spdlog::level::info)) {
        spdlog::memory_buf_t line;
        appendAccessLine(line, req, resp.status, micros);
        deps_.log->log(spdlog::level::info, spdlog::string_view_t(line.data(), line.size()));
    }
    return fields;
}

void Dispatcher::protocolError(Http::ResponseWriter&& writer, int status, Turn& turn) {
    HttpRequest req;
    req.method = "-";
    req.path = "-";
    req.requestId = requestIds_.next(std::nullopt);
    req.clientIp = turn.peerHost();
    controllers::Refusal refusal = makeError(ErrorCode::InvalidRequest, "Malformed HTTP request");
    if (status == 413) {
        refusal = controllers::HttpError{controllers::HttpErrorCode::PayloadTooLarge,
                                         "Request exceeds the size limit"};
    } else if (status == 415) {
        refusal = makeError(ErrorCode::UnsupportedMediaType, "Unreadable Content-Type");
    } else if (status == 431) {
        refusal = makeError(ErrorCode::InvalidRequest,
                            "The request line and header fields exceed the size limit");
    } else if (status == 408) {
        refusal = makeError(ErrorCode::InvalidRequest, "The request was not completed in time");
    }
    HttpResponse resp = controllers::errorResponse(refusal);
    if (status >= 400 && status < 600) resp.status = status;
    try {
        // The writer says "Connection: close"; ProtocolHandler closes after this answer.
        send(writer, req, Metrics::kUnmatched, resp, std::chrono::steady_clock::now(), turn);
    } catch (const std::exception& e) {
        deps_.log->warn("could not answer a malformed request: {}", logSafe(e.what()));
    }
}

void Dispatcher::handle(const Http::Request& preq, Http::ResponseWriter&& writer, Turn& turn) {
    try {
        dispatch(preq, std::move(writer), turn);
    } catch (const std::exception& e) {
        // Only reachable if building or sending a response failed (e.g. out of memory).
        deps_.log->error("request dropped: {}", logSafe(e.what()));
    }
}

HttpRequest Dispatcher::requestLine(const Http::Request& preq, Turn& turn) {
    HttpRequest req;
    req.method = Http::methodString(preq.method());
    req.path = preq.resource();
    const auto& query = preq.query();
    if (query.parameters_begin() != query.parameters_end())
        req.query.assign(query.parameters_begin(), query.parameters_end());
    const auto& headers = preq.headers();
    if (auto authz = headers.tryGet<Http::Header::Authorization>())
        req.authorization = authz->value();
    std::optional<std::string> incomingId;
    if (auto raw = headers.tryGetRaw("X-Request-Id")) incomingId = raw->value();
    req.requestId = requestIds_.next(incomingId);
    // The client's address is for the access line and the routes on a pool (the
    // throttles): reactor routes pay for it only when the access log is on.
    if (deps_.log->should_log(spdlog::level::info)) {
        req.clientIp = clientAddress(turn.peerHost(), preq);
    }
    return req;
}

void Dispatcher::completeRequest(const Http::Request& preq, const Lookup& found,
                                 HttpRequest& req) const {
    const auto& headers = preq.headers();
    if (!found.param.empty()) req.pathParam = found.param;
    if (found.route->readsUserAgent) {
        if (auto ua = headers.tryGet<Http::Header::UserAgent>()) req.userAgent = ua->agent();
    }
    req.body = preq.body();
    // The media type matters only for a body (checkBody: 415); a header lookup is not free.
    if (!req.body.empty()) {
        if (auto ct = headers.tryGet<Http::Header::ContentType>()) {
            const auto& mime = ct->mime();
            req.jsonContentType = mime.top() == Http::Mime::Type::Application &&
                                  mime.sub() == Http::Mime::Subtype::Json;
            req.formContentType = mime.top() == Http::Mime::Type::Application &&
                                  mime.sub() == Http::Mime::Subtype::FormUrlEncoded;
        }
    }
}

void Dispatcher::dispatch(const Http::Request& preq, Http::ResponseWriter&& writer, Turn& turn) {
    const auto start = std::chrono::steady_clock::now();
    HttpRequest req = requestLine(preq, turn);
    auto reply = [&](size_t index, const HttpResponse& resp) {
        send(writer, req, index, resp, start, turn);
    };
    if (draining_) {
        reply(Metrics::kUnmatched, controllers::errorResponse(makeError(
                                       ErrorCode::Unavailable, "The server is shutting down", 1)));
        return;
    }
    const Lookup found = lookup(req.path, req.method);
    if (!found.route) {
        if (found.allow.empty()) {
            reply(found.index,
                  controllers::errorResponse(
                      makeError(ErrorCode::NotFound, "No resource at " + logSafe(req.path, 100))));
        } else {
            auto resp = controllers::errorResponse(
                controllers::HttpError{controllers::HttpErrorCode::MethodNotAllowed,
                                       "Method " + req.method + " is not allowed"});
            reply(found.index, resp.header("Allow", found.allow));
        }
        return;
    }
    completeRequest(preq, found, req);
    middleware::Admitted admitted;
    if (auto refused = admitOnReactor(*found.route, req, admitted)) {
        reply(found.index, *refused);
        return;
    }
    schedule(*found.route, found.index, std::move(req), std::move(admitted), preq, writer, start,
             turn);
}

void Dispatcher::schedule(const Route& route, size_t index, HttpRequest req,
                          middleware::Admitted admitted, const Http::Request& preq,
                          Http::ResponseWriter& writer, std::chrono::steady_clock::time_point start,
                          Turn& turn) {
    if (route.runsOn == RunsOn::Reactor) {
        send(writer, req, index, run(route, req, admitted), start, turn);
        return;
    }
    // Blocking work goes to a worker pool; its answer goes back to this reactor thread
    // (Pistache 0.0.5 is not safe to write from other threads, LIBRARIES.md 1), which writes
    // it in the connection's request order.
    if (req.clientIp.empty()) req.clientIp = clientAddress(turn.peerHost(), preq);
    auto shared = std::make_shared<Http::ResponseWriter>(std::move(writer));
    const bool hashing =
        route.runsOn == RunsOn::HashingPool || route.runsOn == RunsOn::HashingPoolDeferred;
    WorkerPool& pool = hashing ? deps_.hashingPool : deps_.databasePool;
    const auto order = route.runsOn == RunsOn::HashingPoolDeferred ? WorkerPool::Order::Deferred
                                                                   : WorkerPool::Order::Normal;
    // Built, counted and logged on the worker; only the write is the reactor's. Never
    // throws: an exception escaping a worker would end the process.
    auto post = [this, shared, index, start, back = turn.detach()](const HttpRequest& r,
                                                                   HttpResponse resp) {
        try {
            back.post([shared, code = static_cast<Http::Code>(resp.status),
                       body = std::move(resp.body), fields = prepare(r, index, resp, start)](
                          Turn& t) { t.answer(*shared, code, body, fields); });
        } catch (const std::exception& e) {
            deps_.log->warn("response not sent rid={}: {}", r.requestId, logSafe(e.what()));
        }
    };
    std::function<void()> job;
    std::shared_ptr<const HttpRequest> request;  // a LaterHandler's, once req moved into it
    if (std::holds_alternative<LaterHandler>(route.handler.handler())) {
        // The answer may come from the thread that commits the rotation, after the job.
        request = std::make_shared<const HttpRequest>(std::move(req));
        job = [this, request, admitted = std::move(admitted), &route, post]() mutable {
            runLater(route, *request, admitted,
                     [this, request, &route, post](std::exception_ptr error, HttpResponse resp) {
                         if (error) {
                             try {
                                 std::rethrow_exception(error);
                             } catch (...) {
                                 resp = failure(route, *request);
                             }
                         }
                         post(*request, std::move(resp));
                     });
        };
    } else {
        job = [this, req, admitted = std::move(admitted), &route, post]() mutable {
            post(req, run(route, req, admitted));  // run() never throws
        };
    }
    if (!pool.trySubmit(std::move(job), order)) {
        send(*shared, request ? *request : req, index,
             controllers::errorResponse(makeError(ErrorCode::Unavailable, "The server is busy", 1)),
             start, turn);
    }
}

}  // namespace authsvc::app
