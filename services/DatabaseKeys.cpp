#include "services/DatabaseKeys.h"

#include <openssl/crypto.h>

#include <stdexcept>

#include "common/Crypto.h"
#include "common/JsonText.h"

namespace authsvc::models {

using verify::KeyError;

namespace {

// Thrown inside a step's transaction when its condition failed: rolls it back.
class StepTakenElsewhere : public std::runtime_error {
  public:
    StepTakenElsewhere() : std::runtime_error("the step was taken by another instance") {}
};

// The PEM is wiped when it goes.
struct WipedString {
    std::string text;
    ~WipedString() { OPENSSL_cleanse(text.data(), text.size()); }
};

}  // namespace

DatabaseKeys::DatabaseKeys(Database& db, const SigningKeyRepository& repo, KeyRing& ring,
                           const verify::Clock& clock, DatabaseKeySettings settings)
    : db_(db), repo_(repo), ring_(ring), clock_(clock), settings_(std::move(settings)) {
    crypto::init();
    if (settings_.encryptionKey.size() != crypto::kAeadKeyBytes) {
        throw std::invalid_argument("jwt.key_encryption_key must be 32 bytes");
    }
}

SigningKeyRow DatabaseKeys::sealedRow(const std::string& kid, const std::string& pem,
                                      const std::string& state, int64_t nowMs) const {
    const verify::AsymmetricKey key = verify::keyFromPem(pem, kid);
    SigningKeyRow row;
    row.kid = kid;
    row.algorithm = verify::algorithmName(key.alg);
    row.state = state;
    row.sealedKey = crypto::aeadSeal(settings_.encryptionKey, pem, kid);
    row.publicJwk = verify::publicJwk(key).dump();
    row.thumbprint = verify::thumbprint(key);
    row.createdMs = nowMs;
    if (state == "current") row.promotedMs = nowMs;
    if (state == "retired") row.retiredMs = nowMs;
    return row;
}

SigningKeyRow DatabaseKeys::newRow(const std::string& state, int64_t nowMs) const {
    const WipedString pem{generatePrivatePem(settings_.algorithm)};
    return sealedRow(newKid(nowMs), pem.text, state, nowMs);
}

std::shared_ptr<const verify::AsymmetricKey> DatabaseKeys::open(const SigningKeyRow& row) {
    auto it = opened_.find(row.kid);
    if (it != opened_.end() && it->second.first == row.sealedKey) return it->second.second;
    auto pem = crypto::aeadOpen(settings_.encryptionKey, row.sealedKey, row.kid);
    if (!pem) {
        throw KeyError("the stored signing key " + row.kid +
                       " does not open with jwt.key_encryption_key (another key encrypted the "
                       "store, or the row was altered): nothing was changed");
    }
    const WipedString wiped{std::move(*pem)};
    verify::AsymmetricKey key;
    try {
        key = verify::keyFromPem(wiped.text, row.kid);
    } catch (const KeyError& e) {
        throw KeyError("the stored signing key " + row.kid + ": " + e.what());
    }
    if (verify::thumbprint(key) != row.thumbprint ||
        verify::algorithmName(key.alg) != row.algorithm) {
        throw KeyError("the stored signing key " + row.kid +
                       " does not match its public JWK (thumbprint or algorithm)");
    }
    auto shared = std::make_shared<const verify::AsymmetricKey>(std::move(key));
    opened_[row.kid] = {row.sealedKey, shared};
    return shared;
}

bool DatabaseKeys::take(const KeyStep& step) {
    const int64_t now = clock_.nowMs();
    try {
        switch (step.kind) {
            case KeyStepKind::CreateCurrent:
            case KeyStepKind::CreateNext: {
                const SigningKeyRow row =
                    newRow(step.kind == KeyStepKind::CreateCurrent ? "current" : "next", now);
                return db_.write([&](Connection& c) { return repo_.insert(c, row); });
            }
            case KeyStepKind::Promote:
                db_.write([&](Connection& c) {
                    if (!repo_.promote(c, step.kid, step.fromKid, now)) {
                        throw StepTakenElsewhere();
                    }
                });
                return true;
            case KeyStepKind::Delete:
                return db_.write([&](Connection& c) { return repo_.deleteRetired(c, step.kid); });
        }
    } catch (const DatabaseUnavailable&) {
        throw;
    } catch (const KeyError&) {
        throw;
    } catch (const std::exception&) {
        // StepTakenElsewhere, or the unique slot refused a key another instance inserted
        // meanwhile (or a multi-primary cluster's certification refused the commit): either
        // way another instance took the step; the next read shows its result.
        return false;
    }
    return false;
}

void DatabaseKeys::install(const std::vector<SigningKeyRow>& rows, KeySync& result) {
    std::string fingerprint;
    for (const auto& r : rows) fingerprint += r.kid + ":" + r.state + " ";
    const SigningKeyRow* current = currentKey(rows);
    result.currentKid = current ? current->kid : "";
    if (fingerprint == installed_) return;
    verify::KeySet set;
    std::shared_ptr<const SigningKey> signing;
    std::vector<KeyInfo> infos;
    for (const auto& r : rows) {
        const auto key = open(r);
        set.add(*key);
        const bool signs = current == &r;
        if (signs) signing = std::make_shared<const SigningKey>(*key);
        infos.push_back({r.kid, r.algorithm, true, r.thumbprint, signs});
    }
    if (!settings_.sharedSecret.empty()) set.setSharedSecret(settings_.sharedSecret);
    ring_.replace(std::move(set), std::move(signing), std::move(infos));
    installed_ = fingerprint;
    result.changed = true;
    // Keys gone from the store are forgotten here too.
    for (auto it = opened_.begin(); it != opened_.end();) {
        bool kept = false;
        for (const auto& r : rows) kept = kept || r.kid == it->first;
        it = kept ? std::next(it) : opened_.erase(it);
    }
}

KeySync DatabaseKeys::sync() {
    std::lock_guard<std::mutex> lock(mu_);
    KeySync result;
    auto rows = db_.read([&](Connection& c) { return repo_.list(c); });
    // Every key opens before anything is written: a wrong encryption key changes nothing.
    for (const auto& r : rows) open(r);
    const auto steps = dueKeySteps(clock_.nowMs(), rows, settings_.schedule);
    for (const auto& step : steps) {
        if (!take(step)) continue;
        switch (step.kind) {
            case KeyStepKind::CreateCurrent:
                result.steps.push_back("created the first key");
                break;
            case KeyStepKind::CreateNext:
                result.steps.push_back("created the next key");
                break;
            case KeyStepKind::Promote:
                result.steps.push_back("promoted " + step.kid + " to current" +
                                       (step.fromKid.empty() ? "" : ", retired " + step.fromKid));
                break;
            case KeyStepKind::Delete:
                result.steps.push_back("deleted " + step.kid);
                break;
        }
    }
    if (!steps.empty()) rows = db_.read([&](Connection& c) { return repo_.list(c); });
    install(rows, result);
    return result;
}

std::string DatabaseKeys::rotate() {
    std::lock_guard<std::mutex> lock(mu_);
    const auto rows = db_.read([&](Connection& c) { return repo_.list(c); });
    for (const auto& r : rows) open(r);
    for (const auto& r : rows) {
        if (r.state == "next") {
            throw KeyError("a next key exists already: " + r.kid +
                           " (it becomes current on the schedule)");
        }
    }
    const bool first = currentKey(rows) == nullptr;
    const SigningKeyRow row = newRow(first ? "current" : "next", clock_.nowMs());
    if (!db_.write([&](Connection& c) { return repo_.insert(c, row); })) {
        throw KeyError("another instance created a key meanwhile: see authsvc keys list");
    }
    if (first) return row.kid + " created: current (the store had no key)";
    const int64_t at = row.createdMs + settings_.schedule.publishMs;
    return row.kid + " created: next, current from " + rfc3339Utc(at / 1000);
}

std::vector<std::string> DatabaseKeys::importDir(const std::string& dir,
                                                 const std::string& signingKid) {
    std::lock_guard<std::mutex> lock(mu_);
    KeyConfig config;
    config.keysDir = dir;
    config.signingKid = signingKid;
    config.needSigningKey = false;
    const KeyRing files(config);  // the same checks as the service's (owner, mode, kid)
    auto rows = db_.read([&](Connection& c) { return repo_.list(c); });
    for (const auto& r : rows) open(r);
    bool haveCurrent = currentKey(rows) != nullptr;
    std::vector<std::string> out;
    for (const auto& key : files.source()->keys()->keys()) {
        bool stored = false;
        for (const auto& r : rows) stored = stored || r.kid == key.kid;
        if (stored) {
            out.push_back(key.kid + " skipped: the store has this kid");
            continue;
        }
        if (!key.hasPrivate) {
            out.push_back(key.kid + " skipped: a public key only (nothing to sign with)");
            continue;
        }
        const std::string state = key.kid == signingKid && !haveCurrent ? "current" : "retired";
        const WipedString pem{privatePemOf(key.pkey.get())};
        const SigningKeyRow row = sealedRow(key.kid, pem.text, state, clock_.nowMs());
        if (!db_.write([&](Connection& c) { return repo_.insert(c, row); })) {
            out.push_back(key.kid + " skipped: another key became " + state + " meanwhile");
            continue;
        }
        if (state == "current") haveCurrent = true;
        out.push_back(key.kid + " imported as " + state);
    }
    return out;
}

std::vector<ListedKey> DatabaseKeys::list() {
    std::lock_guard<std::mutex> lock(mu_);
    const auto rows = db_.read([&](Connection& c) { return repo_.list(c); });
    std::vector<ListedKey> out;
    std::optional<int64_t> promotion;  // of the next key: the current one retires then
    for (const auto& r : rows) {
        if (r.state == "next") promotion = nextStepAtMs(r, settings_.schedule);
    }
    for (const auto& r : rows) {
        ListedKey k{r, nextStepAtMs(r, settings_.schedule)};
        if (r.state == "current" && promotion) k.nextStepMs = promotion;
        out.push_back(std::move(k));
    }
    return out;
}

}  // namespace authsvc::models
