// DatabaseKeys: the signing keys of jwt.key_store: database. The private keys are stored
// sealed (XChaCha20-Poly1305 under jwt.key_encryption_key, the kid as associated data:
// common/Crypto aeadSeal), beside their public JWK and RFC 7638 thumbprint
// (SigningKeyRepository); KeySchedule says which step is due; sync() takes the due steps
// and swaps the keys into the KeyRing, which every request thread reads without waiting
// for the database (verification never blocks on a poll).
// Of several instances taking a step at once exactly one does it (a unique slot or a
// conditional UPDATE); the others find it done at their next read.
// Threads: sync(), rotate(), importDir() and list() are called by one thread at a time (the
// key poller, or the CLI's main thread); the KeyRing they fill is read by every thread.
// Nothing here logs, and no error message carries key material.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "models/Database.h"
#include "models/SigningKeyRepository.h"
#include "services/KeyRing.h"
#include "services/KeySchedule.h"
#include "verify/Clock.h"

namespace authsvc::models {

struct DatabaseKeySettings {
    std::string encryptionKey;        // 32 raw bytes: jwt.key_encryption_key
    std::string algorithm = "ES256";  // of the keys created: jwt.rotation.algorithm
    KeyScheduleSettings schedule;
    std::string sharedSecret;  // HS256 tokens without kid still verify (""; none)
};

// What one sync() did.
struct KeySync {
    std::vector<std::string> steps;  // "created next KID", "promoted KID", ... (taken here)
    std::string currentKid;          // "" while there is no current key
    bool changed = false;            // the KeyRing got another set of keys
};

// One key as `authsvc keys list` shows it.
struct ListedKey {
    SigningKeyRow row;
    std::optional<int64_t> nextStepMs;  // promotion of a next key, retirement, deletion
};

class DatabaseKeys {
  public:
    // Throws std::invalid_argument unless the encryption key is 32 bytes.
    DatabaseKeys(Database& db, const SigningKeyRepository& repo, KeyRing& ring,
                 const verify::Clock& clock, DatabaseKeySettings settings);

    // Reads the store, takes the steps that are due, and installs the keys. Throws
    // verify::KeyError when a stored key does not open under the encryption key (a wrong
    // jwt.key_encryption_key, or an altered row) before any step is taken: nothing is
    // written then; DatabaseUnavailable when the database cannot be reached.
    KeySync sync();

    // `authsvc keys rotate`: a next key now (promoted on the schedule); the first key,
    // current at once, when the store has none. Returns a line for the operator; throws
    // verify::KeyError when a next key exists already.
    std::string rotate();
    // `authsvc keys import DIR`: the private keys of a keys_dir into the store (never over a
    // kid it has): `signingKid` becomes current if the store has no current key, the others
    // retired (published until their last token expired, then deleted). One line per key.
    std::vector<std::string> importDir(const std::string& dir, const std::string& signingKid);
    // Every stored key, oldest first.
    std::vector<ListedKey> list();

  private:
    SigningKeyRow newRow(const std::string& state, int64_t nowMs) const;
    SigningKeyRow sealedRow(const std::string& kid, const std::string& pem,
                            const std::string& state, int64_t nowMs) const;
    // The key of the row, opened (cached by kid and sealed text). Throws verify::KeyError.
    std::shared_ptr<const verify::AsymmetricKey> open(const SigningKeyRow& row);
    // True if this instance took the step (false: another one did it first).
    bool take(const KeyStep& step);
    void install(const std::vector<SigningKeyRow>& rows, KeySync& result);

    Database& db_;
    const SigningKeyRepository& repo_;
    KeyRing& ring_;
    const verify::Clock& clock_;
    DatabaseKeySettings settings_;
    std::mutex mu_;  // one caller at a time
    std::map<std::string, std::pair<std::string, std::shared_ptr<const verify::AsymmetricKey>>>
        opened_;             // kid -> (sealed text, key)
    std::string installed_;  // "kid:state ..." of the set in the KeyRing
};

}  // namespace authsvc::models
