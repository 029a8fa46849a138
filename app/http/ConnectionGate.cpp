#include "app/http/ConnectionGate.h"

#include <netinet/in.h>

#include <cstring>

namespace authsvc::app {

// ---------------------------------------------------------------- IdleConnections

IdleConnections::IdleConnections() {
    head_.prev = &head_;
    head_.next = &head_;
}

void IdleConnections::touch(Node& node, int fd, TimePoint now) {
    std::lock_guard<std::mutex> lock(mu_);
    if (node.prev) {  // unlink, to append again
        node.prev->next = node.next;
        node.next->prev = node.prev;
    }
    node.fd = fd;
    node.since = now;
    node.prev = head_.prev;
    node.next = &head_;
    head_.prev->next = &node;
    head_.prev = &node;
}

void IdleConnections::remove(Node& node) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!node.prev) return;
    node.prev->next = node.next;
    node.next->prev = node.prev;
    node.prev = nullptr;
    node.next = nullptr;
}

std::optional<IdleConnections::TimePoint> IdleConnections::oldest() const {
    std::lock_guard<std::mutex> lock(mu_);
    if (head_.next == &head_) return std::nullopt;
    return head_.next->since;
}

bool IdleConnections::evictOldest() {
    std::lock_guard<std::mutex> lock(mu_);
    Node* node = head_.next;
    if (node == &head_) return false;
    node->prev->next = node->next;
    node->next->prev = node->prev;
    node->prev = nullptr;
    node->next = nullptr;
    // Under the mutex: the reactor takes its connections out of the list before it closes
    // their descriptors, so this one is still the connection's.
    ::shutdown(node->fd, SHUT_RDWR);
    return true;
}

void IdleConnections::clear() {
    std::lock_guard<std::mutex> lock(mu_);
    for (Node* node = head_.next; node != &head_;) {
        Node* next = node->next;
        node->prev = nullptr;
        node->next = nullptr;
        node = next;
    }
    head_.prev = &head_;
    head_.next = &head_;
}

// ---------------------------------------------------------------- UnwrittenBytes

void UnwrittenBytes::remove(size_t n) {
    const size_t after = total_.fetch_sub(n) - n;
    if (after >= limit_ || !waiting_.load() || !waiting_.exchange(false)) return;
    std::vector<std::function<void()>> wakers;
    {
        std::lock_guard<std::mutex> lock(mu_);
        wakers = wakers_;
    }
    for (const auto& wake : wakers) wake();
}

bool UnwrittenBytes::overAndWaiting() {
    if (limit_ == 0 || total_.load() < limit_) return false;
    // Waiting is announced before the total is read again: a remove() that brings the total
    // below the limit after that read sees it and wakes.
    waiting_.store(true);
    return total_.load() >= limit_;
}

void UnwrittenBytes::onDrained(std::function<void()> wake) {
    std::lock_guard<std::mutex> lock(mu_);
    wakers_.push_back(std::move(wake));
}

// ---------------------------------------------------------------- ConnectionGate

ConnectionGate::ConnectionGate(ConnectionCaps caps, size_t maxUnwrittenBytes)
    : caps_(std::move(caps)), unwritten_(maxUnwrittenBytes) {}

ConnectionGate::Verdict ConnectionGate::admit(int fd, const sockaddr* peer) {
    if (fd < 0) return Verdict::ServerFull;
    Key key{};
    bool perAddress = caps_.maxConnectionsPerAddress > 0;
    if (peer->sa_family == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(peer);
        std::memcpy(key.data() + 1, &in->sin_addr, 4);
    } else if (peer->sa_family == AF_INET6) {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(peer);
        const uint8_t* bytes = in6->sin6_addr.s6_addr;
        static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (std::memcmp(bytes, kMapped, 12) == 0) {
            std::memcpy(key.data() + 1, bytes + 12, 4);  // IPv4-mapped: the IPv4 address
        } else {
            key[0] = 1;
            std::memcpy(key.data() + 1, bytes, 8);  // its /64
        }
    } else {
        perAddress = false;  // not an IP peer
    }
    if (perAddress && !caps_.exempt.empty()) {
        models::IpAddress address;
        address.v6 = key[0] == 1;
        if (peer->sa_family == AF_INET6 && address.v6) {
            std::memcpy(address.bytes.data(),
                        reinterpret_cast<const sockaddr_in6*>(peer)->sin6_addr.s6_addr, 16);
        } else {
            std::memcpy(address.bytes.data(), key.data() + 1, 4);
        }
        perAddress = !caps_.exempt.contains(address);
    }

    const size_t slot = size_t(fd);
    auto count = [&] {
        if (slot >= slots_.size()) slots_.resize(slot + 256);
        Slot& s = slots_[slot];
        s.open = true;
        s.perAddress = perAddress;
        s.key = key;
        ++open_;
        if (perAddress) ++perAddress_[key];
    };
    {
        std::lock_guard<std::mutex> lock(mu_);
        // A descriptor still counted was closed without release(): its count goes now.
        if (slot < slots_.size() && slots_[slot].open) releaseLocked(slots_[slot]);
        if (perAddress) {
            const auto it = perAddress_.find(key);
            if (it != perAddress_.end() && it->second >= caps_.maxConnectionsPerAddress) {
                return Verdict::AddressFull;
            }
        }
        if (caps_.maxConnections == 0 || open_ < caps_.maxConnections) {
            count();
            return Verdict::Admitted;
        }
        if (open_ >= caps_.maxConnections + kEvictionSlack) return Verdict::ServerFull;
    }
    // At the cap: the connection that has waited longest for its client makes room. Not
    // under mu_: a reactor takes its list's mutex, then (not nested) this one.
    if (!evictOldestIdle()) return Verdict::ServerFull;
    ++evictions_;
    std::lock_guard<std::mutex> lock(mu_);
    count();
    return Verdict::Admitted;
}

void ConnectionGate::release(int fd) {
    std::lock_guard<std::mutex> lock(mu_);
    if (fd >= 0 && size_t(fd) < slots_.size() && slots_[size_t(fd)].open) {
        releaseLocked(slots_[size_t(fd)]);
    }
}

void ConnectionGate::releaseLocked(Slot& slot) {
    slot.open = false;
    --open_;
    if (!slot.perAddress) return;
    const auto it = perAddress_.find(slot.key);
    if (it == perAddress_.end()) return;
    if (--it->second == 0) perAddress_.erase(it);
}

void ConnectionGate::addIdleList(std::shared_ptr<IdleConnections> list) {
    std::lock_guard<std::mutex> lock(listsMu_);
    idleLists_.push_back(std::move(list));
}

bool ConnectionGate::evictOldestIdle() {
    std::lock_guard<std::mutex> lock(listsMu_);
    // The reactor whose first connection waits longest; its list may change meanwhile, and
    // then its (new) first one goes: near enough.
    IdleConnections* chosen = nullptr;
    std::optional<IdleConnections::TimePoint> since;
    for (const auto& list : idleLists_) {
        const auto oldest = list->oldest();
        if (oldest && (!since || *oldest < *since)) {
            since = oldest;
            chosen = list.get();
        }
    }
    return chosen && chosen->evictOldest();
}

size_t ConnectionGate::open() const {
    std::lock_guard<std::mutex> lock(mu_);
    return open_;
}

}  // namespace authsvc::app
