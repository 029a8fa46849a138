#include "app/http/ProtocolHandler.h"

#include "app/http/RequestFramer.h"

#include <pistache/peer.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <map>
#include <mutex>
#include <ostream>
#include <stdexcept>
#include <streambuf>
#include <utility>

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

    uint64_t outstanding() const { return nextSeq - nextToWrite; }
    // Requests whose answers are not known to be written (not computed yet, or queued in
    // the transport because the client does not read): what maxOutstanding bounds.
    uint64_t unwritten() const { return nextSeq - written; }
};

// Tasks for a reactor thread, posted from any thread (worker pools). An eventfd in the
// reactor's epoll set wakes it; taking the tasks under the mutex after reading the eventfd
// cannot lose a wakeup (a push after the take writes the eventfd again).
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
        {
            std::lock_guard<std::mutex> lock(mu_);
            tasks_.push_back(std::move(task));
        }
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

  private:
    int fd_;
    std::mutex mu_;
    std::vector<Task> tasks_;
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

void ProtocolHandler::onConnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
    const size_t fd = size_t(peer->fd());
    if (fd >= connections_.size()) connections_.resize(fd + 64);
    auto c = std::make_shared<Connection>(peer, getMaxRequestSize(), Clock::now());
    c->framer = RequestFramer({getMaxRequestSize(), limits_.maxHeaderBytes});
    c->self = c;
    c->peerHost = peer->address().host();
    connections_[fd] = std::move(c);
}

void ProtocolHandler::onDisconnection(const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
    if (auto c = find(peer)) {
        c->gone = true;
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
    }
}

void ProtocolHandler::readFrom(Connection& c) {
    char buffer[kReadChunk];
    const int fd = c.peer->fd();
    while (!c.gone && !c.paused && !c.readClosed) {
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n > 0) {
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
        if (c.unwritten() >= limits_.maxOutstanding) {
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
    try {
        if (!parser.feed(data, len)) {
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
    c.peer->send(Pistache::RawBuffer(std::move(wire), size))
        .then(
            [this, weak, seq](ssize_t) {
                auto conn = weak.lock();
                if (!conn || conn->gone) return;
                --conn->queuedWrites;
                conn->written = std::max(conn->written, seq + 1);
                afterAnswers(*conn);
            },
            [weak](std::exception_ptr) {  // the connection is failing; it ends on its own
                if (auto conn = weak.lock()) --conn->queuedWrites;
            });
}

void ProtocolHandler::answer(Connection& c, uint64_t seq, Http::ResponseWriter& writer,
                             Http::Code code, const std::string& body, const HeaderFields& fields) {
    if (c.gone) return;
    if (seq != c.nextToWrite) {
        c.parked.emplace(seq, Connection::Parked{std::move(writer), code, body, fields});
        return;
    }
    write(c, seq, writer, code, body, fields);
    ++c.nextToWrite;
    while (!c.parked.empty() && c.parked.begin()->first == c.nextToWrite) {
        auto node = c.parked.extract(c.parked.begin());
        auto& p = node.mapped();
        write(c, node.key(), p.writer, p.code, p.body, p.fields);
        ++c.nextToWrite;
    }
    afterAnswers(c);
}

// After answers went out (or the client half-closed): resumes a paused connection, and
// closes one whose last answer is out.
void ProtocolHandler::afterAnswers(Connection& c) {
    if (c.gone || c.inParse) return;  // consume() on the stack goes on by itself
    if (c.paused && c.unwritten() < limits_.maxOutstanding) {
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

void ConnectionServer::start(const ServerSettings& settings,
                             std::shared_ptr<ProtocolHandler> handler) {
    handler->setMaxRequestSize(settings.limits.maxRequestBytes);
    handler->setMaxResponseSize(settings.maxResponseBytes);
    handler->setLimits(settings.limits);
    listener_.init(size_t(settings.threads),
                   Pistache::Flags<Pistache::Tcp::Options>(Pistache::Tcp::Options::ReuseAddr), "",
                   settings.backlog);
    listener_.setHandler(handler);
    listener_.setTransportFactory(
        [handler] { return std::make_shared<ConnectionTransport>(handler); });
    listener_.bind();
    listener_.runThreaded();
}

}  // namespace authsvc::app
