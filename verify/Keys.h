// Verification keys: a key is bound to one algorithm, which follows from the key itself
// (EC P-256 -> ES256, RSA of 2048 bits or more -> RS256, a shared secret of 32 bytes or
// more -> HS256); anything else is refused when it is loaded. A KeySet holds the keys a
// verifier accepts, each asymmetric one under its `kid`, and at most one HS256 secret
// for tokens without a `kid`. Keys and key sets are immutable once built and safe to
// share between threads.
#pragma once

#include <openssl/types.h>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace authsvc::verify {

enum class Algorithm { HS256, ES256, RS256 };
const char* algorithmName(Algorithm alg);  // "HS256", "ES256", "RS256"

// A key that cannot be used: unreadable PEM, unsupported type or size, bad JWK.
class KeyError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct AsymmetricKey {
    std::string kid;
    Algorithm alg = Algorithm::ES256;
    std::shared_ptr<EVP_PKEY> pkey;  // never null
    bool hasPrivate = false;         // the PEM held the private key (it can sign)
};

// A PEM private key (PKCS#8, SEC1 or PKCS#1) or public key (SPKI or PKCS#1) under `kid`.
// Throws KeyError.
AsymmetricKey keyFromPem(std::string_view pem, std::string kid);
// The public JWK (RFC 7517/7518): kty, crv+x+y (each coordinate 32 bytes) or n+e, kid,
// alg, use "sig". Never a private member.
nlohmann::json publicJwk(const AsymmetricKey& key);
// A key from a JWK with kty EC (crv P-256) or RSA; the JWK's alg, if present, must be the
// one the key implies; its kid is required. Private members are ignored. Throws KeyError.
AsymmetricKey keyFromJwk(const nlohmann::json& jwk);
// The RFC 7638 JWK thumbprint: base64url(SHA-256 of the required members, sorted).
std::string thumbprint(const AsymmetricKey& key);
// The key's public part as SPKI PEM.
std::string publicPem(const AsymmetricKey& key);

class KeySet {
  public:
    // Throws KeyError when `kid` is empty or already present.
    void add(AsymmetricKey key);
    // The HS256 secret for tokens without a kid; throws KeyError when shorter than 32 bytes.
    void setSharedSecret(std::string secret);

    const AsymmetricKey* find(std::string_view kid) const;
    const std::string& sharedSecret() const { return secret_; }  // empty: none
    const std::vector<AsymmetricKey>& keys() const { return keys_; }
    // {"keys": [public JWK, ...]}: every asymmetric key, public parts only.
    nlohmann::json jwks() const;

  private:
    std::vector<AsymmetricKey> keys_;
    std::string secret_;
};

}  // namespace authsvc::verify
