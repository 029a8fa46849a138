#include "services/KeyRing.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <optional>
#include <sstream>

#include "verify/Base64Url.h"

namespace authsvc::models {
namespace fs = std::filesystem;
using verify::Algorithm;
using verify::KeyError;

namespace {

constexpr size_t kMaxPemBytes = 64 * 1024;

// Why a keys_dir or key file with this mode and owner may not be trusted; nullopt: it may.
std::optional<std::string> unsafeOwnership(const struct stat& st, uid_t serviceUid) {
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        return std::string("is writable by group or others (chmod go-w it)");
    }
    if (st.st_uid != 0 && st.st_uid != serviceUid) {
        return "belongs to uid " + std::to_string(st.st_uid) +
               ", neither the service's user (uid " + std::to_string(serviceUid) +
               ") nor root (chown it)";
    }
    return std::nullopt;
}

// The file's bytes; its mode and owner are checked on the descriptor read from.
std::string readKeyFile(const fs::path& path, uid_t serviceUid, struct stat& st) {
    const int fd =
        ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);  // a FIFO: no wait
    if (fd < 0) throw KeyError(path.string() + ": cannot be read");
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        throw KeyError(path.string() + ": not a regular file");
    }
    if (auto why = unsafeOwnership(st, serviceUid)) {
        throw KeyError(path.string() + " " + *why + ": refused as a key file");
    }
    std::string text;
    char buf[8192];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw KeyError(path.string() + ": cannot be read");
        if (n == 0) break;
        text.append(buf, size_t(n));
        if (text.size() > kMaxPemBytes) throw KeyError(path.string() + ": larger than 64 KiB");
    }
    return text;
}

std::string header(Algorithm alg, const std::string& kid) {
    // Sorted keys, compact: the bytes libjwt writes for the same header.
    std::string json = std::string("{\"alg\":\"") + verify::algorithmName(alg) + "\"";
    if (!kid.empty()) json += ",\"kid\":\"" + kid + "\"";  // isValidKid: nothing to escape
    json += ",\"typ\":\"JWT\"}";
    return verify::base64UrlEncode(json);
}

// DER ECDSA signature -> JOSE R || S (RFC 7518 §3.4).
std::string joseFromDer(const unsigned char* der, size_t len) {
    const unsigned char* p = der;
    ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, long(len));
    if (!sig) throw std::runtime_error("ECDSA signature could not be decoded");
    std::string out(64, '\0');
    const BIGNUM* r = nullptr;
    const BIGNUM* s = nullptr;
    ECDSA_SIG_get0(sig, &r, &s);
    const bool ok = BN_bn2binpad(r, reinterpret_cast<unsigned char*>(out.data()), 32) == 32 &&
                    BN_bn2binpad(s, reinterpret_cast<unsigned char*>(out.data()) + 32, 32) == 32;
    ECDSA_SIG_free(sig);
    if (!ok) throw std::runtime_error("ECDSA signature out of range");
    return out;
}

}  // namespace

bool isValidKid(const std::string& kid) {
    if (kid.empty() || kid.size() > 64 || kid[0] == '.') return false;
    return std::all_of(kid.begin(), kid.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-';
    });
}

SigningKey::SigningKey(const std::string& secret)
    : alg_(Algorithm::HS256),
      encodedHeader_(header(alg_, "")),
      hmac_(std::make_unique<crypto::HmacSha256>((crypto::init(), secret))) {
    if (secret.size() < 32) throw KeyError("the HS256 secret must be at least 32 bytes");
}

SigningKey::SigningKey(verify::AsymmetricKey key)
    : alg_(key.alg), kid_(key.kid), encodedHeader_(header(alg_, kid_)), pkey_(key.pkey) {
    if (!key.hasPrivate) throw KeyError("key " + kid_ + " is a public key: it cannot sign");
}

std::string SigningKey::sign(std::string_view input) const {
    if (hmac_) return hmac_->mac(input);
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    size_t len = 0;
    const auto* data = reinterpret_cast<const unsigned char*>(input.data());
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey_.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &len, data, input.size()) != 1) {
        throw std::runtime_error("signing failed");
    }
    std::string sig(len, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, data,
                       input.size()) != 1) {
        throw std::runtime_error("signing failed");
    }
    sig.resize(len);
    if (alg_ == Algorithm::ES256) {
        return joseFromDer(reinterpret_cast<const unsigned char*>(sig.data()), sig.size());
    }
    return sig;
}

struct KeyRing::Loaded {
    verify::KeySet set;
    std::shared_ptr<const SigningKey> signing;
    std::shared_ptr<const std::string> jwks;
    std::vector<KeyInfo> infos;
    std::vector<std::string> warnings;
};

KeyRing::Loaded KeyRing::load(const KeyConfig& config) {
    Loaded out;
    if (config.external) {
        // jwt.key_store: database: DatabaseKeys installs the keys (replace()).
        if (!config.secret.empty()) out.set.setSharedSecret(config.secret);
    } else if (config.keysDir.empty()) {
        if (!config.signingKid.empty()) throw KeyError("jwt.signing_kid needs jwt.keys_dir");
        if (config.secret.empty()) throw KeyError("jwt.secret or jwt.keys_dir is required");
        out.set.setSharedSecret(config.secret);
        out.signing = std::make_shared<const SigningKey>(config.secret);
    } else {
        if (config.signingKid.empty() && config.needSigningKey) {
            throw KeyError("jwt.keys_dir needs jwt.signing_kid");
        }
        const uid_t serviceUid = config.serviceUid.value_or(::geteuid());
        struct stat dirStat {};
        if (::stat(config.keysDir.c_str(), &dirStat) != 0 || !S_ISDIR(dirStat.st_mode)) {
            throw KeyError("jwt.keys_dir " + config.keysDir + " is not a directory");
        }
        if (auto why = unsafeOwnership(dirStat, serviceUid)) {
            throw KeyError("jwt.keys_dir " + config.keysDir + " " + *why +
                           ": whoever can write there can add a trusted key");
        }
        std::error_code ec;
        std::vector<fs::path> files;
        for (const auto& entry : fs::directory_iterator(config.keysDir, ec)) {
            if (entry.path().extension() == ".pem") files.push_back(entry.path());
        }
        if (ec) throw KeyError("jwt.keys_dir " + config.keysDir + ": " + ec.message());
        std::sort(files.begin(), files.end());
        for (const auto& path : files) {
            const std::string kid = path.stem().string();
            if (!isValidKid(kid)) {
                throw KeyError(path.string() +
                               ": the name must be <kid>.pem with a kid of 1 to "
                               "64 characters [A-Za-z0-9._-]");
            }
            struct stat st {};
            const std::string pem = readKeyFile(path, serviceUid, st);
            verify::AsymmetricKey key;
            try {
                key = verify::keyFromPem(pem, kid);
            } catch (const KeyError& e) {
                throw KeyError(path.string() + ": " + e.what());
            }
            if (key.hasPrivate && (st.st_mode & 077) != 0) {
                out.warnings.push_back(path.string() +
                                       " holds a private key and is readable by group or others "
                                       "(chmod 600 it)");
            }
            if (kid == config.signingKid) {
                try {
                    out.signing = std::make_shared<const SigningKey>(key);
                } catch (const KeyError& e) {
                    throw KeyError(path.string() + ": " + e.what());
                }
            }
            out.infos.push_back({kid, verify::algorithmName(key.alg), key.hasPrivate,
                                 verify::thumbprint(key), kid == config.signingKid});
            out.set.add(std::move(key));
        }
        if (!out.signing && config.needSigningKey) {
            throw KeyError("jwt.signing_kid " + config.signingKid + ": no " + config.keysDir + "/" +
                           config.signingKid + ".pem");
        }
        if (!config.secret.empty()) out.set.setSharedSecret(config.secret);
    }
    out.jwks = std::make_shared<const std::string>(out.set.jwks().dump());
    return out;
}

KeyRing::KeyRing(const KeyConfig& config) {
    Loaded loaded = load(config);
    source_ = std::make_shared<verify::LocalKeySource>(loaded.set);
    install(std::move(loaded));
}

void KeyRing::reload(const KeyConfig& config) {
    Loaded loaded = load(config);
    source_->replace(loaded.set);
    install(std::move(loaded));
}

void KeyRing::replace(verify::KeySet set, std::shared_ptr<const SigningKey> signing,
                      std::vector<KeyInfo> infos) {
    Loaded loaded;
    loaded.jwks = std::make_shared<const std::string>(set.jwks().dump());
    loaded.set = std::move(set);
    loaded.signing = std::move(signing);
    loaded.infos = std::move(infos);
    // The signing key first: a token signed with it verifies here from the moment it is
    // issued (the new set holds it; the old one, until replaced, holds it too when it was
    // published as next).
    source_->replace(loaded.set);
    install(std::move(loaded));
}

void KeyRing::install(Loaded loaded) {
    std::lock_guard<std::mutex> lock(mu_);
    signing_ = std::move(loaded.signing);
    jwks_ = std::move(loaded.jwks);
    infos_ = std::move(loaded.infos);
    warnings_ = std::move(loaded.warnings);
}

std::shared_ptr<const SigningKey> KeyRing::signingKey() const {
    std::lock_guard<std::mutex> lock(mu_);
    return signing_;
}

std::shared_ptr<const std::string> KeyRing::jwks() const {
    std::lock_guard<std::mutex> lock(mu_);
    return jwks_;
}

std::vector<KeyInfo> KeyRing::describe() const {
    std::lock_guard<std::mutex> lock(mu_);
    return infos_;
}

std::vector<std::string> KeyRing::warnings() const {
    std::lock_guard<std::mutex> lock(mu_);
    return warnings_;
}

std::string newKid(int64_t nowMs) {
    // Sorts by creation time; 48 random bits keep two keys of one second apart.
    const std::time_t t = std::time_t(nowMs / 1000);
    std::tm utc{};
    gmtime_r(&t, &utc);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
    return std::string(stamp) + "-" + crypto::hex(crypto::randomBytes(6));
}

std::string generatePrivatePem(const std::string& algorithm) {
    EVP_PKEY* raw = nullptr;
    if (algorithm == "ES256") {
        raw = EVP_EC_gen("P-256");
    } else if (algorithm == "RS256") {
        raw = EVP_RSA_gen(2048);
    } else {
        throw KeyError("algorithm must be ES256 or RS256");
    }
    if (!raw) throw KeyError("key generation failed");
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey(raw, EVP_PKEY_free);
    return privatePemOf(pkey.get());
}

std::string privatePemOf(EVP_PKEY* pkey) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    if (!bio || !PEM_write_bio_PrivateKey(bio.get(), pkey, nullptr, nullptr, 0, nullptr, nullptr)) {
        throw KeyError("PEM encoding failed");
    }
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio.get(), &data);
    std::string pem(data, size_t(len));
    OPENSSL_cleanse(data, size_t(len));
    return pem;
}

std::string generateKeyFile(const std::string& dir, const std::string& algorithm, std::string kid,
                            int64_t nowMs) {
    if (dir.empty()) throw KeyError("jwt.keys_dir is not set");
    if (kid.empty()) kid = newKid(nowMs);
    if (!isValidKid(kid)) throw KeyError("kid must be 1 to 64 characters [A-Za-z0-9._-]");
    std::string pem = generatePrivatePem(algorithm);
    const char* data = pem.data();
    const long len = long(pem.size());

    std::error_code ec;
    if (!fs::exists(dir, ec)) {
        fs::create_directories(dir, ec);
        if (ec) throw KeyError("cannot create " + dir + ": " + ec.message());
        ::chmod(dir.c_str(), 0700);
    }
    // Only the write bits: the CLI may run as another user than the service (e.g. root).
    struct stat dirStat {};
    if (::stat(dir.c_str(), &dirStat) == 0 && (dirStat.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        throw KeyError("jwt.keys_dir " + dir +
                       " is writable by group or others (chmod go-w it): the service would "
                       "refuse its keys");
    }
    const std::string path = (fs::path(dir) / (kid + ".pem")).string();
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        throw KeyError(path + (errno == EEXIST ? ": exists (never overwritten)"
                                               : ": " + std::string(std::strerror(errno))));
    }
    const bool written = ::write(fd, data, size_t(len)) == len;
    const bool closed = ::close(fd) == 0;
    if (!written || !closed) {
        ::unlink(path.c_str());
        throw KeyError(path + ": write failed");
    }
    OPENSSL_cleanse(pem.data(), pem.size());
    return kid;
}

}  // namespace authsvc::models
