#include "verify/Keys.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <cstring>

#include "verify/Base64Url.h"
#include "verify/Sha256.h"

namespace authsvc::verify {
namespace {

struct Freer {
    void operator()(BIO* p) const { BIO_free(p); }
    void operator()(BIGNUM* p) const { BN_free(p); }
    void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
    void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); }
    void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
    void operator()(OSSL_DECODER_CTX* p) const { OSSL_DECODER_CTX_free(p); }
};
template <typename T>
using Owned = std::unique_ptr<T, Freer>;

std::shared_ptr<EVP_PKEY> share(EVP_PKEY* p) {
    return std::shared_ptr<EVP_PKEY>(p, EVP_PKEY_free);
}

// Refuses to prompt for a pass phrase: an encrypted key is an error, never a read on stdin.
int noPassword(char*, int, int, void*) {
    return 0;
}

std::string bigEndian(const EVP_PKEY* pkey, const char* param, int padTo) {
    BIGNUM* raw = nullptr;
    if (!EVP_PKEY_get_bn_param(pkey, param, &raw))
        throw KeyError("key without " + std::string(param));
    Owned<BIGNUM> bn(raw);
    const int size = padTo > 0 ? padTo : BN_num_bytes(bn.get());
    std::string out(size_t(size), '\0');
    if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()), size) != size) {
        throw KeyError("key parameter too long");
    }
    return out;
}

// The algorithm the key implies, or KeyError for a key this service does not use.
Algorithm algorithmOf(EVP_PKEY* pkey) {
    if (EVP_PKEY_is_a(pkey, "EC")) {
        char group[64] = {0};
        size_t len = 0;
        if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                            &len) ||
            std::strcmp(group, "prime256v1") != 0) {
            throw KeyError("EC keys must be on the P-256 curve (ES256)");
        }
        return Algorithm::ES256;
    }
    if (EVP_PKEY_is_a(pkey, "RSA")) {
        if (EVP_PKEY_get_bits(pkey) < 2048) throw KeyError("RSA keys must have at least 2048 bits");
        return Algorithm::RS256;
    }
    throw KeyError("unsupported key type (EC P-256 or RSA of 2048 bits or more)");
}

bool hasPrivatePart(EVP_PKEY* pkey) {
    BIGNUM* raw = nullptr;
    const char* name = EVP_PKEY_is_a(pkey, "EC") ? OSSL_PKEY_PARAM_PRIV_KEY : OSSL_PKEY_PARAM_RSA_D;
    if (!EVP_PKEY_get_bn_param(pkey, name, &raw)) return false;
    BN_clear_free(raw);
    return true;
}

std::string stringMember(const nlohmann::json& jwk, const char* name) {
    auto it = jwk.find(name);
    if (it == jwk.end() || !it->is_string()) throw KeyError(std::string("JWK without ") + name);
    return it->get<std::string>();
}

std::string decodedMember(const nlohmann::json& jwk, const char* name) {
    auto bytes = base64UrlDecode(stringMember(jwk, name));
    if (!bytes || bytes->empty())
        throw KeyError(std::string("JWK member ") + name + " is not base64url");
    return *bytes;
}

std::shared_ptr<EVP_PKEY> fromParams(const char* type, OSSL_PARAM_BLD* bld) {
    Owned<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(bld));
    Owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    EVP_PKEY* pkey = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
        EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0 || !pkey) {
        throw KeyError(std::string("JWK is not a valid ") + type + " public key");
    }
    auto shared = share(pkey);
    Owned<EVP_PKEY_CTX> check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey, nullptr));
    if (!check || EVP_PKEY_public_check(check.get()) <= 0) {
        throw KeyError(std::string("JWK is not a valid ") + type + " public key");
    }
    return shared;
}

}  // namespace

const char* algorithmName(Algorithm alg) {
    switch (alg) {
        case Algorithm::HS256:
            return "HS256";
        case Algorithm::ES256:
            return "ES256";
        case Algorithm::RS256:
            return "RS256";
    }
    return "HS256";
}

AsymmetricKey keyFromPem(std::string_view pem, std::string kid) {
    if (pem.size() > 64 * 1024) throw KeyError("PEM too large");
    AsymmetricKey key;
    key.kid = std::move(kid);
    Owned<BIO> bio(BIO_new_mem_buf(pem.data(), int(pem.size())));
    if (EVP_PKEY* priv = PEM_read_bio_PrivateKey(bio.get(), nullptr, noPassword, nullptr)) {
        key.pkey = share(priv);
    } else {
        // SPKI ("PUBLIC KEY") or PKCS#1 ("RSA PUBLIC KEY").
        EVP_PKEY* pub = nullptr;
        Owned<OSSL_DECODER_CTX> dctx(OSSL_DECODER_CTX_new_for_pkey(
            &pub, "PEM", nullptr, nullptr, EVP_PKEY_PUBLIC_KEY, nullptr, nullptr));
        const auto* data = reinterpret_cast<const unsigned char*>(pem.data());
        size_t len = pem.size();
        if (!dctx || !OSSL_DECODER_from_data(dctx.get(), &data, &len) || !pub) {
            throw KeyError("not a PEM private or public key (or one encrypted with a pass phrase)");
        }
        key.pkey = share(pub);
    }
    key.alg = algorithmOf(key.pkey.get());
    key.hasPrivate = hasPrivatePart(key.pkey.get());
    return key;
}

nlohmann::json publicJwk(const AsymmetricKey& key) {
    nlohmann::json jwk;
    if (key.alg == Algorithm::ES256) {
        jwk["kty"] = "EC";
        jwk["crv"] = "P-256";
        jwk["x"] = base64UrlEncode(bigEndian(key.pkey.get(), OSSL_PKEY_PARAM_EC_PUB_X, 32));
        jwk["y"] = base64UrlEncode(bigEndian(key.pkey.get(), OSSL_PKEY_PARAM_EC_PUB_Y, 32));
    } else {
        jwk["kty"] = "RSA";
        jwk["n"] = base64UrlEncode(bigEndian(key.pkey.get(), OSSL_PKEY_PARAM_RSA_N, 0));
        jwk["e"] = base64UrlEncode(bigEndian(key.pkey.get(), OSSL_PKEY_PARAM_RSA_E, 0));
    }
    jwk["kid"] = key.kid;
    jwk["alg"] = algorithmName(key.alg);
    jwk["use"] = "sig";
    return jwk;
}

AsymmetricKey keyFromJwk(const nlohmann::json& jwk) {
    if (!jwk.is_object()) throw KeyError("JWK is not an object");
    AsymmetricKey key;
    key.kid = stringMember(jwk, "kid");
    if (key.kid.empty()) throw KeyError("JWK with an empty kid");
    const std::string kty = stringMember(jwk, "kty");
    Owned<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
    if (kty == "EC") {
        if (stringMember(jwk, "crv") != "P-256") throw KeyError("EC JWK not on P-256");
        const std::string x = decodedMember(jwk, "x");
        const std::string y = decodedMember(jwk, "y");
        if (x.size() != 32 || y.size() != 32) throw KeyError("P-256 coordinates must be 32 bytes");
        const std::string point = "\x04" + x + y;
        OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
        OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                         point.size());
        key.pkey = fromParams("EC", bld.get());
    } else if (kty == "RSA") {
        const std::string n = decodedMember(jwk, "n");
        const std::string e = decodedMember(jwk, "e");
        Owned<BIGNUM> bn(
            BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), int(n.size()), nullptr));
        Owned<BIGNUM> be(
            BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), int(e.size()), nullptr));
        if (!bn || !be) throw KeyError("RSA JWK with a bad n or e");
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn.get());
        OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, be.get());
        key.pkey = fromParams("RSA", bld.get());
    } else {
        throw KeyError("unsupported JWK kty (EC or RSA)");
    }
    key.alg = algorithmOf(key.pkey.get());
    if (auto alg = jwk.find("alg"); alg != jwk.end()) {
        if (!alg->is_string() || alg->get<std::string>() != algorithmName(key.alg)) {
            throw KeyError("JWK alg does not match its key");
        }
    }
    if (auto use = jwk.find("use"); use != jwk.end() && (!use->is_string() || *use != "sig")) {
        throw KeyError("JWK is not for signatures");
    }
    key.hasPrivate = false;
    return key;
}

std::string thumbprint(const AsymmetricKey& key) {
    const nlohmann::json jwk = publicJwk(key);
    std::string canonical;
    if (key.alg == Algorithm::ES256) {
        canonical = R"({"crv":"P-256","kty":"EC","x":")" + jwk["x"].get<std::string>() +
                    R"(","y":")" + jwk["y"].get<std::string>() + R"("})";
    } else {
        canonical = R"({"e":")" + jwk["e"].get<std::string>() + R"(","kty":"RSA","n":")" +
                    jwk["n"].get<std::string>() + R"("})";
    }
    return base64UrlEncode(sha256(canonical));
}

std::string publicPem(const AsymmetricKey& key) {
    Owned<BIO> bio(BIO_new(BIO_s_mem()));
    if (!bio || !PEM_write_bio_PUBKEY(bio.get(), key.pkey.get()))
        throw KeyError("PEM write failed");
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, size_t(len));
}

void KeySet::add(AsymmetricKey key) {
    if (key.kid.empty()) throw KeyError("a key needs a kid");
    if (find(key.kid)) throw KeyError("two keys with kid " + key.kid);
    keys_.push_back(std::move(key));
}

void KeySet::setSharedSecret(std::string secret) {
    if (secret.size() < 32) throw KeyError("the HS256 secret must be at least 32 bytes");
    secret_ = std::move(secret);
}

const AsymmetricKey* KeySet::find(std::string_view kid) const {
    for (const auto& k : keys_) {
        if (k.kid == kid) return &k;
    }
    return nullptr;
}

nlohmann::json KeySet::jwks() const {
    nlohmann::json keys = nlohmann::json::array();
    for (const auto& k : keys_) keys.push_back(publicJwk(k));
    return nlohmann::json{{"keys", std::move(keys)}};
}

}  // namespace authsvc::verify
