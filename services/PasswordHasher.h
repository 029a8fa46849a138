// PasswordHasher: argon2id PHC strings via libsodium. Slow on purpose (tens of ms and
// memory_kib of RAM per call): call it only from the hashing worker pool.
// Thread-safe; construct once (it precomputes the dummy hash).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace authsvc::models {

struct Argon2Params {
    unsigned long long iterations = 2;
    size_t memoryKib = 19456;
    bool operator==(const Argon2Params&) const = default;
};

class PasswordHasher {
  public:
    explicit PasswordHasher(Argon2Params params);

    // "$argon2id$v=19$m=...,t=...,p=1$salt$hash"; throws std::runtime_error when out of memory.
    std::string hash(std::string_view password) const;
    // The same with other parameters (the dummy hash of AuthService).
    std::string hash(std::string_view password, Argon2Params params) const;
    // The parameters of a PHC prefix "$argon2id$v=19$m=M,t=T,p=1" (the hash string without
    // its salt and hash), within the configurable ranges (m 8..4 GiB in KiB, t 1..64);
    // nullopt for anything else.
    static std::optional<Argon2Params> parseParameters(std::string_view prefix);
    const Argon2Params& parameters() const { return params_; }
    // False for a wrong password or a malformed hash.
    bool verify(std::string_view password, const std::string& phc) const;
    // Spends about the time of a real verify, for unknown accounts (no user enumeration
    // by timing). Always returns false.
    bool verifyDummy(std::string_view password) const;
    bool needsRehash(const std::string& phc) const;

  private:
    Argon2Params params_;
    std::string dummy_;
};

}  // namespace authsvc::models
