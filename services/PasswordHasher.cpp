#include "services/PasswordHasher.h"

#include <sodium.h>

#include <cstdint>
#include <stdexcept>

#include "common/Crypto.h"
#include "verify/Base64Url.h"

namespace authsvc::models {

PasswordHasher::PasswordHasher(Argon2Params params) : params_(params) {
    crypto::init();
    dummy_ = hash(verify::base64UrlEncode(crypto::randomBytes(24)));
}

std::string PasswordHasher::hash(std::string_view password) const {
    return hash(password, params_);
}

std::string PasswordHasher::hash(std::string_view password, Argon2Params params) const {
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(out, password.data(), password.size(), params.iterations,
                              params.memoryKib * 1024, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        throw std::runtime_error("argon2id hashing failed (out of memory?)");
    }
    return out;
}

std::optional<Argon2Params> PasswordHasher::parseParameters(std::string_view prefix) {
    constexpr std::string_view kHead = "$argon2id$v=19$m=";
    if (prefix.substr(0, kHead.size()) != kHead) return std::nullopt;
    prefix.remove_prefix(kHead.size());
    // A decimal number without sign or leading zero, at most `max`, then `next`.
    auto number = [&prefix](uint64_t max, std::string_view next) -> std::optional<uint64_t> {
        uint64_t v = 0;
        size_t i = 0;
        while (i < prefix.size() && prefix[i] >= '0' && prefix[i] <= '9' && i < 8) {
            v = v * 10 + uint64_t(prefix[i] - '0');
            ++i;
        }
        if (i == 0 || (i > 1 && prefix[0] == '0') || v > max) return std::nullopt;
        if (prefix.substr(i, next.size()) != next) return std::nullopt;
        prefix.remove_prefix(i + next.size());
        return v;
    };
    const auto m = number(4u << 20, ",t=");
    const auto t = m ? number(64, ",p=1") : std::nullopt;
    if (!t || !prefix.empty() || *m < 8 || *t < 1) return std::nullopt;
    return Argon2Params{*t, size_t(*m)};
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
