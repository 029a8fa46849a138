#include "verify/Sha256.h"

#include <openssl/sha.h>

#include <stdexcept>

namespace authsvc::verify {

// SHA256_* directly: EVP_Digest fetches the algorithm and allocates a context per call,
// about as much work again as hashing a refresh token (a refresh hashes two). OpenSSL 3
// deprecates these calls, not what they compute (the same code, SHA extensions included).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
std::string sha256(std::string_view data) {
    std::string out(SHA256_DIGEST_LENGTH, '\0');
    SHA256_CTX ctx;
    if (!SHA256_Init(&ctx) || !SHA256_Update(&ctx, data.data(), data.size()) ||
        !SHA256_Final(reinterpret_cast<unsigned char*>(out.data()), &ctx)) {
        throw std::runtime_error("SHA-256 failed");  // not with OpenSSL's own implementation
    }
    return out;
}
#pragma GCC diagnostic pop

}  // namespace authsvc::verify
