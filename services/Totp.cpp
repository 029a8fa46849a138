#include "services/Totp.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <stdexcept>

namespace authsvc::models {

std::string hotpCode(std::string_view key, uint64_t counter, int digits) {
    unsigned char message[8];
    for (int i = 7; i >= 0; --i) {
        message[i] = static_cast<unsigned char>(counter & 0xff);
        counter >>= 8;
    }
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int macLength = 0;
    if (!HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), message, sizeof message, mac,
              &macLength) ||
        macLength < 20) {
        throw std::runtime_error("HMAC-SHA1 failed");
    }
    const int offset = mac[macLength - 1] & 0x0f;
    const uint32_t binary = (uint32_t(mac[offset] & 0x7f) << 24) |
                            (uint32_t(mac[offset + 1]) << 16) | (uint32_t(mac[offset + 2]) << 8) |
                            uint32_t(mac[offset + 3]);
    uint32_t modulus = 1;
    for (int i = 0; i < digits; ++i) modulus *= 10;
    std::string code = std::to_string(binary % modulus);
    return std::string(size_t(digits) - code.size(), '0') + code;
}

}  // namespace authsvc::models
