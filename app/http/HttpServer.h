// HttpServer: Pistache's listener and reactors with our connection layer (ProtocolHandler)
// and the Dispatcher (app/http/Dispatcher.h), which takes each request to its answer.
// We route ourselves instead of using Pistache 0.0.5's Rest::Router: its route
// insertion races between reactor threads (fixed upstream in 2024), it has no 405,
// and its middleware cannot see the response for the access log.
// start() and stop() from one thread; the dispatcher is called by reactor threads.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "app/http/Dispatcher.h"
#include "app/http/ProtocolHandler.h"

namespace authsvc::app {

struct ServerOptions {
    std::string host;
    int port = 8080;
    int threads = 2;
    int64_t maxBodyBytes = 16384;
    int64_t maxHeaderBytes = 16384;
    // Connection caps and answer budgets (ServerSettings); 0 as there.
    size_t maxConnections = 0;
    size_t maxConnectionsPerIp = 256;
    middleware::TrustedProxies exemptAddresses;
    size_t maxUnwrittenBytesPerConnection = 256 * 1024;
    size_t maxUnwrittenBytes = 64 * 1024 * 1024;
    std::function<void(const std::string&)> warn;  // refused/evicted connections, rate-limited
};

class HttpServer {
  public:
    HttpServer(ServerOptions options, std::shared_ptr<Dispatcher> dispatcher);
    ~HttpServer();
    void start();  // throws when the address cannot be bound
    int port() const;
    // The connection caps in force (after start()).
    const ConnectionCaps& caps() const { return server_->caps(); }
    void stop();

  private:
    ServerOptions options_;
    std::shared_ptr<Dispatcher> dispatcher_;
    std::unique_ptr<ConnectionServer> server_;
};

}  // namespace authsvc::app
