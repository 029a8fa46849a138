#include "app/http/HttpServer.h"

namespace authsvc::app {

HttpServer::HttpServer(ServerOptions options, std::shared_ptr<Dispatcher> dispatcher)
    : options_(std::move(options)), dispatcher_(std::move(dispatcher)) {}

HttpServer::~HttpServer() {
    stop();
}

void HttpServer::start() {
    Pistache::Address addr(options_.host, Pistache::Port(uint16_t(options_.port)));
    server_ = std::make_unique<ConnectionServer>(addr);
    server_->start(serverSettings(options_.threads, options_.maxBodyBytes),
                   std::make_shared<RequestHandler>(dispatcher_));
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
