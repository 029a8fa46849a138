#include "services/PasswordHasher.h"

#include <sodium.h>

#include <stdexcept>

#include "common/Crypto.h"
#include "verify/Base64Url.h"

namespace authsvc::models {

PasswordHasher::PasswordHasher(Argon2Params params) : params_(params) {
    crypto::init();
    dummy_ = hash(verify::base64UrlEncode(crypto::randomBytes(24)));
}

std::string PasswordHasher::hash(std::string_view password) const {
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(out, password.data(), password.size(), params_.iterations,
                              params_.memoryKib * 1024, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        throw std::runtime_error("argon2id hashing failed (out of memory?)");
    }
    return out;
}

bool PasswordHasher::verify(std::string_view password, const std::string& phc) const {
    if (phc.size() >= crypto_pwhash_STRBYTES) return false;
    return crypto_pwhash_str_verify(phc.c_str(), password.data(), password.size()) == 0;
}

bool PasswordHasher::verifyDummy(std::string_view password) const {
    (void)verify(password, dummy_);
    return false;
}

bool PasswordHasher::needsRehash(const std::string& phc) const {
    return crypto_pwhash_str_needs_rehash(phc.c_str(), params_.iterations,
                                          params_.memoryKib * 1024) != 0;
}

}  // namespace authsvc::models
