// KeyRing: authsvc's signing and verification keys, loaded from configuration and swapped
// whole by reload() (SIGHUP). The rules (docs/API.md, "Keys"):
// - keys_dir empty: the HS256 secret signs and verifies (tokens without kid);
// - keys_dir set: every <kid>.pem in it verifies with the algorithm its key implies
//   (EC P-256 -> ES256, RSA >= 2048 bits -> RS256); the private key `signing_kid` signs,
//   with its kid in the token header; the HS256 secret, when set, only verifies tokens
//   without kid (a migration from HS256).
// Anything else (an unreadable or unsupported PEM, a bad kid, a missing or public-only
// signing key) is a KeyError naming the file, and a failed reload keeps the keys in force.
// So is a keys_dir or <kid>.pem that group or others can write, or that belongs to another
// user than the service's (KeyConfig::serviceUid) or root: whoever can write there could
// add a trusted key (symbolic links are followed: the target's mode and owner count).
// Thread-safe: signingKey() and verification are called by every request thread while
// reload() runs on the signal thread.
#pragma once

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/Crypto.h"
#include "verify/KeySource.h"
#include "verify/Keys.h"

namespace authsvc::models {

struct KeyConfig {
    std::string secret;  // HS256; empty: none
    std::string keysDir;
    std::string signingKid;
    bool needSigningKey = true;  // false: only inspect the keys (`authsvc keys list`)
    // jwt.key_store: database: no keys (but the HS256 secret, when set) until replace().
    bool external = false;
    // The user the keys must belong to (besides root); nullopt: this process's, geteuid().
    std::optional<uid_t> serviceUid = std::nullopt;
};

// What signs new access tokens: the HS256 secret, or a private key under its kid.
class SigningKey {
  public:
    explicit SigningKey(const std::string& secret);  // HS256, no kid
    explicit SigningKey(verify::AsymmetricKey key);  // must hold the private key
    verify::Algorithm algorithm() const { return alg_; }
    const std::string& kid() const { return kid_; }  // empty for HS256
    const std::string& encodedHeader() const { return encodedHeader_; }
    // The signature of `signingInput` (raw bytes: 32 for HS256, R||S for ES256).
    std::string sign(std::string_view signingInput) const;

  private:
    verify::Algorithm alg_;
    std::string kid_;
    std::string encodedHeader_;  // base64url of the JOSE header
    std::unique_ptr<crypto::HmacSha256> hmac_;
    std::shared_ptr<EVP_PKEY> pkey_;
};

// One key file as `authsvc keys list` shows it.
struct KeyInfo {
    std::string kid;
    std::string algorithm;
    bool hasPrivate = false;
    std::string thumbprint;  // RFC 7638
    bool signs = false;
};

class KeyRing {
  public:
    // Throws verify::KeyError.
    explicit KeyRing(const KeyConfig& config);
    // Loads `config` and swaps it in; on failure throws verify::KeyError and keeps the
    // current keys.
    void reload(const KeyConfig& config);

    // jwt.key_store: database: swaps in the keys read from the store, whole (a poller
    // thread; readers see the old or the new set, never half of one).
    void replace(verify::KeySet set, std::shared_ptr<const SigningKey> signing,
                 std::vector<KeyInfo> infos);

    std::shared_ptr<verify::LocalKeySource> source() const { return source_; }
    std::shared_ptr<const SigningKey> signingKey() const;
    // The JWKS document served at /.well-known/jwks.json: {"keys": [...]}.
    std::shared_ptr<const std::string> jwks() const;
    std::vector<KeyInfo> describe() const;
    // Warnings found while loading (private key files readable by group or others).
    std::vector<std::string> warnings() const;

  private:
    struct Loaded;
    static Loaded load(const KeyConfig& config);
    void install(Loaded loaded);

    std::shared_ptr<verify::LocalKeySource> source_;
    mutable std::mutex mu_;
    std::shared_ptr<const SigningKey> signing_;
    std::shared_ptr<const std::string> jwks_;
    std::vector<KeyInfo> infos_;
    std::vector<std::string> warnings_;
};

// Writes a new private key as <dir>/<kid>.pem with mode 0600, never overwriting (the
// directory is created 0700 when missing). `algorithm` "ES256" or "RS256" (2048 bits);
// an empty kid gets one that is unique and sorts by creation time. Returns the kid.
// Throws verify::KeyError.
std::string generateKeyFile(const std::string& dir, const std::string& algorithm, std::string kid,
                            int64_t nowMs);

// A kid that sorts by creation time: 20261207T081500Z-<12 hex digits>.
std::string newKid(int64_t nowMs);
// A new private key as PKCS#8 PEM: "ES256" (P-256) or "RS256" (2048 bits). Throws KeyError.
std::string generatePrivatePem(const std::string& algorithm);
// The PKCS#8 PEM of a private key. Throws KeyError.
std::string privatePemOf(EVP_PKEY* pkey);

// A kid usable as a file name: 1 to 64 of [A-Za-z0-9._-], not starting with '.'.
bool isValidKid(const std::string& kid);

}  // namespace authsvc::models
