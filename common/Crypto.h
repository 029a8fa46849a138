// Small crypto primitives: CSPRNG bytes and HMAC-SHA256 with a precomputed key (OpenSSL),
// hex, base64 and constant-time comparison (libsodium). base64url and SHA-256 are the verify
// library's (verify/Base64Url.h, verify/Sha256.h): one codec for the project. All functions are
// thread-safe; sodium_init() is called by the first Crypto::init().
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace authsvc::models::crypto {

// Must be called once before any other function (idempotent, thread-safe).
void init();

std::string randomBytes(size_t n);
// Standard base64 with padding (RFC 4648 4), as MIME uses it (base64url: verify/Base64Url.h).
std::string base64Encode(std::string_view bytes);
// The bytes of standard base64 text (padding required); nullopt for anything else.
std::optional<std::string> base64Decode(std::string_view text);
std::string hex(std::string_view bytes);
// The bytes of even-length hex text (either case); nullopt for anything else.
std::optional<std::string> unhex(std::string_view text);
std::string sha256Hex(std::string_view data);  // 64 hex chars of verify::sha256
bool constantTimeEquals(std::string_view a, std::string_view b);

// libsodium's XChaCha20-Poly1305 IETF AEAD under a 32-byte `key` (throws
// std::invalid_argument otherwise), with a random nonce per call: hex of nonce and
// ciphertext, and `associatedData` bound to it (it must be the same to open).
constexpr size_t kAeadKeyBytes = 32;
std::string aeadSeal(std::string_view key, std::string_view plaintext,
                     std::string_view associatedData);
// The plaintext of aeadSeal's text; nullopt for another key, other associated data, or
// text that was not sealed so (altered, truncated).
std::optional<std::string> aeadOpen(std::string_view key, std::string_view sealedHex,
                                    std::string_view associatedData);

// HMAC-SHA256 (RFC 2104) under a fixed key whose inner and outer pads are hashed once, on
// OpenSSL's SHA-256 (its SHA extensions where the CPU has them: several times libsodium's
// portable code, and every refresh signs an access token and derives its successor).
class HmacSha256 {
  public:
    explicit HmacSha256(std::string_view key);
    ~HmacSha256();
    HmacSha256(const HmacSha256&) = default;
    HmacSha256& operator=(const HmacSha256&) = default;
    std::string mac(std::string_view data) const;  // 32 raw bytes

  private:
    static constexpr size_t kStateBytes = 128;              // holds a SHA256_CTX, opaque here
    alignas(16) std::array<uint8_t, kStateBytes> inner_{};  // after the key XOR ipad block
    alignas(16) std::array<uint8_t, kStateBytes> outer_{};  // after the key XOR opad block
};

}  // namespace authsvc::models::crypto
