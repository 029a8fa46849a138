#include "verify/Sha256.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace authsvc::verify {

std::string sha256(std::string_view data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) || len != 32) {
        throw std::runtime_error("SHA-256 failed");  // only when OpenSSL is out of memory
    }
    return std::string(reinterpret_cast<char*>(md), len);
}

}  // namespace authsvc::verify
