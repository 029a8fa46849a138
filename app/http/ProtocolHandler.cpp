#include "app/http/ProtocolHandler.h"

#include <dirent.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pistache/peer.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <ostream>
#include <stdexcept>
#include <streambuf>
#include <utility>

#include "app/http/RequestFramer.h"

namespace authsvc::app {

namespace Http = Pistache::Http;
namespace Polling = Pistache::Polling;
using Clock = std::chrono::steady_clock;

namespace {
constexpr size_t kHeaderRoom = 32 * 1024;
constexpr size_t kReadChunk = 16 * 1024;
constexpr auto kTickInterval = std::chrono::milliseconds(500);

// Appends whatever an ostream writes to a string (the typed headers write themselves to one).
class AppendBuf : public std::streambuf {
  public:
    explicit AppendBuf(std::string& out) : out_(out) {}

  protected:
    int_type overflow(int_type ch) override {
        if (ch != traits_type::eof()) out_.push_back(char(ch));
        return ch;
    }
    std::streamsize xsputn(const char* s, std::streamsize n) override {
        out_.append(s, size_t(n));
        return n;
    }

  private:
    std::string& out_;
};

}  // namespace

// ---------------------------------------------------------------- connection state

struct Connection {
    Connection(std::shared_ptr<Pistache::Tcp::Peer> p, size_t maxRequestBytes,
               Clock::time_point now)
        : peer(std::move(p)), parser(maxRequestBytes), lastActivity(now) {}

    std::shared_ptr<Pistache::Tcp::Peer> peer;
    std::weak_ptr<Connection> self;
    Http::RequestParser parser;  // holds the request being handled
    RequestFramer framer;        // where the request at the start of `pending` ends
    std::string pending;         // input not yet parsed: a partial request, or more when paused
    Clock::time_point requestStarted;  // of the partial request in `pending`
    Clock::time_point lastActivity;    // the last answer written, or the connection opened
    uint64_t nextSeq = 0;              // given to the next request
    uint64_t nextToWrite = 0;          // the request whose answer is written next
    uint64_t written = 0;              // every answer before this one is written
    uint64_t queuedWrites = 0;         // answers (or parts) waiting in Pistache's write queue
    std::deque<bool> heads;            // per request not yet written, from nextToWrite: HEAD?
    std::string peerHost;              // the peer's address as text
    struct Parked {
        Http::ResponseWriter writer;
        Http::Code code;
        std::string body;
        HeaderFields fields;
        size_t bytes;  // counted in unwrittenBytes
    };
    std::map<uint64_t, Parked> parked;  // answers ready before their turn
    bool served = false;                // a request has arrived
    bool inParse = false;               // consume() is on the stack
    bool paused = false;                // maxOutstanding unwritten: not reading
    bool closing = false;      // no more requests: the connection ends after the last answer
    bool closeQueued = false;  // closeWhenWritten() ran
    bool readClosed = false;   // the client half-closed (EOF read)
    bool lingering = false;    // our write side is shut: reading only to see the client's EOF
    bool gone = false;         // closed; the object lives on only in tasks holding it
    Clock::time_point closingSince;
    IdleConnections::Node idleNode;  // in the reactor's IdleConnections while idle
    bool idleLinked = false;         // maybe in it (only the reactor links it; anyone may evict)
    size_t unwrittenBytes = 0;       // of its answers no socket took yet (parked or queued)
    bool budgetWaiting = false;      // in budgetWaiters_

    uint64_t outstanding() const { return nextSeq - nextToWrite; }
    // Requests whose answers are not known to be written (not computed yet, or queued in
    // the transport because the client does not read): what maxOutstanding bounds.
    uint64_t unwritten() const { return nextSeq - written; }
};

// Tasks for a reactor thread, posted from any thread (worker pools). An eventfd in the
// reactor's epoll set wakes it; taking the tasks under the mutex after reading the eventfd
// cannot lose a wakeup (a push after the take writes the eventfd again). Only a push onto
// an empty list writes the eventfd: a list that holds tasks has been signalled already and
// not taken yet (take() empties it), so the tasks of one group commit, finishing together,
// cost the reactor one wake-up and the workers one write(2) instead of one each.
class CompletionQueue {
  public:
    struct Task {
        std::weak_ptr<Connection> connection;
        uint64_t seq;
        std::function<void(ProtocolHandler::Turn&)> run;
    };
    CompletionQueue() : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
        if (fd_ < 0) throw std::runtime_error("eventfd failed");
    }
    ~CompletionQueue() { ::close(fd_); }
    CompletionQueue(const CompletionQueue&) = delete;
    CompletionQueue& operator=(const CompletionQueue&) = delete;

    int fd() const { return fd_; }
    void push(Task task) {
        bool first = false;
        {
            std::lock_guard<std::mutex> lock(mu_);
            first = tasks_.empty();
            tasks_.push_back(std::move(task));
        }
        if (!first) return;
        const uint64_t one = 1;
        [[maybe_unused]] const ssize_t n = ::write(fd_, &one, sizeof one);
    }
    std::vector<Task> take() {
        uint64_t count = 0;
        [[maybe_unused]] const ssize_t n = ::read(fd_, &count, sizeof count);
        std::vector<Task> out;
        std::lock_guard<std::mutex> lock(mu_);
        out.swap(tasks_);
        return out;
    }
    // From any thread: the server's answers fell below its budget (see takeWake()).
    void wake() {
        woken_.store(true);
        const uint64_t one = 1;
        [[maybe_unused]] const ssize_t n = ::write(fd_, &one, sizeof one);
    }
    // After take(): whether wake() was called since the last time.
    bool takeWake() { return woken_.exchange(false); }

  private:
    int fd_;
    std::mutex mu_;
    std::vector<Task> tasks_;
    std::atomic<bool> woken_{false};
};

std::string serializeResponse(const Http::Header::Collection& headers, const HeaderFields& fields,
                              Http::Code code, std::string_view body, bool headRequest) {
    std::string out;
    out.reserve(160 + body.size());
    out.append("HTTP/1.1 ");
    out.append(std::to_string(int(code)));
    out.push_back(' ');
    out.append(Http::codeString(code));
    out.append("\r\n");
    // Pistache's typed headers (at most the Connection header the parser's side adds) write
    // themselves to an ostream: one is set up only for an answer that has any.
    if (const auto typed = headers.list(); !typed.empty()) {
        AppendBuf buf(out);
        std::ostream os(&buf);
        for (const auto& header : typed) {
            out.append(header->name());
            out.append(": ");
            header->write(os);
            out.append("\r\n");
        }
    }
    for (const auto& [name, value] : fields) {
        out.append(name);
        out.append(": ");
        out.append(value);
        out.append("\r\n");
    }
    // 1xx, 204 and 304 answers have no body and no Content-Length (RFC 9110 8.6, 15.3.5).
    const int status = int(code);
    if (status < 200 || status == 204 || status == 304) {
        out.append("\r\n");
        return out;
    }
    out.append("Content-Length: ");
    out.append(std::to_string(body.size()));
    out.append("\r\n\r\n");
    if (!headRequest) out.append(body);
    return out;
}

// ---------------------------------------------------------------- Turn

void ProtocolHandler::Turn::answer(Http::ResponseWriter& writer, Http::Code code,
                                   const std::string& body, const HeaderFields& fields) {
    handler_->answer(*connection_, seq_, writer, code, body, fields);
}

const std::string& ProtocolHandler::Turn::peerHost() const {
    return connection_->peerHost;
}

ProtocolHandler::Turn::Detached ProtocolHandler::Turn::detach() const {
    Detached d;
    d.connection_ = connection_->self;
    d.seq_ = seq_;
    d.queue_ = static_cast<ConnectionTransport*>(handler_->transport())->completions();
    return d;
}

void ProtocolHandler::Turn::Detached::post(std::function<void(Turn&)> task) const {
    queue_->push({connection_, seq_, std::move(task)});
}

// ---------------------------------------------------------------- ProtocolHandler

// A reference the caller holds while it works on the connection (drop() releases ours).
std::shared_ptr<Connection> ProtocolHandler::find(
    const std::shared_ptr<Pistache::Tcp::Peer>& peer) const {
    const size_t fd = size_t(peer->fd());
    if (fd >= connections_.size() || !connections_[fd]) return nullptr;
    const auto& c = connections_[fd];
    return c->peer == peer ? c : nullptr;
}

ProtocolHandler::~ProtocolHandler() {
    if (idle_) idle_->clear();  // the gate holds the list; the connections go now
}

void ProtocolHandler::onConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
    const size_t fd = size_t(peer->fd());
    if (fd >= connections_.size()) connections_.resize(fd + 64);
    if (const auto& stale = connections_[fd]) {  // its descriptor closed without us: unlisted
        markBusy(*stale);
        stale->gone = true;
    }
    auto c = std::make_shared<Connection>(peer, getMaxRequestSize(), Clock::now());
    c->framer = RequestFramer({getMaxRequestSize(), limits_.maxHeaderBytes});
    c->self = c;
    c->peerHost = peer->address().host();
    updateIdle(*c);
    connections_[fd] = std::move(c);
}

void ProtocolHandler::onDisconnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
    // Closed by Pistache rather than drop(): the same accounting.
    if (auto c = find(peer)) {
        c->gone = true;
        uncount(*c);
        connections_[size_t(peer->fd())].reset();
    }
}

void ProtocolHandler::onInput(const char* buffer, size_t len,
                              const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
    if (auto c = find(peer)) consume(*c, buffer, len);
}

void ProtocolHandler::onReadable(const std::shared_ptr<Pistache::Tcp::Peer>& peer, bool hangup) {
    auto c = find(peer);
    if (!c) return;
    // Hang-up: both directions are shut (a reset, or the client's close after our
    // shutdown): nothing can be written any more.
    if (hangup) {
        drop(*c);
    } else {
        readFrom(*c);
        updateIdle(*c);
    }
}

void ProtocolHandler::readFrom(Connection& c) {
    char buffer[kReadChunk];
    const int fd = c.peer->fd();
    while (!c.gone && !c.paused && !c.readClosed) {
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n > 0) {
            markBusy(c);
            consume(c, buffer, size_t(n));
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
        if (n < 0 || c.lingering) {  // reset, or the client's close after ours
            drop(c);
            return;
        }
        // EOF: the client sends no more, but may still read. A partial request cannot be
        // completed; the complete ones are answered, then the connection is closed.
        c.readClosed = true;
        if (!c.paused) {
            c.pending.clear();
            c.closing = true;
        }
        afterAnswers(c);
        return;
    }
}

void ProtocolHandler::consume(Connection& c, const char* data, size_t len) {
    if (c.closing || c.gone) return;  // after the last request: discarded
    const bool buffered = !c.pending.empty();
    if (buffered) c.pending.append(data, len);
    const std::string_view input =
        buffered ? std::string_view(c.pending) : std::string_view(data, len);
    size_t used = 0;
    c.inParse = true;
    while (used < input.size() && !c.closing && !c.gone) {
        if (backlogged(c)) {
            c.paused = true;
            break;
        }
        // The framer resumes where its last scan of this request stopped: a request that
        // arrives in many pieces is scanned once, not once per piece.
        const RequestFrame frame = c.framer.frame(input.substr(used));
        if (frame.status != 0) {
            refuse(c, frame.status);
            break;
        }
        if (frame.length == 0) break;  // incomplete
        parseFrame(c, input.data() + used, frame.length);
        used += frame.length;
    }
    c.inParse = false;
    if (c.closing || c.gone) {
        c.pending.clear();
        afterAnswers(c);
        return;
    }
    if (used < input.size() && (used > 0 || !buffered)) c.requestStarted = Clock::now();
    if (buffered) {
        c.pending.erase(0, used);
    } else if (used < input.size()) {
        c.pending.assign(input.substr(used));
    }
}

void ProtocolHandler::parseFrame(Connection& c, const char* data, size_t len) {
    auto& parser = c.parser;
    parser.reset();
    int status = 0;
    // A request's one Authorization line (a Bearer token: the longest line of most requests)
    // goes around Pistache's parser, which reads a field value a byte at a time through
    // out-of-line calls; its value is added as the same typed header below.
    const bool authorization = c.framer.authorizationLines() == 1;
    const RequestFramer::Span authLine = c.framer.authorizationLine();
    try {
        const bool fed = authorization ? parser.feed(data, authLine.pos) &&
                                             parser.feed(data + authLine.pos + authLine.len,
                                                         len - authLine.pos - authLine.len)
                                       : parser.feed(data, len);
        if (!fed) {
            status = 413;
        } else if (parser.parse() != Http::Private::State::Done) {
            status = 400;  // framed as complete, yet the parser wants more
        }
    } catch (const Http::HttpError& e) {
        status = e.code();
    } catch (const std::exception&) {
        status = 400;  // the parser refused the request (e.g. a bad Content-Length)
    }
    if (status != 0) {
        refuse(c, status);
        return;
    }
    c.served = true;
    auto& request = parser.request;
    if (authorization) {
        const RequestFramer::Span value = c.framer.authorizationValue();
        request.headers().add(std::make_shared<Http::Header::Authorization>(
            std::string(data + value.pos, value.len)));
    }
    if (c.framer.forwardedForLines() > 1) {
        // Pistache keeps the first of repeated fields; X-Forwarded-For's lines are one list
        // (RFC 9110 5.3), each proxy appending to it, possibly on a line of its own.
        request.headers().remove("X-Forwarded-For");
        request.headers().addRaw(Http::Header::Raw("X-Forwarded-For", c.framer.forwardedFor()));
    }
    const uint64_t seq = c.nextSeq++;
    c.heads.push_back(request.method() == Http::Method::Head);
    Http::ResponseWriter response(request.version(), transport(), this, c.peer);
    request.copyAddress(c.peer->address());
    bool close = false;
    if (auto connection = request.headers().tryGet<Http::Header::Connection>()) {
        close = connection->control() == Http::ConnectionControl::Close;
        response.headers().add<Http::Header::Connection>(connection->control());
    } else if (request.version() == Http::Version::Http10) {
        close = true;
        response.headers().add<Http::Header::Connection>(Http::ConnectionControl::Close);
    }
    if (close) c.closing = true;
    Turn turn(*this, c, seq);
    handleRequest(request, std::move(response), turn);
}

void ProtocolHandler::refuse(Connection& c, int status) {
    // After a refused request the position in the byte stream is unknown (the rest of an
    // unread body would parse as requests): this is the connection's last answer.
    c.closing = true;
    c.pending.clear();
    const uint64_t seq = c.nextSeq++;
    c.heads.push_back(false);
    Http::ResponseWriter response(Http::Version::Http11, transport(), this, c.peer);
    response.headers().add<Http::Header::Connection>(Http::ConnectionControl::Close);
    Turn turn(*this, c, seq);
    handleProtocolError(std::move(response), status, turn);
}

void ProtocolHandler::write(Connection& c, uint64_t seq, Http::ResponseWriter& writer,
                            Http::Code code, const std::string& body, const HeaderFields& fields) {
    if (c.gone) return;
    const bool head = c.heads.front();
    c.heads.pop_front();
    std::string wire = serializeResponse(writer.headers(), fields, code, body, head);
    c.lastActivity = Clock::now();
    if (c.queuedWrites == 0) {
        // The common case: the socket takes the whole answer now, on this thread, without
        // a trip through Pistache's write queue (its eventfd and EPOLLOUT round).
        size_t sent = 0;
        while (sent < wire.size()) {
            const ssize_t n = ::send(c.peer->fd(), wire.data() + sent, wire.size() - sent,
                                     MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0) {
                sent += size_t(n);
            } else if (n < 0 && errno == EINTR) {
                continue;
            } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                break;
            } else {  // the client is gone (reset, or both directions shut)
                drop(c);
                return;
            }
        }
        if (sent == wire.size()) {
            c.written = std::max(c.written, seq + 1);
            return;
        }
        wire.erase(0, sent);
    }
    // The client does not read fast enough: the rest waits in Pistache's write queue, which
    // writes a peer's buffers in order; later answers queue behind it until it is written.
    ++c.queuedWrites;
    std::weak_ptr<Connection> weak = c.self;
    const size_t size = wire.size();
    addUnwritten(c, size);
    c.peer->send(Pistache::RawBuffer(std::move(wire), size))
        .then(
            [this, weak, seq, size](ssize_t) {
                auto conn = weak.lock();
                if (!conn || conn->gone) return;
                --conn->queuedWrites;
                removeUnwritten(*conn, size);
                conn->written = std::max(conn->written, seq + 1);
                afterAnswers(*conn);
            },
            [this, weak, size](std::exception_ptr) {  // failing; it ends on its own
                auto conn = weak.lock();
                if (!conn) return;
                --conn->queuedWrites;
                if (!conn->gone) removeUnwritten(*conn, size);
            });
}

void ProtocolHandler::answer(Connection& c, uint64_t seq, Http::ResponseWriter& writer,
                             Http::Code code, const std::string& body, const HeaderFields& fields) {
    if (c.gone) return;
    if (seq != c.nextToWrite) {
        size_t bytes = body.size();
        for (const auto& [name, value] : fields) bytes += name.size() + value.size() + 4;
        addUnwritten(c, bytes);
        c.parked.emplace(seq, Connection::Parked{std::move(writer), code, body, fields, bytes});
        return;
    }
    write(c, seq, writer, code, body, fields);
    ++c.nextToWrite;
    while (!c.gone && !c.parked.empty() && c.parked.begin()->first == c.nextToWrite) {
        auto node = c.parked.extract(c.parked.begin());
        auto& p = node.mapped();
        removeUnwritten(c, p.bytes);
        write(c, node.key(), p.writer, p.code, p.body, p.fields);
        ++c.nextToWrite;
    }
    afterAnswers(c);
}

// After answers went out (or the client half-closed): resumes a paused connection, and
// closes one whose last answer is out.
void ProtocolHandler::afterAnswers(Connection& c) {
    if (c.gone || c.inParse) return;  // consume() on the stack goes on by itself
    if (c.paused && !backlogged(c)) {
        c.paused = false;
        std::string input;
        input.swap(c.pending);
        consume(c, input.data(), input.size());
        if (c.gone) return;
        if (c.readClosed && !c.paused) {
            c.pending.clear();  // an incomplete request the client will never finish
            c.closing = true;
        }
        if (!c.paused && !c.readClosed && !c.closing) readFrom(c);
        if (c.gone) return;
    }
    if (c.closing && c.outstanding() == 0 && !c.closeQueued) closeWhenWritten(c);
    updateIdle(c);
}

bool ProtocolHandler::backlogged(Connection& c) {
    if (c.unwritten() >= limits_.maxOutstanding) return true;
    if (c.unwrittenBytes >= limits_.maxUnwrittenBytes) return true;
    // Over the server's budget only a connection whose answers are all written may go on,
    // one request at a time (clients that read are not held up by those that do not).
    if (!gate_ || c.unwritten() == 0 || !gate_->unwritten().overAndWaiting()) return false;
    if (!c.budgetWaiting) {
        c.budgetWaiting = true;
        budgetWaiters_.push_back(c.self);
    }
    return true;
}

void ProtocolHandler::resumeBudgetWaiters() {
    std::vector<std::weak_ptr<Connection>> waiters;
    waiters.swap(budgetWaiters_);
    for (const auto& weak : waiters) {
        const auto c = weak.lock();
        if (!c) continue;
        c->budgetWaiting = false;
        afterAnswers(*c);  // resumes it, or it waits again
    }
}

void ProtocolHandler::addUnwritten(Connection& c, size_t bytes) {
    c.unwrittenBytes += bytes;
    if (gate_) gate_->unwritten().add(bytes);
}

void ProtocolHandler::removeUnwritten(Connection& c, size_t bytes) {
    c.unwrittenBytes -= bytes;
    if (gate_) gate_->unwritten().remove(bytes);
}

void ProtocolHandler::updateIdle(Connection& c) {
    if (!idle_ || c.gone) return;
    if (c.outstanding() == 0 && c.queuedWrites == 0) {
        idle_->touch(c.idleNode, c.peer->fd(), Clock::now());
        c.idleLinked = true;
    } else {
        markBusy(c);
    }
}

void ProtocolHandler::uncount(Connection& c) {
    markBusy(c);
    if (gate_) {
        gate_->unwritten().remove(c.unwrittenBytes);
        gate_->release(c.peer->fd());
    }
    c.unwrittenBytes = 0;
}

void ProtocolHandler::markBusy(Connection& c) {
    if (!c.idleLinked) return;
    idle_->remove(c.idleNode);
    c.idleLinked = false;
}

// Once every answer is written: the connection ends. When some wait in Pistache's write
// queue, an empty write queued behind them completes after them.
void ProtocolHandler::closeWhenWritten(Connection& c) {
    c.closeQueued = true;
    c.closingSince = Clock::now();
    if (c.queuedWrites == 0) {
        finishClose(c);
        return;
    }
    std::weak_ptr<Connection> weak = c.self;
    auto finish = [this, weak] {
        auto conn = weak.lock();
        if (conn && !conn->gone) finishClose(*conn);
    };
    // On the reactor thread, where chaining on a send promise is safe (LIBRARIES.md 1).
    c.peer->send(Pistache::RawBuffer("", 0))
        .then([finish](ssize_t) { finish(); }, [finish](std::exception_ptr) { finish(); });
}

void ProtocolHandler::finishClose(Connection& c) {
    if (c.readClosed) {
        drop(c);
        return;
    }
    // Shut our side: the client reads the answers, then EOF. Closing the socket while its
    // input is unread would reset the connection, and the client could lose them.
    ::shutdown(c.peer->fd(), SHUT_WR);
    c.lingering = true;
    c.closingSince = Clock::now();
    readFrom(c);  // discards input; drops at EOF
}

void ProtocolHandler::drop(Connection& c) {
    if (c.gone) return;
    c.gone = true;
    uncount(c);
    connections_[size_t(c.peer->fd())].reset();  // callers hold a reference (find())
    static_cast<ConnectionTransport*>(transport())->close(c.peer);
}

void ProtocolHandler::onTick(Clock::time_point now) {
    std::vector<std::shared_ptr<Connection>> expired;
    std::vector<std::shared_ptr<Connection>> late;
    for (const auto& c : connections_) {
        if (!c || c->gone) continue;
        if (c->lingering || c->closeQueued) {
            // The client had its answers (or never reads them): at most this long more.
            const auto limit = c->lingering ? limits_.lingerTimeout : limits_.keepaliveTimeout;
            if (now - c->closingSince > limit) expired.push_back(c);
        } else if (c->paused) {
            // Its answers are not read: no progress for this long ends it.
            if (now - c->lastActivity > limits_.keepaliveTimeout) expired.push_back(c);
        } else if (!c->pending.empty()) {
            if (c->outstanding() == 0 && now - c->requestStarted > limits_.requestTimeout) {
                late.push_back(c);
            }
        } else if (c->outstanding() == 0) {
            const auto limit = c->served ? limits_.keepaliveTimeout : limits_.requestTimeout;
            if (now - c->lastActivity > limit) expired.push_back(c);
        }
    }
    for (auto& c : expired) drop(*c);
    for (auto& c : late) refuse(*c, 408);
    // A wake-up lost to a race would leave them waiting: at least every tick they look again.
    if (!budgetWaiters_.empty() && gate_->unwritten().total() < gate_->unwritten().limit()) {
        resumeBudgetWaiters();
    }
}

// ---------------------------------------------------------------- ConnectionTransport

ConnectionTransport::ConnectionTransport(std::shared_ptr<ProtocolHandler> handler)
    : Pistache::Tcp::Transport(handler), handler_(std::move(handler)) {}

ConnectionTransport::~ConnectionTransport() {
    if (timerFd_ >= 0) ::close(timerFd_);
}

std::shared_ptr<Pistache::Aio::Handler> ConnectionTransport::clone() const {
    return std::make_shared<ConnectionTransport>(
        std::static_pointer_cast<ProtocolHandler>(handler_->clone()));
}

void ConnectionTransport::registerPoller(Polling::Epoll& poller) {
    Transport::registerPoller(poller);
    completions_ = std::make_shared<CompletionQueue>();
    poller.addFd(completions_->fd(), Pistache::Flags<Polling::NotifyOn>(Polling::NotifyOn::Read),
                 Polling::Tag(uint64_t(completions_->fd())));
    timerFd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (timerFd_ < 0) throw std::runtime_error("timerfd_create failed");
    itimerspec spec{};
    spec.it_value.tv_nsec = std::chrono::nanoseconds(kTickInterval).count();
    spec.it_interval = spec.it_value;
    ::timerfd_settime(timerFd_, 0, &spec, nullptr);
    poller.addFd(timerFd_, Pistache::Flags<Polling::NotifyOn>(Polling::NotifyOn::Read),
                 Polling::Tag(uint64_t(timerFd_)));
    if (const auto& gate = handler_->gate()) {
        auto idle = std::make_shared<IdleConnections>();
        gate->addIdleList(idle);
        handler_->attachIdleList(std::move(idle));
        std::weak_ptr<CompletionQueue> queue = completions_;
        gate->unwritten().onDrained([queue] {
            if (auto q = queue.lock()) q->wake();
        });
    }
}

void ConnectionTransport::onReady(const Pistache::Aio::FdSet& fds) {
    // Ours: the timer, the completion queue, and reading the peers. Pistache's: its queues
    // (writes, new peers, timers) and writing to the peers.
    size_t ours = 0;     // entries wholly ours
    size_t readers = 0;  // peers we read that Pistache must still write to
    for (const auto& entry : fds) {
        const uint64_t tag = entry.getTag().value();
        if (tag == uint64_t(timerFd_)) {
            uint64_t wakeups = 0;
            [[maybe_unused]] const ssize_t n = ::read(timerFd_, &wakeups, sizeof wakeups);
            handler_->onTick(Clock::now());
            ++ours;
        } else if (completions_ && tag == uint64_t(completions_->fd())) {
            for (auto& task : completions_->take()) {
                auto connection = task.connection.lock();
                if (!connection || connection->gone) continue;
                ProtocolHandler::Turn turn(*handler_, *connection, task.seq);
                task.run(turn);
            }
            if (completions_->takeWake()) handler_->resumeBudgetWaiters();
            ++ours;
        } else if ((entry.isReadable() || entry.isHangup()) && peers.count(Pistache::Fd(tag))) {
            const auto peer = peers.find(Pistache::Fd(tag))->second;  // a copy: may be removed
            handler_->onReadable(peer, entry.isHangup());
            ++(entry.isWritable() ? readers : ours);
        }
    }
    if (ours == 0 && readers == 0) {
        Transport::onReady(fds);
        return;
    }
    if (ours == fds.size()) return;
    std::vector<Polling::Event> rest;
    for (const auto& entry : fds) {
        const uint64_t tag = entry.getTag().value();
        if (tag == uint64_t(timerFd_) || tag == uint64_t(completions_->fd())) continue;
        const bool peer = peers.count(Pistache::Fd(tag)) != 0;
        if (peer && !entry.isWritable()) continue;
        Polling::Event event(entry.getTag());
        if (peer) {
            event.flags.setFlag(Polling::NotifyOn::Write);  // the read side was ours
        } else {
            if (entry.isReadable()) event.flags.setFlag(Polling::NotifyOn::Read);
            if (entry.isWritable()) event.flags.setFlag(Polling::NotifyOn::Write);
            if (entry.isHangup()) event.flags.setFlag(Polling::NotifyOn::Hangup);
        }
        rest.push_back(std::move(event));
    }
    if (!rest.empty()) Transport::onReady(Pistache::Aio::FdSet(std::move(rest)));
}

// ---------------------------------------------------------------- the server

ServerSettings serverSettings(int threads, int64_t maxBodyBytes) {
    ServerSettings s;
    s.threads = threads;
    s.limits.maxRequestBytes = size_t(maxBodyBytes) * 2 + kHeaderRoom;
    return s;
}

size_t defaultMaxConnections(size_t fileLimit, size_t inUse) {
    const size_t reserve = 16 + fileLimit / 64;
    return fileLimit > inUse + reserve ? fileLimit - inUse - reserve : 1;
}

namespace {
constexpr int kAcceptBatch = 256;  // connections taken per wake-up before the stop fd is seen
constexpr int kPauseMs = 100;      // accepting pauses this long when no descriptor is left
constexpr auto kReportInterval = std::chrono::seconds(10);

int openSpare() {
    return ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

size_t openDescriptors() {
    DIR* dir = ::opendir("/proc/self/fd");
    if (!dir) return 64;  // a guess: no /proc
    size_t n = 0;
    while (const dirent* entry = ::readdir(dir)) {
        if (entry->d_name[0] != '.') ++n;
    }
    ::closedir(dir);
    return n > 0 ? n - 1 : 0;  // less the directory's own descriptor
}

// A listening socket on `address` (as Pistache's Listener binds: getaddrinfo, the first
// address that binds), non-blocking.
int listenOn(const Pistache::Address& address, int backlog) {
    std::string host = address.host();
    if (host.size() > 1 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    const std::string port = std::to_string(uint16_t(address.port()));
    addrinfo hints{};
    hints.ai_family = address.family();
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    addrinfo* found = nullptr;
    if (const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
        throw std::runtime_error(::gai_strerror(rc));
    }
    int error = 0;
    for (const addrinfo* a = found; a; a = a->ai_next) {
        const int fd =
            ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            error = errno;
            continue;
        }
        const int one = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, backlog) == 0) {
            ::freeaddrinfo(found);
            return fd;
        }
        error = errno;
        ::close(fd);
    }
    ::freeaddrinfo(found);
    throw std::runtime_error(std::strerror(error));
}
}  // namespace

ConnectionServer::~ConnectionServer() {
    shutdown();
    if (listenFd_ >= 0) ::close(listenFd_);
    if (stopFd_ >= 0) ::close(stopFd_);
    if (spareFd_ >= 0) ::close(spareFd_);
}

void ConnectionServer::start(const ServerSettings& settings,
                             std::shared_ptr<ProtocolHandler> handler) {
    listenFd_ = listenOn(address_, settings.backlog);
    stopFd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (stopFd_ < 0) throw std::runtime_error("eventfd failed");
    warn_ = settings.warn;

    handler->setMaxRequestSize(settings.limits.maxRequestBytes);
    handler->setMaxResponseSize(settings.maxResponseBytes);
    handler->setLimits(settings.limits);
    // The handler's clones (one per reactor thread) share the gate; the accept thread alone
    // admits to it.
    ConnectionCaps pending;
    pending.maxConnections = settings.maxConnections;
    pending.maxConnectionsPerAddress = settings.maxConnectionsPerAddress;
    pending.exempt = settings.exemptAddresses;
    // Reactors: an epoll set and a few eventfds/timerfds each; counted as if open.
    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    const size_t fileLimit =
        limit.rlim_cur == RLIM_INFINITY ? size_t(1) << 20 : size_t(limit.rlim_cur);
    const size_t reactors = size_t(std::max(settings.threads, 1)) + 1;  // and the prototype
    const size_t fitting =
        defaultMaxConnections(fileLimit, openDescriptors() + 1 /* spare */ + reactors * 8);
    if (pending.maxConnections == 0) {
        pending.maxConnections = fitting;
    } else if (pending.maxConnections > fitting && warn_) {
        warn_("server.max_connections " + std::to_string(pending.maxConnections) +
              " is more than the descriptor limit " + std::to_string(fileLimit) +
              " leaves room for (about " + std::to_string(fitting) +
              "): connections beyond that are closed at once");
    }
    gate_ = std::make_shared<ConnectionGate>(std::move(pending), settings.maxUnwrittenBytes);
    handler->setGate(gate_);

    reactor_.init(Pistache::Aio::AsyncContext(size_t(std::max(settings.threads, 1))));
    const auto key = reactor_.addHandler(std::make_shared<ConnectionTransport>(handler));
    reactor_.run();
    for (const auto& h : reactor_.handlers(key)) {
        transports_.push_back(std::static_pointer_cast<Pistache::Tcp::Transport>(h));
    }
    spareFd_ = openSpare();
    lastReport_ = Clock::now();
    running_ = true;
    acceptThread_ = std::thread([this] { acceptLoop(); });
}

Pistache::Port ConnectionServer::port() const {
    sockaddr_storage local{};
    socklen_t len = sizeof local;
    if (listenFd_ < 0 || ::getsockname(listenFd_, reinterpret_cast<sockaddr*>(&local), &len) != 0) {
        return Pistache::Port(0);
    }
    if (local.ss_family == AF_INET6) {
        return Pistache::Port(ntohs(reinterpret_cast<const sockaddr_in6*>(&local)->sin6_port));
    }
    return Pistache::Port(ntohs(reinterpret_cast<const sockaddr_in*>(&local)->sin_port));
}

void ConnectionServer::shutdown() {
    if (!running_) return;
    running_ = false;
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(stopFd_, &one, sizeof one);
    if (acceptThread_.joinable()) acceptThread_.join();
    reactor_.shutdown();
}

void ConnectionServer::acceptLoop() {
    bool accepting = true;
    for (;;) {
        pollfd fds[2] = {{stopFd_, POLLIN, 0}, {listenFd_, POLLIN, 0}};
        // Paused: only the stop fd, for a while. Else a wake-up now and then for report().
        const int timeout =
            accepting ? int(std::chrono::milliseconds(kReportInterval).count()) : kPauseMs;
        const int ready = ::poll(fds, accepting ? 2 : 1, timeout);
        if (ready < 0 && errno != EINTR) {
            ::poll(fds, 1, kPauseMs);  // cannot happen with valid descriptors; never spin
        }
        if (fds[0].revents != 0) return;
        if (!accepting) {
            if (spareFd_ < 0) spareFd_ = openSpare();
            accepting = true;
        }
        if (ready > 0 && fds[1].revents != 0) accepting = acceptPending();
        report();
    }
}

bool ConnectionServer::acceptPending() {
    for (int i = 0; i < kAcceptBatch; ++i) {
        sockaddr_storage peer{};
        socklen_t len = sizeof peer;
        const int fd = ::accept4(listenFd_, reinterpret_cast<sockaddr*>(&peer), &len,
                                 SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            dispatch(fd, peer);
            continue;
        }
        switch (errno) {
            case EAGAIN:
#if EAGAIN != EWOULDBLOCK
            case EWOULDBLOCK:
#endif
                return true;  // none waiting
            case EMFILE:
            case ENFILE:
            case ENOBUFS:
            case ENOMEM: {
                // No descriptor for it: the spare makes room to take the connection and
                // close it, rather than leave it waiting (poll would report it again at once).
                ++refusedNoDescriptor_;
                if (spareFd_ < 0) return false;
                ::close(spareFd_);
                const int refused = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
                const int error = errno;
                if (refused >= 0) ::close(refused);
                spareFd_ = openSpare();
                if (spareFd_ < 0) return false;
                if (refused < 0 && (error == EAGAIN || error == EWOULDBLOCK)) return true;
                continue;
            }
            default:
                // ECONNABORTED, EPROTO, network errors of the new connection: the next one.
                // Anything about the listening socket itself shows again: pause.
                if (errno == EBADF || errno == EINVAL || errno == ENOTSOCK) return false;
                continue;
        }
    }
    return true;
}

void ConnectionServer::dispatch(int fd, const sockaddr_storage& peer) {
    const auto* address = reinterpret_cast<const sockaddr*>(&peer);
    switch (gate_->admit(fd, address)) {
        case ConnectionGate::Verdict::Admitted:
            break;
        case ConnectionGate::Verdict::AddressFull:
            ++refusedPerAddress_;
            ::close(fd);
            return;
        case ConnectionGate::Verdict::ServerFull:
            ++refusedFull_;
            ::close(fd);
            return;
    }
    // The kernel keeps little of an answer the client does not read; the rest is counted.
    ::setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &kUnsentBytes, sizeof kUnsentBytes);
    try {
        auto p = Pistache::Tcp::Peer::Create(
            fd, Pistache::Address::fromUnix(const_cast<sockaddr*>(address)));
        // As Tcp::Listener does: the reactor thread by descriptor.
        transports_[size_t(fd) % transports_.size()]->handleNewPeer(p);
    } catch (const std::exception&) {
        gate_->release(fd);
        ::close(fd);
    }
}

void ConnectionServer::report() {
    const auto now = Clock::now();
    if (now - lastReport_ < kReportInterval) return;
    lastReport_ = now;
    const size_t evictions = gate_->evictions();
    const size_t evicted = evictions - evictedReported_;
    evictedReported_ = evictions;
    if (evicted + refusedPerAddress_ + refusedFull_ + refusedNoDescriptor_ == 0 || !warn_) {
        refusedPerAddress_ = refusedFull_ = refusedNoDescriptor_ = 0;
        return;
    }
    warn_("connection caps (max_connections " + std::to_string(gate_->caps().maxConnections) +
          ", max_connections_per_ip " + std::to_string(gate_->caps().maxConnectionsPerAddress) +
          "): " + std::to_string(evicted) + " idle connection(s) closed to make room, " +
          std::to_string(refusedPerAddress_) + " refused (per address), " +
          std::to_string(refusedFull_) + " refused (none idle), " +
          std::to_string(refusedNoDescriptor_) + " refused (no descriptor)");
    refusedPerAddress_ = refusedFull_ = refusedNoDescriptor_ = 0;
}

}  // namespace authsvc::app
