// Signing JWTs with a private PEM for the tests (OpenSSL directly, independent of authsvc's
// own signer): tokens an attacker or another issuer would make.
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <stdexcept>

#include "support/Harness.h"

namespace it {
namespace {

using PKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

PKey readPrivate(const std::string& pem) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), int(pem.size())),
                                                  BIO_free);
    EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
    if (!key) throw std::runtime_error("not a private key PEM");
    return PKey(key, EVP_PKEY_free);
}

// DER ECDSA-Sig-Value to JOSE R||S (32 bytes each).
std::string joseFromDer(const std::string& der) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, long(der.size()));
    if (!sig) throw std::runtime_error("bad DER signature");
    std::string out(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(out.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(out.data() + 32), 32);
    ECDSA_SIG_free(sig);
    return out;
}

}  // namespace

std::string signWithPem(const json& header, const json& payload, const std::string& privatePem) {
    PKey key = readPrivate(privatePem);
    const std::string input =
        base64UrlEncode(header.dump()) + "." + base64UrlEncode(payload.dump());
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    size_t len = 0;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &len,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
        throw std::runtime_error("sign failed");
    }
    std::string sig(len, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
        throw std::runtime_error("sign failed");
    }
    sig.resize(len);
    if (EVP_PKEY_is_a(key.get(), "EC")) sig = joseFromDer(sig);
    return input + "." + base64UrlEncode(sig);
}

std::string publicPemOf(const std::string& privatePem) {
    PKey key = readPrivate(privatePem);
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    if (!bio || !PEM_write_bio_PUBKEY(bio.get(), key.get())) throw std::runtime_error("PEM");
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, size_t(n));
}

}  // namespace it
