// ConnectionGate: the server-wide accounting of connections and of answer memory, shared by
// the accept thread (ConnectionServer) and the reactor threads (ProtocolHandler). It promises:
// - admit() counts a new connection in all and per client address, and refuses one beyond
//   the per-address cap (trusted proxies are not capped per address) or, at the global cap,
//   makes room by closing the connection that has waited longest for its client (its socket
//   is shut down; its reactor then sees the hang-up and closes it) — a connection in the
//   middle of an answer is never chosen; release() uncounts it, before its descriptor closes;
// - IdleConnections (one per reactor thread) lists that reactor's connections waiting for
//   their client, the longest-waiting first;
// - UnwrittenBytes adds up the bytes of answers that no socket has taken yet, all
//   connections together, and wakes the reactors that wait for it to fall below its limit.
// Every member may be called from any thread unless its comment says otherwise.
#pragma once

#include <sys/socket.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "middleware/ClientAddress.h"

namespace authsvc::app {

// Connections of one reactor thread that wait for their client (no request being answered,
// no answer being written), in the order they began to wait. The reactor thread links and
// unlinks its connections; any thread may evict the longest-waiting one.
class IdleConnections {
  public:
    using TimePoint = std::chrono::steady_clock::time_point;
    // Part of a connection; its fields are read and written under the list's mutex only.
    struct Node {
        Node* prev = nullptr;  // null: not linked
        Node* next = nullptr;
        int fd = -1;
        TimePoint since;
    };

    IdleConnections();
    IdleConnections(const IdleConnections&) = delete;
    IdleConnections& operator=(const IdleConnections&) = delete;

    // Reactor thread: the connection on `fd` waits for its client from `now` on (it moves
    // to the end of the list if it was in it).
    void touch(Node& node, int fd, TimePoint now);
    // Reactor thread: no longer waiting (or closing). Nothing if it is not in the list.
    void remove(Node& node);
    // Since when the longest-waiting connection waits; nullopt when there is none.
    std::optional<TimePoint> oldest() const;
    // Shuts down (both directions) the socket of the longest-waiting connection and takes it
    // out of the list; false when the list is empty.
    bool evictOldest();
    // Unlinks every connection (their owner is going away).
    void clear();

  private:
    mutable std::mutex mu_;
    Node head_;  // head_.next: the longest-waiting; head_.prev: the most recent
};

// Bytes of answers computed but not yet taken by a socket, all connections together, and
// the wake-up of those who wait for the total to fall below the limit.
class UnwrittenBytes {
  public:
    explicit UnwrittenBytes(size_t limit) : limit_(limit) {}

    size_t limit() const { return limit_; }
    size_t total() const { return total_.load(); }
    void add(size_t n) { total_ += n; }
    // Wakes every waker once the total is below the limit and someone waits.
    void remove(size_t n);
    // True when the total is at or over the limit (never with limit 0); the wakers are then
    // called once it falls below it (overAndWaiting() before remove(): no lost wake-up).
    bool overAndWaiting();
    // Registers a wake-up (a reactor's); called from the thread that brings the total down.
    void onDrained(std::function<void()> wake);

  private:
    const size_t limit_;
    std::atomic<size_t> total_{0};
    std::atomic<bool> waiting_{false};
    std::mutex mu_;
    std::vector<std::function<void()>> wakers_;
};

struct ConnectionCaps {
    size_t maxConnections = 0;            // open connections in all; 0: no cap
    size_t maxConnectionsPerAddress = 0;  // from one client address; 0: no cap
    middleware::TrustedProxies exempt;    // addresses not capped per address
};

class ConnectionGate {
  public:
    // Beyond the global cap, at most this many more connections stay open while the ones
    // evicted for them are being closed by their reactors; further ones are refused.
    static constexpr size_t kEvictionSlack = 8;

    ConnectionGate(ConnectionCaps caps, size_t maxUnwrittenBytes);

    enum class Verdict { Admitted, AddressFull, ServerFull };
    // Accept thread: the new connection on `fd` from `peer` (AF_INET or AF_INET6; IPv6
    // addresses are counted by their /64, like the throttles). Admitted: counted until
    // release(fd); at the global cap an idle connection was evicted for it. Otherwise the
    // caller closes it.
    Verdict admit(int fd, const sockaddr* peer);
    // The connection on `fd` ends (before its descriptor is closed). Nothing if not counted.
    void release(int fd);
    // A reactor's list (registered once, when its transport starts).
    void addIdleList(std::shared_ptr<IdleConnections> list);

    UnwrittenBytes& unwritten() { return unwritten_; }
    size_t open() const;
    size_t evictions() const { return evictions_.load(); }
    const ConnectionCaps& caps() const { return caps_; }

  private:
    using Key = std::array<uint8_t, 17>;  // IPv6 flag, address (IPv6: the /64)
    struct Slot {
        bool open = false;
        bool perAddress = false;  // counted in perAddress_ under `key`
        Key key{};
    };
    bool evictOldestIdle();
    void releaseLocked(Slot& slot);

    const ConnectionCaps caps_;
    UnwrittenBytes unwritten_;
    mutable std::mutex mu_;
    size_t open_ = 0;
    std::map<Key, uint32_t> perAddress_;
    std::vector<Slot> slots_;  // by descriptor
    std::mutex listsMu_;
    std::vector<std::shared_ptr<IdleConnections>> idleLists_;
    std::atomic<size_t> evictions_{0};
};

}  // namespace authsvc::app
