#include "common/Crypto.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sodium.h>

#include <cstring>
#include <stdexcept>

#include "verify/Sha256.h"

namespace authsvc::models::crypto {

void init() {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

static_assert(crypto_aead_xchacha20poly1305_ietf_KEYBYTES == kAeadKeyBytes);

std::string aeadSeal(std::string_view key, std::string_view plaintext,
                     std::string_view associatedData) {
    if (key.size() != kAeadKeyBytes) throw std::invalid_argument("an AEAD key is 32 bytes");
    const std::string nonce = randomBytes(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    std::string sealed(plaintext.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
    unsigned long long length = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        reinterpret_cast<unsigned char*>(sealed.data()), &length,
        reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
        reinterpret_cast<const unsigned char*>(associatedData.data()), associatedData.size(),
        nullptr, reinterpret_cast<const unsigned char*>(nonce.data()),
        reinterpret_cast<const unsigned char*>(key.data()));
    sealed.resize(length);
    return hex(nonce + sealed);
}

std::optional<std::string> aeadOpen(std::string_view key, std::string_view sealedHex,
                                    std::string_view associatedData) {
    if (key.size() != kAeadKeyBytes) throw std::invalid_argument("an AEAD key is 32 bytes");
    auto bytes = unhex(sealedHex);
    constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
    if (!bytes || bytes->size() < kNonce + crypto_aead_xchacha20poly1305_ietf_ABYTES) {
        return std::nullopt;
    }
    std::string plaintext(bytes->size() - kNonce, '\0');
    unsigned long long length = 0;
    const auto* in = reinterpret_cast<const unsigned char*>(bytes->data());
    const int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(
        reinterpret_cast<unsigned char*>(plaintext.data()), &length, nullptr, in + kNonce,
        bytes->size() - kNonce, reinterpret_cast<const unsigned char*>(associatedData.data()),
        associatedData.size(), in, reinterpret_cast<const unsigned char*>(key.data()));
    sodium_memzero(bytes->data(), bytes->size());
    if (rc != 0) return std::nullopt;
    plaintext.resize(length);
    return plaintext;
}

std::string randomBytes(size_t n) {
    std::string out(n, '\0');
    // OpenSSL's DRBG (seeded from the kernel, reseeded by OpenSSL; fork-safe): libsodium's
    // randombytes_buf is a getrandom(2) system call per call, one per token issued.
    if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), int(n)) != 1) {
        throw std::runtime_error("the random generator failed");
    }
    return out;
}

namespace {
std::string base64WithVariant(std::string_view bytes, int variant) {
    std::string out(sodium_base64_encoded_len(bytes.size(), variant), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                      bytes.size(), variant);
    out.resize(std::strlen(out.c_str()));
    return out;
}
}  // namespace

std::string base64Encode(std::string_view bytes) {
    return base64WithVariant(bytes, sodium_base64_VARIANT_ORIGINAL);
}

std::optional<std::string> base64Decode(std::string_view text) {
    std::string out(text.size() / 4 * 3 + 3, '\0');
    size_t length = 0;
    const char* end = nullptr;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                          text.size(), nullptr, &length, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != text.data() + text.size()) {
        return std::nullopt;
    }
    out.resize(length);
    return out;
}

std::string hex(std::string_view bytes) {
    std::string out(bytes.size() * 2 + 1, '\0');
    sodium_bin2hex(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                   bytes.size());
    out.pop_back();
    return out;
}

std::optional<std::string> unhex(std::string_view text) {
    if (text.size() % 2 != 0) return std::nullopt;
    std::string out(text.size() / 2, '\0');
    size_t length = 0;
    const char* end = nullptr;
    if (sodium_hex2bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                       text.size(), nullptr, &length, &end) != 0 ||
        end != text.data() + text.size() || length != out.size()) {
        return std::nullopt;
    }
    return out;
}

std::string sha256Hex(std::string_view data) {
    return hex(verify::sha256(data));
}

bool constantTimeEquals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

// OpenSSL 3 deprecates the SHA256_* calls in favour of EVP, whose context copy allocates;
// a SHA256_CTX is a plain struct, copied per call.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static_assert(sizeof(SHA256_CTX) <= 128, "SHA256_CTX does not fit");

HmacSha256::HmacSha256(std::string_view key) {
    constexpr size_t kBlock = 64;
    unsigned char block[kBlock] = {};
    if (key.size() > kBlock) {
        SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), block);
    } else {
        std::memcpy(block, key.data(), key.size());
    }
    unsigned char pad[kBlock];
    for (size_t i = 0; i < kBlock; ++i) pad[i] = block[i] ^ 0x36;
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, pad, kBlock);
    std::memcpy(inner_.data(), &ctx, sizeof ctx);
    for (size_t i = 0; i < kBlock; ++i) pad[i] = block[i] ^ 0x5c;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, pad, kBlock);
    std::memcpy(outer_.data(), &ctx, sizeof ctx);
    OPENSSL_cleanse(&ctx, sizeof ctx);
    OPENSSL_cleanse(pad, sizeof pad);
    OPENSSL_cleanse(block, sizeof block);
}

HmacSha256::~HmacSha256() {
    OPENSSL_cleanse(inner_.data(), inner_.size());
    OPENSSL_cleanse(outer_.data(), outer_.size());
}

std::string HmacSha256::mac(std::string_view data) const {
    SHA256_CTX ctx;
    std::memcpy(&ctx, inner_.data(), sizeof ctx);
    SHA256_Update(&ctx, data.data(), data.size());
    unsigned char innerHash[SHA256_DIGEST_LENGTH];
    SHA256_Final(innerHash, &ctx);
    std::memcpy(&ctx, outer_.data(), sizeof ctx);
    SHA256_Update(&ctx, innerHash, sizeof innerHash);
    std::string out(SHA256_DIGEST_LENGTH, '\0');
    SHA256_Final(reinterpret_cast<unsigned char*>(out.data()), &ctx);
    OPENSSL_cleanse(&ctx, sizeof ctx);
    return out;
}
#pragma GCC diagnostic pop

}  // namespace authsvc::models::crypto
