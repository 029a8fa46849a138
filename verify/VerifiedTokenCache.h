// VerifiedTokenCache: access tokens that passed TokenService's full verification, with
// their claims, so that a token presented again costs one hash and one lookup instead of
// a JWT decode. Keyed by the whole token text (signature included): any other bytes,
// a tampered or re-signed token among them, miss and are verified in full. Only the
// time-dependent checks can change their answer for the same bytes, so every hit checks
// exp and nbf/iat against the injected Clock with the same leeway as TokenService and
// misses (dropping the entry) once the token would be refused. Bounded: at most
// `capacity` entries, each shard replacing its oldest entry when full.
// Thread-safe: sharded by the token's hash, one mutex per shard (no global lock).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "verify/AccessClaims.h"
#include "verify/Clock.h"

namespace authsvc::verify {

class VerifiedTokenCache {
  public:
    // The times a verified token is accepted in, before the leeway is applied: it is
    // valid while notBeforeMs <= now + leeway and now <= expiresMs + leeway.
    struct Window {
        int64_t notBeforeMs = 0;  // the later of nbf and iat; 0 when it has neither
        int64_t expiresMs = 0;
        uint64_t keysVersion = 0;  // the key set it verified under (KeySource::version)
    };

    // `capacity` 0 disables the cache (every find misses, insert does nothing).
    // A capacity of 16 or more is spread over 16 shards.
    VerifiedTokenCache(size_t capacity, int64_t leewayMs, const Clock& clock);

    // The claims of `token` if it was inserted under key set `keysVersion` and is inside
    // its window now (shared with the cache: no copy); nullptr otherwise.
    std::shared_ptr<const AccessClaims> find(std::string_view token, uint64_t keysVersion = 0);
    // Call only with a token that passed the full verification just now. The claims are
    // shared with the caller (not copied) in the second form.
    void insert(std::string_view token, const AccessClaims& claims, Window window);
    void insert(std::string_view token, std::shared_ptr<const AccessClaims> claims, Window window);
    size_t size() const;

  private:
    // A token's last 32 bytes: the cache holds only tokens whose signature verified, and
    // a JWS ends in its signature (43 or more base64url characters of MAC or signature
    // output), so those bytes are as good a hash input as the whole token. Lookups
    // compare whole tokens.
    struct TokenHash {
        size_t operator()(std::string_view token) const;
    };
    struct Slot {
        std::string token;  // empty: free
        std::shared_ptr<const AccessClaims> claims;
        Window window;
    };
    struct Shard {
        mutable std::mutex mu;
        std::vector<Slot> slots;
        std::unordered_map<std::string_view, size_t, TokenHash> index;  // views into slots[i].token
        size_t next = 0;                                                // the oldest slot (FIFO)
    };
    Shard& shardOf(std::string_view token);
    bool inWindow(const Window& w) const;

    int64_t leewayMs_;
    const Clock& clock_;
    std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace authsvc::verify
