// bench_es256: the ES256 figures of bench/run.sh that need no HTTP.
//   bench_es256 rates SECONDS
//     raw OpenSSL ES256 sign and verify rates on the calling thread (pin it), with a key
//     parsed once, and the same through verify::Verifier with a distinct token per call
//     (cache off), and through libjwt 1.10's jwt_decode with the public PEM (which it
//     parses again on every call): "sign=N verify=N verifier=N libjwt=N" (per second).
//   bench_es256 mint KEYS_DIR KID COUNT OUT_FILE SUB
//     COUNT distinct access tokens for user SUB signed by <KEYS_DIR>/<KID>.pem through
//     models::TokenService (the server's own issuing path), one per line, for the
//     "protected, distinct ES256 tokens" scenario.
#include <jwt.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "bench/run_for.h"
#include "services/KeyRing.h"
#include "services/TokenService.h"
#include "verify/Verifier.h"

using namespace authsvc;

namespace {

int rates(double seconds) {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    const std::string msg(300, 'm');
    std::string sig(80, '\0');
    size_t sigLen = sig.size();
    long signs = 0, verifies = 0;
    double t = bench::runFor(1, seconds / 4, [&] {
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        sigLen = sig.size();
        EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key);
        EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &sigLen,
                       reinterpret_cast<const unsigned char*>(msg.data()), msg.size());
        EVP_MD_CTX_free(ctx);
        ++signs;
        return true;
    });
    const double signRate = signs / t;
    t = bench::runFor(1, seconds / 4, [&] {
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key);
        const bool ok =
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sigLen,
                             reinterpret_cast<const unsigned char*>(msg.data()), msg.size()) == 1;
        EVP_MD_CTX_free(ctx);
        ++verifies;
        return ok;
    });
    const double verifyRate = verifies / t;
    EVP_PKEY_free(key);

    // The same through the library other services link: distinct tokens, cache off.
    const std::string dir = "/tmp/authsvc-bench-es256-" + std::to_string(::getpid());
    const std::string kid = models::generateKeyFile(dir, "ES256", "bench", 0);
    models::KeyRing ring(models::KeyConfig{"", dir, kid});
    verify::SystemClock clock;
    models::TokenService issuer({"authsvc", "authsvc-clients", 3600'000}, ring, clock);
    std::vector<std::string> tokens;
    for (int i = 0; i < 2000; ++i) tokens.push_back(issuer.issue(std::to_string(i), "f"));
    verify::VerifierOptions options{"authsvc", "authsvc-clients"};
    options.cacheEntries = 0;
    verify::Verifier verifier(options, ring.source(), clock);
    size_t next = 0;
    long verified = 0;
    t = bench::runFor(1, seconds / 4, [&] {
        const bool ok = bool(verifier.verifyToken(tokens[next++ % tokens.size()]));
        ++verified;
        return ok;
    });
    const double verifierRate = verified / t;
    const std::string pem = verify::publicPem(*ring.source()->keys()->find(kid));
    long decoded = 0;
    t = bench::runFor(1, seconds / 4, [&] {
        jwt_t* j = nullptr;
        const bool ok =
            jwt_decode(&j, tokens[next++ % tokens.size()].c_str(),
                       reinterpret_cast<const unsigned char*>(pem.data()), int(pem.size())) == 0;
        jwt_free(j);
        ++decoded;
        return ok;
    });
    std::filesystem::remove_all(dir);
    std::cout << "sign=" << long(signRate) << " verify=" << long(verifyRate)
              << " verifier=" << long(verifierRate) << " libjwt=" << long(decoded / t) << "\n";
    return 0;
}

int mint(const std::string& dir, const std::string& kid, long count, const std::string& out,
         const std::string& sub) {
    models::KeyRing ring(models::KeyConfig{"", dir, kid});
    verify::SystemClock clock;
    models::TokenService issuer({"authsvc", "authsvc-clients", 3600'000}, ring, clock);
    std::ofstream file(out);
    for (long i = 0; i < count; ++i)
        file << issuer.issue(sub, "bench-" + std::to_string(i)) << "\n";
    return file ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const std::string cmd = argc > 1 ? argv[1] : "";
        if (cmd == "rates" && argc == 3) return rates(std::stod(argv[2]));
        if (cmd == "mint" && argc == 7) {
            return mint(argv[2], argv[3], std::stol(argv[4]), argv[5], argv[6]);
        }
    } catch (const std::exception& e) {
        std::cerr << "bench_es256: " << e.what() << "\n";
        return 1;
    }
    std::cerr << "usage: bench_es256 rates SECONDS | mint KEYS_DIR KID COUNT OUT_FILE SUB\n";
    return 2;
}
