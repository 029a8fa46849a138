// Small crypto primitives over libsodium: CSPRNG bytes, SHA-256, HMAC-SHA256 with a
// precomputed key, base64url and constant-time comparison. All functions are
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
std::string base64UrlEncode(std::string_view bytes);
// Standard base64 with padding (RFC 4648 4), as MIME uses it.
std::string base64Encode(std::string_view bytes);
// Canonical unpadded base64url only: nullopt for any other character, padding, or
// non-zero trailing bits.
std::optional<std::string> base64UrlDecode(std::string_view text);
std::string hex(std::string_view bytes);
// The bytes of even-length hex text (either case); nullopt for anything else.
std::optional<std::string> unhex(std::string_view text);
std::string sha256(std::string_view data);     // 32 raw bytes
std::string sha256Hex(std::string_view data);  // 64 hex chars
bool constantTimeEquals(std::string_view a, std::string_view b);

// HMAC-SHA256 under a fixed key whose inner and outer pads are computed once.
class HmacSha256 {
  public:
    explicit HmacSha256(std::string_view key);
    std::string mac(std::string_view data) const;  // 32 raw bytes

  private:
    alignas(64) std::array<uint8_t, 512> state_{};  // crypto_auth_hmacsha256_state, opaque
};

}  // namespace authsvc::models::crypto
