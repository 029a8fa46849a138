#include "verify/VerifiedTokenCache.h"

#include <algorithm>
#include <functional>

namespace authsvc::verify {
namespace {
constexpr size_t kMaxShards = 16;  // a power of two
}  // namespace

VerifiedTokenCache::VerifiedTokenCache(size_t capacity, int64_t leewayMs, const Clock& clock)
    : leewayMs_(leewayMs), clock_(clock) {
    if (capacity == 0) return;
    size_t shards = 1;
    while (shards * 2 <= std::min(capacity, kMaxShards)) shards *= 2;
    const size_t perShard = capacity / shards;  // shards <= capacity: at least 1
    for (size_t i = 0; i < shards; ++i) {
        auto shard = std::make_unique<Shard>();
        shard->slots.resize(perShard);
        shard->index.reserve(perShard);
        shards_.push_back(std::move(shard));
    }
}

size_t VerifiedTokenCache::TokenHash::operator()(std::string_view token) const {
    constexpr size_t kTail = 32;
    return std::hash<std::string_view>{}(token.size() > kTail ? token.substr(token.size() - kTail)
                                                              : token);
}

VerifiedTokenCache::Shard& VerifiedTokenCache::shardOf(std::string_view token) {
    // The top bits: the shard's map uses the low bits of the same hash for its buckets.
    const size_t h = TokenHash{}(token);
    return *shards_[(h >> 40) & (shards_.size() - 1)];
}

bool VerifiedTokenCache::inWindow(const Window& w) const {
    const int64_t now = clock_.nowMs();
    return w.notBeforeMs <= now + leewayMs_ && now <= w.expiresMs + leewayMs_;
}

std::shared_ptr<const AccessClaims> VerifiedTokenCache::find(std::string_view token,
                                                             uint64_t keysVersion) {
    if (shards_.empty()) return nullptr;
    Shard& s = shardOf(token);
    std::lock_guard lock(s.mu);
    auto it = s.index.find(token);
    if (it == s.index.end()) return nullptr;
    Slot& slot = s.slots[it->second];
    if (!inWindow(slot.window) || slot.window.keysVersion != keysVersion) {
        // Refused from now on (or, for a clock set back, until the full verification says
        // otherwise), or verified under another key set: the caller verifies in full and
        // gets the precise reason.
        s.index.erase(it);
        slot.token.clear();
        slot.claims.reset();
        return nullptr;
    }
    return slot.claims;
}

void VerifiedTokenCache::insert(std::string_view token, const AccessClaims& claims, Window window) {
    insert(token, std::make_shared<const AccessClaims>(claims), window);
}

void VerifiedTokenCache::insert(std::string_view token, std::shared_ptr<const AccessClaims> claims,
                                Window window) {
    if (shards_.empty() || token.empty()) return;  // an empty token marks a free slot
    Shard& s = shardOf(token);
    std::lock_guard lock(s.mu);
    size_t i;
    if (auto it = s.index.find(token); it != s.index.end()) {
        i = it->second;
    } else {
        i = s.next;
        s.next = (s.next + 1) % s.slots.size();
        Slot& victim = s.slots[i];
        if (!victim.token.empty()) s.index.erase(victim.token);
        victim.token.assign(token);
        s.index.emplace(victim.token, i);
    }
    s.slots[i].claims = std::move(claims);
    s.slots[i].window = window;
}

size_t VerifiedTokenCache::size() const {
    size_t n = 0;
    for (const auto& s : shards_) {
        std::lock_guard lock(s->mu);
        n += s->index.size();
    }
    return n;
}

}  // namespace authsvc::verify
