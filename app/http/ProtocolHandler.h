// ProtocolHandler: the HTTP/1.1 connection layer under every authsvc server (the service, and
// the bench's ceiling, so that the ceiling measures the same path). It owns each connection:
// it reads the socket (ConnectionTransport hands it the readable peers), frames and parses
// the requests, and writes their answers. It promises:
// - every request that arrives on a connection is answered, in arrival order (RFC 9112
//   9.3), also when several arrive in one read (pipelining) and when their handlers finish
//   out of order on worker threads; once ConnectionLimits::maxOutstanding requests of one
//   connection are not answered and written yet (a slow handler, or a client that does not
//   read its answers), or its answers that no socket has taken yet hold
//   ConnectionLimits::maxUnwrittenBytes, the connection is not read until answers are
//   written, so a pipelining client cannot grow memory without bound; nor is a connection
//   that has such answers while all connections' together exceed the server's budget
//   (ConnectionGate's UnwrittenBytes), so a client that reads its answers is never held up by
//   those that do not; the kernel holds at most about kUnsentBytes of a connection's
//   answers unsent (TCP_NOTSENT_LOWAT), the rest waits here, counted;
// - an answer after which the connection ends says "Connection: close" (HTTP/1.0 without
//   keep-alive, a client's "Connection: close", a request the parser refuses), and the
//   connection is closed once it is written: the write side is shut at once, the read side
//   is drained and closed when the client closes (at most lingerTimeout later), so the
//   client reads the whole answer and then EOF;
// - a client that half-closes (shutdown(SHUT_WR), nc -N) still gets the answers to the
//   requests it sent before; the connection is closed once they are written;
// - HTTP/1.1 without a Connection header stays keep-alive (Pistache 0.0.5 answers
//   "Connection: Close" and keeps the socket open);
// - requests the parser refuses reach handleProtocolError() (400, 413, 431, 408, ...)
//   instead of Pistache's plain-text answers; Pistache's parser sees only requests that
//   RequestFramer (app/http/RequestFramer.h: RFC 9112's grammar, the limits) framed, so a
//   declared Content-Length beyond the request limit is refused before anything is
//   buffered for it; framing resumes between reads (linear work for a trickled request);
// - a request's repeated X-Forwarded-For lines reach the handler as one, combined in order;
// - a started request must be complete within requestTimeout (408 and close); an idle
//   keep-alive connection is closed after keepaliveTimeout;
// - with a ConnectionGate (ConnectionServer sets one), a connection that waits for its
//   client (no request being answered, nothing being written) is in its reactor's
//   IdleConnections, where the gate may shut it down to make room at the connection cap;
//   it leaves the list and the gate's counts before its descriptor is closed.
// Pistache's own Http::Endpoint transport drops a peer on the first recv() of 0, resets the
// parser (dropping pipelined bytes) after each request and never closes after "Connection:
// close"; its Transport is extensible (virtual onReady, protected peers/removePeer), so
// ConnectionTransport takes over reading and timeouts. Answers are written with send(2) on
// the reactor thread as they are ready; only what the socket does not take at once goes
// through Pistache's write queue (which wakes the reactor through an eventfd and an EPOLLOUT
// round: three times the system calls of a direct write).
// ConnectionServer accepts the connections itself (Pistache's Tcp::Listener polls again at
// once when accept() fails with EMFILE: a core spinning while descriptors are out) and
// hands them to Pistache's reactor threads; ConnectionGate caps them.
// Everything here runs on Pistache's reactor threads (each has its own handler and transport),
// except Turn::Detached::post() and ConnectionServer's accept thread.
#pragma once

#include <pistache/http.h>
#include <pistache/reactor.h>
#include <pistache/transport.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "app/http/ConnectionGate.h"

namespace authsvc::app {

struct ConnectionLimits {
    size_t maxRequestBytes = 4096;                      // request line, headers and body together
    size_t maxHeaderBytes = 16384;                      // request line and headers: 431 beyond
    std::chrono::milliseconds requestTimeout{10000};    // from a request's first byte to its last
    std::chrono::milliseconds keepaliveTimeout{30000};  // idle between requests
    std::chrono::milliseconds lingerTimeout{2000};      // after our close, for the client's
    size_t maxOutstanding = 32;             // requests per connection whose answers are not written
    size_t maxUnwrittenBytes = 256 * 1024;  // of a connection's answers no socket took yet
};

// The most of a connection's answers the kernel keeps unsent (TCP_NOTSENT_LOWAT); what the
// socket does not take waits in the server, counted against the budgets above.
constexpr int kUnsentBytes = 64 * 1024;

struct Connection;
class CompletionQueue;
class ConnectionTransport;

// Response header fields written as given (name, value), after the writer's own headers:
// cheaper than Pistache's header objects (an allocation and a lower-cased map entry each).
using HeaderFields = std::vector<std::pair<std::string, std::string>>;

class ProtocolHandler : public Pistache::Http::Handler {
  public:
    // One request's place in its connection's answer order; handed to handleRequest() and
    // handleProtocolError(); used on the reactor thread during that call or in a posted task.
    class Turn {
      public:
        // Writes the answer (status `code`, the headers already on `writer`, `fields`,
        // `body`) once every earlier request of the connection is answered: now in the
        // common case, else `writer` is moved into the connection and written later. Once
        // per Turn.
        void answer(Pistache::Http::ResponseWriter& writer, Pistache::Http::Code code,
                    const std::string& body, const HeaderFields& fields = {});
        // The TCP peer's address as text, formatted once per connection.
        const std::string& peerHost() const;

        // A Turn that can leave the reactor thread.
        class Detached {
          public:
            // From any thread: runs `task` on the reactor thread of the connection, with the
            // Turn (which it must answer). Never run if the connection is closed first.
            void post(std::function<void(Turn&)> task) const;

          private:
            friend class Turn;
            std::weak_ptr<Connection> connection_;
            uint64_t seq_ = 0;
            std::shared_ptr<CompletionQueue> queue_;
        };
        Detached detach() const;

      private:
        friend class ProtocolHandler;
        friend class ConnectionTransport;
        Turn(ProtocolHandler& handler, Connection& connection, uint64_t seq)
            : handler_(&handler), connection_(&connection), seq_(seq) {}
        ProtocolHandler* handler_;
        Connection* connection_;
        uint64_t seq_;
    };

    ProtocolHandler() = default;
    ProtocolHandler(const ProtocolHandler&) = default;  // clones, before any connection
    ~ProtocolHandler() override;

    void setLimits(const ConnectionLimits& limits) { limits_ = limits; }
    // The server's connection accounting; set before the reactors start (clones share it).
    void setGate(std::shared_ptr<ConnectionGate> gate) { gate_ = std::move(gate); }
    const std::shared_ptr<ConnectionGate>& gate() const { return gate_; }

    // ConnectionTransport's calls, on the handler's reactor thread.
    void onReadable(const std::shared_ptr<Pistache::Tcp::Peer>& peer, bool hangup);
    void onTick(std::chrono::steady_clock::time_point now);

  protected:
    // Answers a complete request through `turn`. `writer` already carries the response's
    // Connection header when there is one.
    virtual void handleRequest(const Pistache::Http::Request& req,
                               Pistache::Http::ResponseWriter&& writer, Turn& turn) = 0;
    // Answers, through `turn`, a request the parser refused; `status` is an HTTP error status.
    // The connection is closed after this answer (its writer says so).
    virtual void handleProtocolError(Pistache::Http::ResponseWriter&& writer, int status,
                                     Turn& turn) = 0;

  private:
    friend class ConnectionTransport;
    // Pistache's entry points: connections come and go here; requests never arrive through
    // onRequest (ConnectionTransport reads the sockets itself).
    void onConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override;
    void onDisconnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) override;
    void onInput(const char* buffer, size_t len,
                 const std::shared_ptr<Pistache::Tcp::Peer>& peer) override;
    void onRequest(const Pistache::Http::Request&, Pistache::Http::ResponseWriter) final {}

    std::shared_ptr<Connection> find(const std::shared_ptr<Pistache::Tcp::Peer>& peer) const;
    void readFrom(Connection& c);
    void consume(Connection& c, const char* data, size_t len);
    void parseFrame(Connection& c, const char* data, size_t len);
    void refuse(Connection& c, int status);
    void write(Connection& c, uint64_t seq, Pistache::Http::ResponseWriter& writer,
               Pistache::Http::Code code, const std::string& body, const HeaderFields& fields);
    void answer(Connection& c, uint64_t seq, Pistache::Http::ResponseWriter& writer,
                Pistache::Http::Code code, const std::string& body, const HeaderFields& fields);
    void afterAnswers(Connection& c);
    void closeWhenWritten(Connection& c);
    void finishClose(Connection& c);
    void drop(Connection& c);
    // Whether the connection must not be read now (its answers, or all connections', wait).
    bool backlogged(Connection& c);
    void addUnwritten(Connection& c, size_t bytes);
    void removeUnwritten(Connection& c, size_t bytes);
    // The connection waits for its client (or not): in this reactor's IdleConnections.
    void updateIdle(Connection& c);
    void markBusy(Connection& c);
    // The connection ends: out of the idle list, its answers and itself uncounted, before
    // its descriptor closes (and may be reused).
    void uncount(Connection& c);
    // ConnectionTransport's calls: the list of this reactor's idle connections; the
    // answers of all connections fell below the server's budget.
    void attachIdleList(std::shared_ptr<IdleConnections> idle) { idle_ = std::move(idle); }
    void resumeBudgetWaiters();

    ConnectionLimits limits_;
    std::shared_ptr<ConnectionGate> gate_;   // null: no caps, no server-wide budget
    std::shared_ptr<IdleConnections> idle_;  // this reactor's; null without a gate
    // Connections paused while all answers together are over the budget.
    std::vector<std::weak_ptr<Connection>> budgetWaiters_;
    // Indexed by file descriptor; this reactor's connections only.
    std::vector<std::shared_ptr<Connection>> connections_;
};

// Pistache's Tcp::Transport with ProtocolHandler reading the peers (see above), a timer for
// the connection timeouts, and a queue of tasks posted to this reactor thread.
class ConnectionTransport : public Pistache::Tcp::Transport {
  public:
    explicit ConnectionTransport(std::shared_ptr<ProtocolHandler> handler);
    ~ConnectionTransport() override;

    void registerPoller(Pistache::Polling::Epoll& poller) override;
    void onReady(const Pistache::Aio::FdSet& fds) override;
    std::shared_ptr<Pistache::Aio::Handler> clone() const override;

    // Closes the connection now (unwritten data is dropped).
    void close(const std::shared_ptr<Pistache::Tcp::Peer>& peer) { removePeer(peer); }
    const std::shared_ptr<CompletionQueue>& completions() const { return completions_; }

  private:
    std::shared_ptr<ProtocolHandler> handler_;
    std::shared_ptr<CompletionQueue> completions_;
    int timerFd_ = -1;
};

// Settings of every authsvc server: timeouts, limits (room for the request line and headers
// on top of the largest body, so an oversized body reaches our own JSON 413 rather than the
// connection-ending one), backlog, connection caps and the answer budget.
struct ServerSettings {
    int threads = 1;
    int backlog = 1024;
    size_t maxResponseBytes = 4 * 1024 * 1024;
    ConnectionLimits limits;
    // Open connections in all; 0: the descriptor limit (RLIMIT_NOFILE) less the descriptors
    // open when the server starts and a reserve (defaultMaxConnections()).
    size_t maxConnections = 0;
    size_t maxConnectionsPerAddress = 256;        // 0: no cap
    middleware::TrustedProxies exemptAddresses;   // not capped per address
    size_t maxUnwrittenBytes = 64 * 1024 * 1024;  // all connections' answers together; 0: none
    // Told (from the accept thread, at most every 10 s) how many connections were refused
    // or evicted, and why; may be empty.
    std::function<void(const std::string&)> warn;
};
ServerSettings serverSettings(int threads, int64_t maxBodyBytes);

// The default of ServerSettings::maxConnections for a descriptor limit `fileLimit` of which
// `inUse` are open: what is left less a reserve (16 + fileLimit / 64) for the descriptors the
// process opens later and for connections being closed; at least 1.
size_t defaultMaxConnections(size_t fileLimit, size_t inUse);

// Serves `handler` on Pistache's reactor threads through ConnectionTransport (what
// Http::Endpoint does with its own transport, which cannot be replaced), with an accept
// thread of its own: Pistache's Tcp::Listener spins on EMFILE. When accept() fails for want
// of a descriptor, a spare one (kept open on /dev/null) is closed, the waiting connection is
// taken and closed at once, and the spare reopened; without a spare, accepting pauses for
// 100 ms. New connections pass ConnectionGate (caps; the oldest idle one makes room).
// start(), port() and shutdown() from one thread.
class ConnectionServer {
  public:
    explicit ConnectionServer(const Pistache::Address& address) : address_(address) {}
    ~ConnectionServer();
    ConnectionServer(const ConnectionServer&) = delete;
    ConnectionServer& operator=(const ConnectionServer&) = delete;

    // Binds (throws when the address cannot be bound) and starts the reactor threads and
    // the accept thread.
    void start(const ServerSettings& settings, std::shared_ptr<ProtocolHandler> handler);
    Pistache::Port port() const;
    // The caps in force (after start()).
    const ConnectionCaps& caps() const { return gate_->caps(); }
    // Stops accepting and stops the reactor threads.
    void shutdown();

  private:
    void acceptLoop();
    // Takes the waiting connections; false when accepting must pause (no descriptor).
    bool acceptPending();
    void dispatch(int fd, const sockaddr_storage& peer);
    void report();  // warn_ about refusals and evictions, at most every kReportInterval

    Pistache::Address address_;
    int listenFd_ = -1;
    int stopFd_ = -1;   // eventfd: the accept thread ends
    int spareFd_ = -1;  // closed to make room for a connection to refuse when out of them
    std::shared_ptr<ConnectionGate> gate_;
    Pistache::Aio::Reactor reactor_;
    std::vector<std::shared_ptr<Pistache::Tcp::Transport>> transports_;
    std::thread acceptThread_;
    bool running_ = false;
    std::function<void(const std::string&)> warn_;
    // The accept thread's counts since the last report.
    size_t refusedPerAddress_ = 0;
    size_t refusedFull_ = 0;
    size_t refusedNoDescriptor_ = 0;
    size_t evictedReported_ = 0;
    std::chrono::steady_clock::time_point lastReport_;
};

// What an answer puts on the wire: "HTTP/1.1 <code> <reason>" (the highest version we
// conform to, RFC 9110 6.2, also to an HTTP/1.0 request), the typed `headers` (Pistache 0.0.5
// serialises no raw response headers; cookies are not written), `fields`, Content-Length,
// `body`. For 1xx, 204 and 304 neither Content-Length nor a body; for a HEAD request the
// Content-Length of `body` without the body (RFC 9110 9.3.2).
std::string serializeResponse(const Pistache::Http::Header::Collection& headers,
                              const HeaderFields& fields, Pistache::Http::Code code,
                              std::string_view body, bool headRequest = false);

}  // namespace authsvc::app
