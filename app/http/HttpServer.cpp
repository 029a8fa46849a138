#include "app/http/HttpServer.h"

#include <algorithm>

namespace authsvc::app {

HttpServer::HttpServer(ServerOptions options, std::shared_ptr<Dispatcher> dispatcher)
    : options_(std::move(options)), dispatcher_(std::move(dispatcher)) {}

HttpServer::~HttpServer() {
    stop();
}

void HttpServer::start() {
    Pistache::Address addr(options_.host, Pistache::Port(uint16_t(options_.port)));
    server_ = std::make_unique<ConnectionServer>(addr);
    ServerSettings settings = serverSettings(options_.threads, options_.maxBodyBytes);
    // The request limit leaves room for the header section on top of the body.
    settings.limits.maxHeaderBytes = size_t(options_.maxHeaderBytes);
    settings.limits.maxRequestBytes =
        std::max(settings.limits.maxRequestBytes,
                 size_t(2 * options_.maxBodyBytes + options_.maxHeaderBytes));
    settings.maxConnections = options_.maxConnections;
    settings.maxConnectionsPerAddress = options_.maxConnectionsPerIp;
    settings.exemptAddresses = options_.exemptAddresses;
    settings.limits.maxUnwrittenBytes = options_.maxUnwrittenBytesPerConnection;
    settings.maxUnwrittenBytes = options_.maxUnwrittenBytes;
    settings.warn = options_.warn;
    server_->start(settings, std::make_shared<RequestHandler>(dispatcher_));
}

int HttpServer::port() const {
    return server_ ? int(uint16_t(server_->port())) : 0;
}

void HttpServer::stop() {
    if (server_) {
        server_->shutdown();
        server_.reset();
    }
}

}  // namespace authsvc::app
