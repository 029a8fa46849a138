#include "verify/KeySource.h"

namespace authsvc::verify {

std::shared_ptr<const KeySet> KeySource::keysForUnknownKid(std::string_view) {
    return nullptr;
}

LocalKeySource::LocalKeySource(KeySet keys)
    : keys_(std::make_shared<const KeySet>(std::move(keys))) {}

std::shared_ptr<const KeySet> LocalKeySource::keys() const {
    std::lock_guard<std::mutex> lock(mu_);
    return keys_;
}

void LocalKeySource::replace(KeySet keys) {
    auto next = std::make_shared<const KeySet>(std::move(keys));
    std::lock_guard<std::mutex> lock(mu_);
    keys_ = std::move(next);
    version_.fetch_add(1, std::memory_order_acq_rel);
}

std::shared_ptr<LocalKeySource> publicKeyPem(std::string_view pem, std::string kid) {
    KeySet set;
    set.add(keyFromPem(pem, std::move(kid)));
    return std::make_shared<LocalKeySource>(std::move(set));
}

std::shared_ptr<LocalKeySource> sharedSecret(std::string secret) {
    KeySet set;
    set.setSharedSecret(std::move(secret));
    return std::make_shared<LocalKeySource>(std::move(set));
}

}  // namespace authsvc::verify
