#include "app/KeysCommand.h"

#include <iostream>

#include "verify/Clock.h"

namespace authsvc::app {

models::KeyConfig keyConfig(const JwtConfig& jwt) {
    models::KeyConfig c{jwt.secret, jwt.keysDir, jwt.signingKid};
    c.external = jwt.keyStore == "database";
    return c;
}

std::string describeKeys(const models::KeyRing& keys) {
    std::string out;
    for (const auto& k : keys.describe()) {
        if (!out.empty()) out += ", ";
        out += k.kid + " (" + k.algorithm + (k.signs ? ", signs)" : ")");
    }
    if (!keys.source()->keys()->sharedSecret().empty()) {
        if (!out.empty()) out += ", ";
        out += keys.describe().empty() ? "HS256 secret (signs)" : "HS256 secret (verifies only)";
    }
    return out;
}

int keysGenerate(const Config& config, const std::string& algorithm, const std::string& kid) {
    try {
        const std::string made = models::generateKeyFile(config.jwt.keysDir, algorithm, kid,
                                                         verify::SystemClock().nowMs());
        std::cout << made << "\n";
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "authsvc: keys generate: " << e.what() << "\n";
        return 1;
    }
}

namespace {
// The keys as configured, for list and jwks.
std::unique_ptr<models::KeyRing> loadRing(const Config& config) {
    models::KeyConfig c = keyConfig(config.jwt);
    c.needSigningKey = false;
    return std::make_unique<models::KeyRing>(c);
}
}  // namespace

int keysList(const Config& config) {
    try {
        auto ring = loadRing(config);
        for (const auto& k : ring->describe()) {
            std::cout << k.kid << " " << k.algorithm << " " << (k.hasPrivate ? "private" : "public")
                      << " " << k.thumbprint << (k.signs ? " signing" : "") << "\n";
        }
        if (!config.jwt.secretGenerated && !config.jwt.secret.empty()) {
            std::cout << "(no kid) HS256 secret - "
                      << (config.jwt.keysDir.empty() ? "signing" : "verify-only") << "\n";
        }
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "authsvc: keys list: " << e.what() << "\n";
        return 1;
    }
}

int keysJwks(const Config& config) {
    try {
        std::cout << *loadRing(config)->jwks() << "\n";
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "authsvc: keys jwks: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace authsvc::app
