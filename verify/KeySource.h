// KeySource: where a Verifier gets the keys it accepts. Implementations are thread-safe:
// keys() and version() are called by every verifying thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>

#include "verify/Keys.h"

namespace authsvc::verify {

class KeySource {
  public:
    virtual ~KeySource() = default;
    // The keys in force now; never null.
    virtual std::shared_ptr<const KeySet> keys() const = 0;
    // Changes whenever keys() starts returning another set (so that tokens verified under
    // an earlier set are checked again: a removed key stops verifying at once).
    virtual uint64_t version() const = 0;
    // A token names `kid`, which the current set lacks. A source that can fetch keys (a JWKS
    // URL) may fetch again, rate-limited, and return the set to retry with; nullptr when
    // there is nothing new (yet). May block for a short, bounded while (JwksKeySource:
    // JwksOptions::unknownKidWait). The default: nullptr.
    virtual std::shared_ptr<const KeySet> keysForUnknownKid(std::string_view kid);
};

// Keys given by the program: a PEM public key, a shared secret, a directory it loaded.
// replace() swaps the whole set at once (a reload); readers never see half a set.
class LocalKeySource final : public KeySource {
  public:
    explicit LocalKeySource(KeySet keys);
    std::shared_ptr<const KeySet> keys() const override;
    uint64_t version() const override { return version_.load(std::memory_order_acquire); }
    void replace(KeySet keys);

  private:
    mutable std::mutex mu_;
    std::shared_ptr<const KeySet> keys_;
    std::atomic<uint64_t> version_{1};
};

// Conveniences for the common cases.
std::shared_ptr<LocalKeySource> publicKeyPem(std::string_view pem, std::string kid);
std::shared_ptr<LocalKeySource> sharedSecret(std::string secret);

}  // namespace authsvc::verify
