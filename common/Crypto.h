// Small crypto primitives over libsodium: CSPRNG bytes, HMAC-SHA256 with a precomputed
// key, hex and constant-time comparison. base64url and SHA-256 are the verify library's
// (verify/Base64Url.h, verify/Sha256.h): one codec for the project. All functions are
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

// HMAC-SHA256 under a fixed key whose inner and outer pads are computed once.
class HmacSha256 {
  public:
    explicit HmacSha256(std::string_view key);
    std::string mac(std::string_view data) const;  // 32 raw bytes

  private:
    alignas(64) std::array<uint8_t, 512> state_{};  // crypto_auth_hmacsha256_state, opaque
};

}  // namespace authsvc::models::crypto
